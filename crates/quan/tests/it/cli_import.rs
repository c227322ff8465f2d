//! `quan import merchants`: 50 000 rows with 1% bad rows end with an exact
//! error report, and a second import of the same file creates nothing.

use std::fmt::Write as _;
use std::process::Command;

use quan_store::conformance::credit_code;

const ROWS: u32 = 50_000;

/// The bad rows: every 100th row, five kinds of mistake in turn.
fn bad_kind(i: u32) -> Option<u32> {
    (i % 100 == 37).then_some((i / 100) % 5)
}

fn build_csv() -> (String, Vec<String>) {
    let mut csv = String::from(
        "legal_name,credit_code,industry,scale,address,address_district,lat,lng,contact_name,contact_phone,bank_name,account_name,account_number\n",
    );
    let mut expected = Vec::new();
    for i in 0..ROWS {
        let line = i + 2;
        let mut code = credit_code(100_000 + i).to_string();
        let (mut industry, mut district, mut phone) = ("catering", "420502", "13812345678".to_owned());
        match bad_kind(i) {
            Some(0) => {
                let last = code.pop().unwrap_or('0');
                code.push(if last == '0' { '1' } else { '0' });
                expected.push(format!("{line},credit_code,credit_code_check_digit"));
            }
            Some(1) => {
                industry = "bakery";
                expected.push(format!("{line},industry,unknown_industry"));
            }
            Some(2) => {
                district = "330109";
                expected.push(format!("{line},address_district,district_outside_region"));
            }
            Some(3) => {
                phone = "12345".into();
                expected.push(format!("{line},contact_phone,bad_phone"));
            }
            Some(_) => {
                code = credit_code(100_000 + i - 1).to_string();
                expected.push(format!("{line},credit_code,duplicate_in_file"));
            }
            None => {}
        }
        let _ = writeln!(
            csv,
            "宜昌商户{i}有限公司,{code},{industry},small,西陵区{i}号,{district},30.7,111.29,李四,{phone},中国银行,宜昌商户{i},62220202{i:08}"
        );
    }
    (csv, expected)
}

fn quan(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quan"));
    c.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("QUAN_") {
            c.env_remove(k);
        }
    }
    c.output().unwrap_or_else(|e| panic!("{e}"))
}

fn report_lines(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records().flatten().map(|rec| format!("{},{},{}", &rec[0], &rec[1], &rec[2])).collect()
}

#[test]
fn fifty_thousand_rows_with_one_percent_bad_end_with_an_exact_error_report() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = quan(
        dir.path(),
        &["admin", "create-user", "--role", "operator", "--region", "4205", "--username", "yichang.operator"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (csv, expected) = build_csv();
    assert_eq!(expected.len(), 500);
    let file = dir.path().join("merchants.csv");
    std::fs::write(&file, csv).unwrap_or_else(|e| panic!("{e}"));

    let out = quan(dir.path(), &["import", "merchants", "merchants.csv", "--as", "yichang.operator", "--quiet"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("50000 rows: 49500 imported, 0 already registered, 500 refused"), "{stdout}");
    eprintln!("first import: {stdout}");
    let report = dir.path().join("merchants.errors.csv");
    assert_eq!(report_lines(&report), expected, "the report lists exactly the bad rows, by line, field and rule");

    let out = quan(dir.path(), &["import", "merchants", "merchants.csv", "--as", "yichang.operator", "--quiet"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.starts_with("50000 rows: 0 imported, 49500 already registered, 500 refused"),
        "importing again creates nothing: {stdout}"
    );
    eprintln!("second import: {stdout}");
}

#[test]
fn a_file_without_the_expected_columns_is_refused_before_anything_is_imported() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    quan(
        dir.path(),
        &["admin", "create-user", "--role", "operator", "--region", "4205", "--username", "yichang.operator"],
    );
    std::fs::write(dir.path().join("m.csv"), "legal_name,credit_code\nx,y\n").unwrap_or_else(|e| panic!("{e}"));
    let out = quan(dir.path(), &["import", "merchants", "m.csv", "--as", "yichang.operator"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the header has no `industry` column"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header = "legal_name,credit_code,industry,scale,address,address_district,lat,lng,contact_name,contact_phone,bank_name,account_name,account_number\n";
    std::fs::write(dir.path().join("ok.csv"), header).unwrap_or_else(|e| panic!("{e}"));
    let out = quan(dir.path(), &["import", "merchants", "ok.csv", "--as", "nobody.here"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no enabled account `nobody.here`"));
}

#[test]
fn districts_and_lists_are_imported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson");
    let yichang = data.join("420500-yichang.geojson");
    let hangzhou = data.join("330100-hangzhou.geojson");
    let out = quan(dir.path(), &["import", "districts", &yichang.to_string_lossy(), &hangzhou.to_string_lossy()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("13 new districts, 0 replaced") && stdout.ends_with("26 districts are now indexed\n"),
        "{stdout}"
    );
    let out = quan(dir.path(), &["import", "districts", "--crs", "utm", &yichang.to_string_lossy()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--crs `utm`"));

    quan(
        dir.path(),
        &["admin", "create-user", "--role", "official", "--region", "4205", "--username", "yichang.official"],
    );
    let id = |body: &str| format!("{body}{}", quan_domain::id_number::check_char(body.as_bytes()).unwrap_or('?'));
    let csv = format!(
        "id_number\n{}\n{}\n123\n{}\n",
        id("42050219800101123"),
        id("42050219800101123"),
        id("42050219900101123")
    );
    std::fs::write(dir.path().join("winners.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
    let out =
        quan(dir.path(), &["import", "list", "winners.csv", "--name", "winners-2027", "--as", "yichang.official"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.starts_with("list `winners-2027`: 4 rows, 2 added, 1 already on the list or repeated, 1 invalid"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report_lines(&dir.path().join("winners.errors.csv")), vec!["4,id,id_number_length".to_owned()]);
}

#[test]
fn the_district_benchmark_runs_and_agrees_with_the_linear_scan() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = quan(&dir, &["bench", "districts", "--points", "20000", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!((v["districts"].as_u64(), v["disagreements"].as_u64()), (Some(50), Some(0)), "{v}");
    assert!(v["ratio_index_to_linear"].as_f64().is_some_and(|r| r > 1.0), "{v}");
}

/// `quan bench claim --json` with `args` (small sizes, no peers), its JSON;
/// `None` when PostgreSQL is unreachable outside CI.
fn bench_claim(args: &[&str]) -> Option<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_quan"));
    c.current_dir(dir.path()).args(["bench", "claim", "--json", "--stock", "300", "--residents", "600"]);
    c.args(["--concurrency", "50", "--skip-peers"]).args(args);
    c.env("RUST_LOG", "warn");
    let out = c.output().unwrap_or_else(|e| panic!("{e}"));
    if String::from_utf8_lossy(&out.stderr).contains("PostgreSQL for the benchmark") && std::env::var("CI").is_err() {
        eprintln!("SKIPPED: PostgreSQL unreachable for the claim benchmark");
        return None;
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap_or_default())
}

#[test]
fn the_claim_benchmark_runs_its_engine_legs_beside_the_database_alone_and_keeps_the_invariants() {
    let Some(v) = bench_claim(&[]) else { return };
    let runs = v["runs"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = runs.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names.len(), 4, "{v}");
    assert!(names[0].contains("engine, SQLite") && names[1].contains("database alone, SQLite"), "{names:?}");
    assert!(names[2].contains("engine, PostgreSQL") && names[3].contains("database alone, PostgreSQL"), "{names:?}");
    for r in &runs {
        assert!(r["invariants"].as_str().is_some_and(|s| s.starts_with("ok")), "{r}");
        assert_eq!(r["claimed"], 300, "{r}");
        let cpu = &r["cpu"];
        assert_eq!(cpu["cores"].as_u64(), std::thread::available_parallelism().ok().map(|n| n.get() as u64), "{r}");
        assert!(
            cpu["busy_cores"].as_f64().is_some_and(|b| b > 0.0 && b <= cpu["cores"].as_f64().unwrap_or(0.0) + 0.01)
        );
        assert!(cpu["cpu_us_each"].as_f64().is_some_and(|us| us > 0.0), "{r}");
    }
    // 50 in flight: one SQLite commit at a time, four PostgreSQL commits.
    assert!(runs[1]["invariants"].as_str().is_some_and(|s| s.contains("50 a transaction, 1 at once")), "{v}");
    assert!(runs[3]["invariants"].as_str().is_some_and(|s| s.contains("12 a transaction, 4 at once")), "{v}");
    for ratio in ["sqlite_engine_over_database_alone", "pg_engine_over_database_alone"] {
        assert!(v["ratios"][ratio].as_f64().is_some_and(|x| x > 0.0), "{ratio}: {v}");
    }
}

#[test]
fn the_http_claim_benchmark_measures_the_bare_axum_floor_beside_quans_sold_out_answers() {
    let Some(v) = bench_claim(&["--connections", "20", "--memory-seconds", "1", "--http", "--backend", "sqlite"])
    else {
        return;
    };
    let runs = v["runs"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = runs.iter().filter_map(|r| r["name"].as_str()).collect();
    let floor = runs.iter().find(|r| r["name"].as_str().is_some_and(|n| n.starts_with("HTTP floor")));
    let floor = floor.unwrap_or_else(|| panic!("no floor run among {names:?}"));
    assert_eq!(floor["invariants"], "ok: every answer 409 sold_out", "{floor}");
    assert!(floor["answers_per_s"].as_f64().is_some_and(|a| a > 0.0), "{floor}");
    assert!(floor["cpu"]["cpu_us_each"].as_f64().is_some_and(|us| us > 0.0), "the machine's CPU an answer: {floor}");
    let memory = runs.iter().find(|r| r["name"].as_str().is_some_and(|n| n.contains("SQLite, sold-out")));
    assert!(
        memory.is_some_and(|m| m["invariants"].as_str().is_some_and(|i| i.starts_with("ok: every answer"))),
        "{names:?}"
    );
    assert!(v["ratios"]["memory_answers_sqlite_over_http_floor"].as_f64().is_some_and(|r| r > 0.0), "{v}");
    assert!(v["ratios"]["memory_answers_postgres_over_http_floor"].is_null(), "{v}");
}
