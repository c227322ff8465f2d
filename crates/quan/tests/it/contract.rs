//! Contracts checked mechanically: the committed OpenAPI document and the
//! two migration folders.

use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_committed_openapi_json_matches_the_code() {
    let committed = std::fs::read_to_string(repo_root().join("openapi.json")).unwrap_or_default();
    let generated = quan_http::openapi_json();
    assert!(
        committed == generated,
        "openapi.json is stale; regenerate it with `cargo run -q -p quan -- openapi > openapi.json` and commit it"
    );
}

#[test]
fn every_path_in_the_openapi_document_states_its_roles() {
    let doc: serde_json::Value = serde_json::from_str(&quan_http::openapi_json()).unwrap_or_default();
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let text = format!("{} {}", op["summary"].as_str().unwrap_or(""), op["description"].as_str().unwrap_or(""));
            assert!(text.contains("Roles:"), "{method} {path} does not state its roles");
        }
    }
}

#[test]
fn every_operation_has_its_own_operation_id() {
    let doc: serde_json::Value = serde_json::from_str(&quan_http::openapi_json()).unwrap_or_default();
    let mut seen = std::collections::BTreeMap::new();
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            if let Some(first) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId `{id}` names both {first} and {method} {path}: generated clients need them unique");
            }
        }
    }
}

fn migration_files(backend: &str) -> Vec<String> {
    let dir = repo_root().join(format!("crates/quan-store-{backend}/migrations"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert_eq!(sqlite, postgres, "the migration folders must hold the same versions and names");
    let embedded = |m: &[quan_store::Migration]| m.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
    assert_eq!(embedded(quan_store_sqlite::MIGRATIONS), embedded(quan_store_postgres::MIGRATIONS));
    let from_files: Vec<(i64, String)> = sqlite
        .iter()
        .filter_map(|f| {
            let stem = f.strip_suffix(".sql")?;
            let (v, name) = stem.split_once('_')?;
            Some((v.parse().ok()?, name.to_owned()))
        })
        .collect();
    let embedded_owned: Vec<(i64, String)> =
        quan_store_sqlite::MIGRATIONS.iter().map(|m| (m.version, m.name.to_owned())).collect();
    assert_eq!(from_files, embedded_owned, "every migration file is embedded, in order");
}
