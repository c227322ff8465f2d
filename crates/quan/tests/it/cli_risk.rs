//! `quan risk …` as an operator runs it: the cases listed, a case's
//! evidence package exported into a new directory, verified (and a changed
//! file named), the deployment's public key printed; the package checked by
//! gmssl, an SM2/SM3 implementation independent of quan's.

use std::process::Command;

use quan_store::CaseStore as _;

use crate::cli::text;

/// The binary run to its end, as `cli.rs` runs it (the caller's QUAN_* removed).
fn quan(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    crate::cli::quan(dir, args).output().unwrap_or_else(|e| panic!("{e}"))
}

/// Whether gmssl (`scripts/verify_evidence.py`) finds the package in `dir`
/// signed by `key` with every file intact; it must, as `ok` says. Without
/// Python's gmssl the check is skipped, except in CI (`CI=true`), where it fails.
pub fn gmssl_verifies(dir: &std::path::Path, key: &str, ok: bool) {
    let has = Command::new("python3").args(["-c", "import gmssl"]).output().is_ok_and(|o| o.status.success());
    if !has {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "gmssl is missing in CI: pip install gmssl");
        eprintln!("skipped: gmssl is not installed (pip install gmssl)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/verify_evidence.py");
    let out = Command::new("python3").arg(script).arg(dir).arg(key).output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.success(), ok, "{}{}", text(&out.stdout), text(&out.stderr));
}

#[tokio::test]
async fn a_case_is_exported_verified_and_a_changed_file_is_named() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    assert!(quan(dir.path(), &["migrate"]).status.success());
    let db = dir.path().join("quan-data/quan.db");
    let store = quan_store_sqlite::SqliteStore::open(&db, quan_store_sqlite::SqliteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let case = quan_store::NewCase {
        id: uuid::Uuid::now_v7(),
        kind: "merchant",
        subject: "merchant:x:hugging".into(),
        source: "threshold_hugging".into(),
        district: "420502".into(),
        campaign: None,
        score: 12,
        summary: "门槛凑单：商户「=CMD」的 20 笔满减核销中有 12 笔订单金额仅略高于使用门槛。".into(),
        evidence: serde_json::json!({"merchants": [{"id": "m1", "name": "<b>店</b>"}], "residents": ["r1"],
            "edges": [{"resident": "r1", "merchant": "m1", "redemptions": 3, "hugging": 3}],
            "redemptions": [{"id": "=1+1", "resident": "r1", "merchant": "m1", "order_fen": 10050, "subsidy_fen": 2000, "redeemed_at": "2026-12-05T04:00:00Z"}]})
        .to_string(),
        amount: quan_domain::Fen::new(2_000),
        members: vec![quan_store::CaseMember { kind: "merchant", id: "m1".into() }],
        at: chrono::Utc::now(),
    };
    store.open_case(&case).await.unwrap_or_else(|e| panic!("{e}"));
    store.close().await;

    let out = quan(dir.path(), &["risk", "cases", "--open"]);
    assert!(out.status.success() && text(&out.stdout).contains("threshold_hugging"), "{}", text(&out.stdout));
    let out = quan(dir.path(), &["risk", "export", "1", "--out", "pkg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("manifest.sig"), "{}", text(&out.stdout));
    let again = quan(dir.path(), &["risk", "export", "1", "--out", "pkg"]);
    assert!(!again.status.success() && text(&again.stderr).contains("must not exist"), "never written over");
    let csv = std::fs::read_to_string(dir.path().join("pkg/redemptions.csv")).unwrap_or_default();
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("'=1+1,") && csv.contains("100.50,20.00,2026-12-05 12:00:00"),
        "{csv}"
    );
    let svg = std::fs::read_to_string(dir.path().join("pkg/graph.svg")).unwrap_or_default();
    assert!(svg.contains("&lt;b&gt;店") && !svg.contains("<b>"), "names are escaped: {svg}");
    let out = quan(dir.path(), &["risk", "verify", "pkg"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let key = text(&quan(dir.path(), &["risk", "public-key"]).stdout).trim().to_owned();
    assert_eq!(key.len(), 130, "{key}");
    gmssl_verifies(&dir.path().join("pkg"), &key, true);

    std::fs::write(dir.path().join("pkg/summary.txt"), "改过的摘要").unwrap_or_else(|e| panic!("{e}"));
    let out = quan(dir.path(), &["risk", "verify", "pkg"]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("summary.txt differs from its SHA-256"), "{}", text(&out.stdout));
    gmssl_verifies(&dir.path().join("pkg"), &key, false);
    let other = "04".to_owned() + &"1".repeat(128);
    gmssl_verifies(&dir.path().join("pkg"), &other, false);
}
