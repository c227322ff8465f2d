//! The real `quan` binary, as an operator runs it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const QUAN: &str = env!("CARGO_BIN_EXE_quan");

pub(crate) fn quan(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(QUAN);
    c.current_dir(dir).args(args).env("QUAN_LOG_FORMAT", "text").env_remove("RUST_LOG");
    // Keep the caller's QUAN_* variables from changing what is tested.
    for (k, _) in std::env::vars() {
        if k.starts_with("QUAN_") && k != "QUAN_LOG_FORMAT" {
            c.env_remove(k);
        }
    }
    c
}

pub(crate) fn run(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = quan(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut s) = child.stdin.take() {
        s.write_all(stdin.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"))
}

fn http(addr: SocketAddr, request: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &std::path::Path) -> (Server, SocketAddr) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server(
        quan(dir, &["serve", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let addr: SocketAddr = listen.parse().unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http(addr, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
        {
            return (server, addr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("quan serve did not become ready on {addr}");
}

#[test]
fn help_names_every_subcommand() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = run(dir.path(), &["--help"], "");
    let help = text(&out.stdout);
    for cmd in ["serve", "migrate", "admin", "openapi", "config"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn the_first_official_is_created_from_the_command_line_and_logs_in_over_http() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = run(
        dir.path(),
        &["admin", "create-user", "--role", "official", "--region", "4205", "--username", "yichang.admin"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let pw = stdout.lines().find_map(|l| l.strip_prefix("password: ")).unwrap_or_default().to_owned();
    assert_eq!(pw.len(), 20, "{stdout}");
    let again = run(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--role",
            "auditor",
            "--region",
            "4205",
            "--username",
            "yichang.audit",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("at least 12 characters"), "{}", text(&again.stderr));
    let bad =
        run(dir.path(), &["admin", "create-user", "--role", "king", "--region", "4205", "--username", "x.y.z"], "");
    assert!(text(&bad.stderr).contains("`king` is not a role"), "{}", text(&bad.stderr));

    let (_server, addr) = start_server(dir.path());
    let body = format!("{{\"username\":\"yichang.admin\",\"password\":\"{pw}\"}}");
    let req = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let resp = http(addr, &req).unwrap_or_default();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"token\":\"qn_"), "{resp}");
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (mut server, addr) = start_server(dir.path());
    let body = r#"{"username":"nobody","password":"whatever"}"#;
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap_or_else(|e| panic!("{e}"));
    // The headers go now; the body only after the signal.
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    // Long enough for the server to have read the headers even on a busy machine.
    std::thread::sleep(Duration::from_millis(600));
    let killed =
        Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap_or_else(|e| panic!("{e}"));
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    let resp = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(resp.starts_with("HTTP/1.1 401"), "the request in flight is answered: {resp:?}");
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = server.0.try_wait().unwrap_or(None) {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "quan did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_unreachable_database_fails_start_up_with_one_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = run(dir.path(), &["migrate", "--database-url", "postgres://quan:secret@127.0.0.1:1/quan"], "");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: cannot open the database (postgres://quan:***@127.0.0.1:1/quan)"), "{err}");
    assert!(!err.contains("secret"), "the password is never printed: {err}");
    let out = run(dir.path(), &["migrate", "--database-url", "mysql://x"], "");
    assert!(text(&out.stderr).contains("must start with postgres://"), "{}", text(&out.stderr));
}

#[test]
fn unknown_settings_are_warned_about_by_name() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("quan.toml"), "[server]\nlisen = \"0.0.0.0:80\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = quan(dir.path(), &["config"]).env("QUAN_DATABSE_URL", "x").output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("`server.lisen`") && err.contains("`QUAN_DATABSE_URL`"), "{err}");
    assert!(text(&out.stdout).contains("listen = \"127.0.0.1:8080\""));
}

#[test]
fn migrate_reports_the_database_and_openapi_prints_the_document() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = run(dir.path(), &["migrate"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("quan-data/quan.db"), "the default is SQLite under ./quan-data");
    assert!(dir.path().join("quan-data/quan.db").exists());
    let out = run(dir.path(), &["openapi"], "");
    assert_eq!(text(&out.stdout), quan_http::openapi_json());
}

#[tokio::test]
async fn audit_verify_passes_on_clean_books_and_fails_naming_a_difference() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    run(
        dir.path(),
        &["admin", "create-user", "--role", "official", "--region", "4205", "--username", "yichang.admin"],
        "",
    );
    // A campaign that opens ten days from now, whatever the date.
    let today = chrono::Utc::now().with_timezone(&quan_domain::UTC8).date_naive();
    let (start, end) = (today + chrono::Days::new(10), today + chrono::Days::new(40));
    let file = dir.path().join("c.toml");
    let toml = format!(
        "[campaign]\nname = \"审计测试\"\nregion = \"4205\"\nbudget_fen = 100000\nfunding_source = \"财政\"\nstarts_on = {start}\nends_on = {end}\n\n\
         [[batches]]\nname = \"一\"\nopening_at = {start}T10:00:00+08:00\nclosing_at = {start}T22:00:00+08:00\n\
         kinds = [{{ stock = 10, kind = {{ code = \"k\", name = \"立减\", discount = {{ type = \"instant\", off_fen = 1000 }}, validity = {{ type = \"days_after_claim\", days = 3 }} }} }}]\n"
    );
    std::fs::write(&file, toml).unwrap_or_else(|e| panic!("{e}"));
    let created =
        run(dir.path(), &["campaign", "create", "--file", &file.to_string_lossy(), "--as", "yichang.admin"], "");
    assert!(created.status.success(), "{}", text(&created.stderr));
    let out = run(dir.path(), &["audit", "verify"], "");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("1 campaigns audited, no differences"), "{}", text(&out.stdout));
    // Tamper with the database file behind quan's back.
    let db = dir.path().join("quan-data/quan.db");
    let store = quan_store_sqlite::SqliteStore::open(&db, quan_store_sqlite::SqliteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("INSERT INTO ledger_accounts (key, campaign_id, kind, debits_fen, credits_fen, has_floor) SELECT 'x', id, 'available', 0, 7, 1 FROM campaigns")
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store.close().await;
    let out = run(dir.path(), &["audit", "verify"], "");
    assert!(!out.status.success());
    let report = text(&out.stdout);
    assert!(
        report.contains("DIFFERENCE debits_differ_from_credits") && report.contains("DIFFERENCES FOUND"),
        "{report}"
    );
    assert!(text(&out.stderr).contains("the audit found differences"));
}

#[test]
fn settle_writes_a_payout_file_and_confirm_reports_every_mismatch() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = run(dir.path(), &["settle", "--date", "2026-11-01", "--out", "payouts"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("business day 2026-11-01: 0 settlement rows"), "{}", text(&out.stdout));
    let payout = std::fs::read_to_string(dir.path().join("payouts/payout-2026-11-01.csv")).unwrap_or_default();
    assert!(payout.starts_with("\u{feff}settlement_id,business_day,campaign_id,credit_code"), "{payout}");
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("payouts/payout-2026-11-01.xlsx"))
            .unwrap_or_else(|e| panic!("{e}"));
        let sheet = wb.worksheet_range("付款").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sheet.rows().count(), 1, "the header only: nothing to pay");
    }
    let bad = run(dir.path(), &["settle", "--date", "5 Dec"], "");
    assert!(text(&bad.stderr).contains("--date must be a day like 2026-12-05"), "{}", text(&bad.stderr));
    std::fs::write(
        dir.path().join("bank.csv"),
        "settlement_id,paid_fen,bank_ref\n0190f0f0-0000-7000-8000-000000000001,100,X\nnot-an-id,5,Y\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let c = run(dir.path(), &["settle", "confirm", "bank.csv"], "");
    assert!(!c.status.success());
    let said = text(&c.stdout);
    assert!(said.contains("MISMATCH: no such settlement") && said.contains("line 3: not a settlement id"), "{said}");
}

#[test]
fn reconcile_reports_unknown_orders_and_unreadable_lines_and_fails() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("bill.csv"),
        "order_id,amount,discount,time\nX-1,128.00,20.00,2026-12-05T12:00:00+08:00\nX-2,12.345,0,2026-12-05T12:00:00+08:00\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = run(dir.path(), &["settle", "reconcile", "bill.csv"], "");
    assert!(!out.status.success());
    let said = text(&out.stdout);
    assert!(said.contains("2 bill lines: 0 matched, 1 differences, 1 unreadable"), "{said}");
    assert!(said.contains("line 3: unreadable: amount `12.345`"), "{said}");
    let report = std::fs::read_to_string(dir.path().join("bill.csv.mismatches.csv")).unwrap_or_default();
    assert!(report.contains("2,X-1,not_in_quan"), "{report}");
}

fn post_json(addr: SocketAddr, path: &str, token: Option<&str>, body: &str) -> String {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(addr, &req).unwrap_or_default()
}

fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> String {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n")).unwrap_or_default()
}

/// The value of a metric without labels in a `/metrics` answer.
fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    get(addr, "/metrics", None).lines().find_map(|l| l.strip_prefix(&format!("{name} ")).and_then(|v| v.parse().ok()))
}

#[test]
fn two_servers_on_one_database_share_a_residents_logout_within_a_second_and_load_live_sessions_at_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_a, a) = start_server(dir.path());
    let (_b, b) = start_server(dir.path());
    // A resident logs in on node a with the code from the SMS outbox.
    let resp = post_json(a, "/api/v1/auth/sms-codes", None, r#"{"phone":"13700001111"}"#);
    assert!(resp.starts_with("HTTP/1.1 2"), "{resp}");
    let outbox = std::fs::read_to_string(dir.path().join("quan-data/sms-outbox.jsonl")).unwrap_or_default();
    let code = outbox.split("\"code\":\"").nth(1).and_then(|s| s.get(..6)).unwrap_or_default().to_owned();
    let resp =
        post_json(a, "/api/v1/auth/sms-codes/verify", None, &format!(r#"{{"phone":"13700001111","code":"{code}"}}"#));
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let token = resp.split("\"token\":\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned();
    assert!(get(b, "/api/v1/me", Some(&token)).starts_with("HTTP/1.1 200"), "the token works on node b");
    // A third node started now loads the live session before it listens.
    let (_c, c) = start_server(dir.path());
    assert_eq!(metric(c, "quan_sessions_remembered"), Some(1.0), "loaded at start");

    // Logged out on a: node b follows the sessions and forgets the token
    // within a round (a second), not after its 5 s window.
    let resp = post_json(a, "/api/v1/auth/logout", Some(&token), "{}");
    assert!(resp.starts_with("HTTP/1.1 204"), "{resp}");
    let t = Instant::now();
    for node in [b, c] {
        while get(node, "/api/v1/me", Some(&token)).starts_with("HTTP/1.1 200") {
            assert!(t.elapsed() < Duration::from_secs(4), "{node} still accepts the token after {:?}", t.elapsed());
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(get(node, "/api/v1/me", Some(&token)).starts_with("HTTP/1.1 401"));
    }
}

#[test]
fn a_campaign_is_checked_for_boundaries_and_run_from_the_shell_fund_start_close() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let today = chrono::Utc::now().with_timezone(&quan_domain::UTC8).date_naive();
    let (start, end) = (today + chrono::Days::new(10), today + chrono::Days::new(40));
    let doc = |districts: &str| {
        format!(
            "[campaign]\nname = \"命令行\"\nregion = \"4205\"\nbudget_fen = 100000\nfunding_source = \"财政\"\nstarts_on = {start}\nends_on = {end}\n\n\
             [[batches]]\nname = \"一\"\nopening_at = {start}T10:00:00+08:00\nclosing_at = {start}T22:00:00+08:00\n\
             eligibility = {{ gps_districts = [{districts}] }}\n\
             kinds = [{{ stock = 10, kind = {{ code = \"k\", name = \"立减\", discount = {{ type = \"instant\", off_fen = 1000 }}, validity = {{ type = \"days_after_claim\", days = 3 }} }} }}]\n"
        )
    };
    let file = dir.path().join("c.toml");
    std::fs::write(&file, doc("\"420599\"")).unwrap_or_else(|e| panic!("{e}"));
    let f = file.to_string_lossy().into_owned();
    let out = run(dir.path(), &["campaign", "check", "--file", &f], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown_district"), "{}", text(&out.stderr));
    std::fs::write(&file, doc("\"420502\"")).unwrap_or_else(|e| panic!("{e}"));
    let out = run(dir.path(), &["campaign", "check", "--file", &f], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("warning") && text(&out.stdout).contains("420502"), "{}", text(&out.stdout));
    assert!(!dir.path().join("quan-data").exists(), "a check creates no database");
    run(
        dir.path(),
        &["admin", "create-user", "--role", "official", "--region", "4205", "--username", "yichang.admin"],
        "",
    );
    let created = run(dir.path(), &["campaign", "create", "--file", &f, "--as", "yichang.admin"], "");
    assert!(created.status.success(), "{}", text(&created.stderr));
    let id = text(&created.stdout).split_whitespace().nth(2).unwrap_or_default().to_owned();
    let step = |args: &[&str]| {
        let mut all = vec!["campaign"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[&id, "--as", "yichang.admin"]);
        run(dir.path(), &all, "")
    };
    let early = step(&["start"]);
    assert!(!early.status.success() && text(&early.stderr).contains("start"), "{}", text(&early.stderr));
    let funded = step(&["fund", "--amount-fen", "100000"]);
    assert!(text(&funded.stdout).contains("is now funded"), "{}{}", text(&funded.stdout), text(&funded.stderr));
    assert!(text(&step(&["start"]).stdout).contains("is now running"));
    assert!(text(&step(&["begin-closing"]).stdout).contains("is now closing"));
    let closed = step(&["close"]);
    assert!(text(&closed.stdout).contains("is now closed"), "{}{}", text(&closed.stdout), text(&closed.stderr));
}

#[test]
fn the_database_and_its_key_are_the_owners_only_and_a_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let create = |extra: &[(&str, String)]| {
        let mut c = quan(
            dir.path(),
            &["admin", "create-user", "--role", "official", "--region", "4205", "--username", "a.b.c"],
        );
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap_or_else(|e| panic!("{e}"))
    };
    let out = create(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    let data = dir.path().join("quan-data");
    assert_eq!(mode(&data.join("quan.db")), 0o600, "the database");
    assert_eq!(mode(&data.join("pii.key")), 0o600, "the key");
    assert_eq!(mode(&data), 0o700, "the folder");
    for f in ["quan.db-wal", "quan.db-shm"] {
        if data.join(f).exists() {
            assert_eq!(mode(&data.join(f)), 0o600, "{f}");
        }
    }
    std::fs::set_permissions(data.join("pii.key"), std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = create(&[]);
    assert!(!out.status.success() && text(&out.stderr).contains("chmod 600"), "{}", text(&out.stderr));
    // A key kept outside the data folder, by file.
    let keys = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let key = keys.path().join("quan.key");
    std::fs::copy(data.join("pii.key"), &key).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(data.join("pii.key")).unwrap_or_else(|e| panic!("{e}"));
    let out = create(&[("QUAN_SECURITY_PII_KEY_FILE", key.display().to_string())]);
    assert!(
        text(&out.stderr).contains("already") || out.status.success() || text(&out.stderr).contains("taken"),
        "{}",
        text(&out.stderr)
    );
    assert!(!data.join("pii.key").exists(), "no key is made in the data folder when a key file is given");
}
