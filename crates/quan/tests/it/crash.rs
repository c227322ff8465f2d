//! The crash test of the flash claim: the real server killed with SIGKILL
//! at random moments during a grab, restarted, and the invariants checked
//! (`quan bench claim --crash N`), on SQLite and on PostgreSQL.

use std::process::Command;

/// Both backends when PostgreSQL answers (always in CI, where a skip is an
/// error); SQLite alone otherwise, saying so.
fn backends() -> &'static str {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let url = std::env::var("QUAN_TEST_PG_URL").unwrap_or_default();
    let local = url.is_empty() || url.contains("127.0.0.1:5432");
    let reachable = std::net::TcpStream::connect("127.0.0.1:5432").is_ok();
    if ci || !local || reachable {
        "both"
    } else {
        eprintln!("SKIPPED: the PostgreSQL leg of the crash test (PostgreSQL at 127.0.0.1:5432 unreachable)");
        "sqlite"
    }
}

#[test]
fn every_acknowledged_claim_survives_sigkills_and_nothing_is_oversold() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_quan"))
        .current_dir(dir.path())
        .args(["bench", "claim", "--crash", "5", "--stock", "1500", "--residents", "2500", "--connections", "64"])
        .args(["--backend", backends(), "--json"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "crash test failed:\n{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let reports = v["crash"].as_array().cloned().unwrap_or_default();
    assert!(!reports.is_empty(), "{v}");
    for r in reports {
        assert_eq!(r["kills"], 5, "{r}");
        assert_eq!(r["problems"].as_array().map(Vec::len), Some(0), "{r}");
        let stored = r["stored"].as_u64().unwrap_or(0);
        let acknowledged = r["acknowledged"].as_u64().unwrap_or(u64::MAX);
        // Every resident ends with an answer, so the stock is gone and every
        // stored claim but those answered by nobody (killed mid-answer) was acknowledged.
        assert_eq!(stored, 1500, "{r}");
        assert!(acknowledged <= stored && acknowledged > 0, "{r}");
    }
}
