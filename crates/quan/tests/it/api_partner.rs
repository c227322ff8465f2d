//! The partner API as a bank calls it: an official registers the bank (an
//! HMAC secret shown once); the bank's signed calls quote, lock, confirm and
//! reverse a resident's voucher at a merchant (支付立减), every answer signed
//! by the platform key; a till meanwhile is refused the locked voucher; a
//! lock that ends unconfirmed frees the voucher and its late confirm is
//! `lock_lost`; every refusal of a signed request is named; a cut-off
//! partner is refused at once and let back; the audit stays clean. On
//! SQLite and PostgreSQL; the same checkout by Python's gmssl and hmac (an
//! implementation apart from quan's); two nodes confirming one order at
//! once make one redemption.

use std::process::Command;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use quan_domain::Role;
use quan_testkit::fixtures::{at, shop};
use quan_testkit::{TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::code_of;
use crate::api_risk_cases::{campaign, claims};

/// A partner as the test signs for it.
pub(crate) struct Bank {
    pub(crate) id: String,
    serial: String,
    secret: String,
}

/// The `Authorization` header for a request, HMAC-SHA256 over WeChat's five lines.
fn authorization(b: &Bank, method: &str, path: &str, body: &[u8], ts: i64, nonce: &str) -> String {
    let mut m = format!("{method}\n{path}\n{ts}\n{nonce}\n").into_bytes();
    m.extend_from_slice(body);
    m.push(b'\n');
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b.secret.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    mac.update(&m);
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!(
        r#"QUAN-HMAC-SHA256 partner_id="{}",serial_no="{}",timestamp="{ts}",nonce_str="{nonce}",signature="{sig}""#,
        b.id, b.serial
    )
}

/// Writes a request's `Authorization` header from its body.
type Signer<'a> = dyn Fn(&[u8]) -> String + 'a;

static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A signed call; the answer's platform signature is checked too.
pub(crate) async fn call(
    app: &TestApp,
    b: &Bank,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let nonce = format!("N{}", NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let auth = |bytes: &[u8]| authorization(b, method, path, bytes, app.engine.now().timestamp(), &nonce);
    raw_call(app, method, path, body, &auth).await
}

async fn raw_call(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    auth: &Signer<'_>,
) -> (StatusCode, Value) {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default()).unwrap_or_default();
    let client = reqwest::Client::new();
    let verb = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = client.request(verb, app.url(path));
    req = req.header("authorization", auth(&bytes));
    if body.is_some() {
        req = req.header("content-type", "application/json").body(bytes);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    let h = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (ts, nonce, sig) = (h("quan-timestamp"), h("quan-nonce"), h("quan-signature"));
    let text = resp.bytes().await.unwrap_or_default();
    let mut m = format!("{ts}\n{nonce}\n").into_bytes();
    m.extend_from_slice(&text);
    m.push(b'\n');
    let sig = base64::engine::general_purpose::STANDARD.decode(sig).unwrap_or_default();
    let (_, public) = app.engine.platform_certificate();
    assert!(quan_engine::platform_key::verify_hex(&public, &m, &hex::encode(sig)), "the answer to {path} is signed");
    (status, serde_json::from_slice(&text).unwrap_or(Value::Null))
}

/// An official registers a bank: (official's token, the bank).
pub(crate) async fn register(app: &TestApp, name: &str, scopes: &[&str]) -> (String, Bank) {
    register_in(app, name, scopes, "live").await
}

/// Registers a partner in `mode` (`live` or `test`): (the official's token, the partner).
pub(crate) async fn register_in(app: &TestApp, name: &str, scopes: &[&str], mode: &str) -> (String, Bank) {
    let n = NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (_, official) = app.staff(&format!("partners{n}.official"), Role::Official, "4205").await;
    let body = json!({"name": name, "kind": "bank", "mode": mode, "scopes": scopes, "key": {"scheme": "hmac"}});
    let (status, created) = app.post("/api/v1/partners", Some(&official), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["key"]["secret"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("qps_"), "{created}");
    let bank = Bank {
        id: created["partner"]["id"].as_str().unwrap_or_default().to_owned(),
        serial: created["key"]["serial_no"].as_str().unwrap_or_default().to_owned(),
        secret,
    };
    let (_, read) = app.get(&format!("/api/v1/partners/{}", bank.id), Some(&official)).await;
    assert!(!read.to_string().contains(&bank.secret), "the secret is shown once: {read}");
    (official, bank)
}

#[tokio::test]
async fn a_bank_checks_out_vouchers_signed_on_sqlite() {
    checkout(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_bank_checks_out_vouchers_signed_on_postgres() {
    let opts = TestOptions { backend: quan_testkit::Backend::Postgres, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    checkout(app).await;
}

async fn checkout(app: TestApp) {
    let (cid, batch) = campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (resident, vouchers) = claims(&app, &batch, "13800000001", 3).await;
    let (official, bank) = register(&app, "宜昌银行", &["checkout", "bill"]).await;
    let order = |code: &str, amount: i64| json!({"voucher_code": code, "merchant_id": s.id, "amount_fen": amount});

    let code = code_of(&app, &resident, &vouchers[0]).await;
    let (status, q) = call(&app, &bank, "POST", "/partner/v1/checkout/quotes", Some(&order(&code, 12_000))).await;
    assert_eq!(
        (status, q["discount_fen"].as_i64(), q["payable_fen"].as_i64()),
        (StatusCode::OK, Some(2_000), Some(10_000)),
        "{q}"
    );
    let mut lock = order(&code, 12_000);
    lock["out_trade_no"] = json!("T1");
    let (status, o) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await;
    assert_eq!((status, o["status"].as_str()), (StatusCode::OK, Some("locked")), "{o}");
    // A till meanwhile: refused by name.
    let code = code_of(&app, &resident, &vouchers[0]).await;
    let (status, r) =
        app.post("/api/v1/redemptions", Some(&s.cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
    assert_eq!((status, error_code(&r)), (StatusCode::CONFLICT, "voucher_locked"), "{r}");
    // The same lock again answers the same order; the number for another amount is refused.
    let (status, again) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await;
    assert_eq!((status, &again["created_at"]), (StatusCode::OK, &o["created_at"]), "{again}");
    lock["amount_fen"] = json!(15_000);
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "out_trade_no_reused"), "{e}");

    let confirm = |t: &str| json!({"transaction_id": t});
    let (status, c) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/T1/confirm", Some(&confirm("WX1"))).await;
    assert_eq!((status, c["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{c}");
    assert!(c["redemption_id"].is_string(), "{c}");
    let (status, same) =
        call(&app, &bank, "POST", "/partner/v1/checkout/orders/T1/confirm", Some(&confirm("WX1"))).await;
    assert_eq!((status, &same["redemption_id"]), (StatusCode::OK, &c["redemption_id"]), "{same}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/T1/confirm", Some(&confirm("WX2"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "order_confirmed"), "{e}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&resident)).await;
    assert!(wallet.to_string().contains("redeemed"), "{wallet}");
    // Reversed (冲正): refunded in full, the voucher back; no confirm after.
    let (status, rv) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/T1/reverse", Some(&json!({}))).await;
    assert_eq!((status, rv["status"].as_str()), (StatusCode::OK, Some("reversed")), "{rv}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/T1/confirm", Some(&confirm("WX1"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "order_reversed"), "{e}");

    // A lock that ends unconfirmed: the till takes the voucher, the late confirm is lock_lost.
    let code = code_of(&app, &resident, &vouchers[1]).await;
    let mut short = order(&code, 12_000);
    short["out_trade_no"] = json!("T2");
    short["lock_seconds"] = json!(10);
    let (status, o) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&short)).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    app.clock.advance(chrono::Duration::seconds(11));
    let (_, looked) = call(&app, &bank, "GET", "/partner/v1/checkout/orders/T2", None).await;
    assert_eq!(looked["status"], "expired", "{looked}");
    let code = code_of(&app, &resident, &vouchers[1]).await;
    let (status, r) =
        app.post("/api/v1/redemptions", Some(&s.cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/T2/confirm", Some(&confirm("WX3"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "lock_lost"), "{e}");
    let (status, e) = call(&app, &bank, "GET", "/partner/v1/checkout/orders/T9", None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "order_not_found"), "{e}");

    bill(&app, &bank, &resident, &vouchers[2], &s.id).await;
    refusals(&app, &official, &bank).await;
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(a["clean"], true, "{a}");
}

/// A confirmed order is in the day's bill (the reversed one is not), and the
/// bill reconciles against quan's redemptions line for line.
async fn bill(app: &TestApp, bank: &Bank, resident: &str, voucher: &str, merchant: &str) {
    let code = code_of(app, resident, voucher).await;
    let lock = json!({"voucher_code": code, "merchant_id": merchant, "amount_fen": 15_000, "out_trade_no": "T3"});
    assert_eq!(call(app, bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await.0, StatusCode::OK);
    let confirm = json!({"transaction_id": "-WX3"});
    let (status, c) = call(app, bank, "POST", "/partner/v1/checkout/orders/T3/confirm", Some(&confirm)).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let path = "/partner/v1/bills/2026-12-05";
    let nonce = format!("bill{}", NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let auth = authorization(bank, "GET", path, b"", app.engine.now().timestamp(), &nonce);
    let resp = reqwest::Client::new().get(app.url(path)).header("authorization", auth).send().await;
    let resp = resp.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    let csv = resp.text().await.unwrap_or_default();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "the header and T3 only (T1 was reversed): {csv}");
    assert!(
        lines[0].starts_with("\u{feff}order_id,amount,discount,time,out_trade_no,transaction_id,redemption_id"),
        "{csv}"
    );
    assert!(lines[1].contains(",150.00,20.00,2026-12-05T") && lines[1].contains(",T3,'-WX3,"), "formula-safe: {csv}");
    let (read, bad) = quan_engine::settlement_files::read_bill(&csv).unwrap_or_default();
    assert!(bad.is_empty(), "{bad:?}");
    let (matched, mismatches) = app.engine.reconcile(&read).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(matched, 1, "{mismatches:?}");
    let about_bill =
        mismatches.iter().filter(|m| !matches!(m, quan_engine::settlement::Mismatch::NotInBill { .. })).count();
    assert_eq!(about_bill, 0, "{mismatches:?}");
}

/// Every refusal of a signed request, by name; a cut-off and its lifting.
async fn refusals(app: &TestApp, official: &str, bank: &Bank) {
    let path = "/partner/v1/checkout/orders/T1";
    let now = app.engine.now().timestamp();
    let cases: [(&Signer<'_>, &str); 4] = [
        (&|_| "Bearer x".to_owned(), "authorization_malformed"),
        (&|b| authorization(bank, "GET", path, b, now - 301, "old"), "timestamp_skew"),
        (
            &|b| {
                authorization(&Bank { secret: "qps_wrong".into(), ..Bank { ..clone(bank) } }, "GET", path, b, now, "w")
            },
            "signature_invalid",
        ),
        (&|b| authorization(bank, "GET", "/partner/v1/checkout/orders/T2", b, now, "p"), "signature_invalid"),
    ];
    for (auth, code) in cases {
        let (status, e) = raw_call(app, "GET", path, None, auth).await;
        assert_eq!((status, error_code(&e)), (StatusCode::UNAUTHORIZED, code), "{e}");
    }
    let once = |b: &[u8]| authorization(bank, "GET", path, b, now, "once");
    assert_eq!(raw_call(app, "GET", path, None, &once).await.0, StatusCode::OK);
    let (status, e) = raw_call(app, "GET", path, None, &once).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNAUTHORIZED, "nonce_reused"), "{e}");

    let (_, billing) = register(app, "账单银行", &["bill"]).await;
    let (status, e) = call(app, &billing, "GET", path, None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::FORBIDDEN, "scope_missing"), "{e}");

    // Webhooks never go to this machine or a private network (unless a test allows it).
    for url in
        ["http://127.0.0.1:9/hooks", "http://localhost/hooks", "http://169.254.169.254/latest", "https://[::1]/h"]
    {
        let (status, e) = call(app, bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": url}))).await;
        assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "url_private"), "{url}: {e}");
    }
    let (status, e) = call(app, bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": "ftp://x"}))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "url_invalid"), "{e}");
    // A test partner signs like a live one but never touches live vouchers.
    let body =
        json!({"name": "测试银行", "kind": "bank", "mode": "test", "scopes": ["checkout"], "key": {"scheme": "hmac"}});
    let (_, t) = app.post("/api/v1/partners", Some(official), &body).await;
    let tester = Bank {
        id: t["partner"]["id"].as_str().unwrap_or_default().to_owned(),
        serial: t["key"]["serial_no"].as_str().unwrap_or_default().to_owned(),
        secret: t["key"]["secret"].as_str().unwrap_or_default().to_owned(),
    };
    let quote = json!({"voucher_code": "x", "merchant_id": uuid_like(), "amount_fen": 100});
    let (status, e) = call(app, &tester, "POST", "/partner/v1/checkout/quotes", Some(&quote)).await;
    assert_eq!((status, error_code(&e)), (StatusCode::FORBIDDEN, "test_mode"), "{e}");
    // This server runs no sandbox: its endpoints say so to a test partner.
    let (status, e) = call(app, &tester, "GET", "/partner/v1/sandbox", None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::SERVICE_UNAVAILABLE, "sandbox_unavailable"), "{e}");

    let p = format!("/api/v1/partners/{}", bank.id);
    let (status, e) = app.post(&format!("{p}/suspend"), Some(official), &json!({"reason": ""})).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "required"), "{e}");
    let (status, s) = app.post(&format!("{p}/suspend"), Some(official), &json!({"reason": "对账差错待查"})).await;
    assert_eq!((status, s["status"].as_str()), (StatusCode::OK, Some("suspended")), "{s}");
    let (status, e) = call(app, bank, "GET", path, None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::FORBIDDEN, "partner_suspended"), "{e}");
    let (status, _) = app.post(&format!("{p}/resume"), Some(official), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(app, bank, "GET", path, None).await.0, StatusCode::OK);
    let (status, e) = app.post(&format!("{p}/keys/{}/revoke", bank.serial), Some(official), &json!({})).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "last_key"), "{e}");
}

fn uuid_like() -> &'static str {
    "01a24d1b-0000-7000-8000-000000000000"
}

fn clone(b: &Bank) -> Bank {
    Bank { id: b.id.clone(), serial: b.serial.clone(), secret: b.secret.clone() }
}

/// Whether Python's gmssl is here; without it the check is skipped, except in CI.
pub(crate) fn has_gmssl() -> bool {
    let has = Command::new("python3").args(["-c", "import gmssl"]).output().is_ok_and(|o| o.status.success());
    if !has {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "gmssl is missing in CI: pip install gmssl");
        eprintln!("skipped: gmssl is not installed (pip install gmssl)");
    }
    has
}

/// Runs the Python partner off the runtime's threads (the server answers it on them).
async fn python(args: &[&str]) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/partner_client.py");
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || Command::new("python3").arg(script).args(&args).output())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_python_partner_signing_with_gmssl_and_hmac_checks_out() {
    if !has_gmssl() {
        return;
    }
    let app = TestApp::sqlite().await;
    let (_, batch) = campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (resident, vouchers) = claims(&app, &batch, "13800000002", 2).await;
    let (official, hmac_bank) = register(&app, "一号银行", &["checkout"]).await;
    let (ok, keys) = python(&["keygen"]).await;
    assert!(ok, "{keys}");
    let keys: Value = serde_json::from_str(keys.trim()).unwrap_or_default();
    let body = json!({"name": "二号支付", "kind": "payment", "mode": "live", "scopes": ["checkout"],
        "key": {"scheme": "sm2", "public_key": keys["public_key"]}});
    let (status, sm2) = app.post("/api/v1/partners", Some(&official), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{sm2}");
    let (_, platform) = app.engine.platform_certificate();
    let runs = [
        ("hmac", hmac_bank.id.clone(), hmac_bank.secret.clone(), hmac_bank.serial.clone()),
        (
            "sm2",
            sm2["partner"]["id"].as_str().unwrap_or_default().to_owned(),
            keys["private_key"].as_str().unwrap_or_default().to_owned(),
            sm2["key"]["serial_no"].as_str().unwrap_or_default().to_owned(),
        ),
    ];
    for (i, (scheme, id, key, serial)) in runs.iter().enumerate() {
        let code = code_of(&app, &resident, &vouchers[i]).await;
        let no = format!("PY{i}");
        let (ok, out) =
            python(&["checkout", &app.base, id, scheme, key, serial, &platform, &code, &s.id, "12000", &no, "TX1"])
                .await;
        assert!(ok, "{scheme}: {out}");
    }
}

#[tokio::test]
async fn the_same_order_confirmed_on_two_nodes_at_once_makes_one_redemption() {
    let opts = TestOptions { backend: quan_testkit::Backend::Postgres, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    let Some(node2) = app.second_node().await else { return };
    let (cid, batch) = campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (resident, vouchers) = claims(&app, &batch, "13800000003", 2).await;
    let (official, bank) = register(&app, "并发银行", &["checkout"]).await;
    for (i, v) in vouchers.iter().enumerate() {
        let code = code_of(&app, &resident, v).await;
        let no = format!("C{i}");
        let lock = json!({"voucher_code": code, "merchant_id": s.id, "amount_fen": 12_000, "out_trade_no": no});
        assert_eq!(call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await.0, StatusCode::OK);
        let path = format!("/partner/v1/checkout/orders/{no}/confirm");
        // The same transaction on both nodes: both answer the one redemption.
        // Two different ones (i = 1): one wins, the other is told.
        let (t1, t2) = if i == 0 { ("SAME", "SAME") } else { ("A1", "B2") };
        let (b1, b2) = (json!({"transaction_id": t1}), json!({"transaction_id": t2}));
        let (a, b) =
            tokio::join!(call(&app, &bank, "POST", &path, Some(&b1)), call(&node2, &bank, "POST", &path, Some(&b2)));
        let ok: Vec<&Value> = [&a, &b].iter().filter(|(s, _)| *s == StatusCode::OK).map(|(_, v)| v).collect();
        if i == 0 {
            assert_eq!(ok.len(), 2, "{a:?} {b:?}");
            assert_eq!(ok[0]["redemption_id"], ok[1]["redemption_id"]);
        } else {
            assert_eq!(ok.len(), 1, "{a:?} {b:?}");
            let lost = if a.0 == StatusCode::OK { &b } else { &a };
            assert_eq!((lost.0, error_code(&lost.1)), (StatusCode::CONFLICT, "order_confirmed"), "{lost:?}");
        }
    }
    let (_, list) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(list["clean"], true, "{list}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&resident)).await;
    let used = wallet.as_array().into_iter().flatten().filter(|v| v["state"] == "redeemed").count();
    assert_eq!(used, 2, "one redemption per voucher: {wallet}");
}

#[tokio::test]
async fn a_resident_binds_banks_which_quote_and_lock_by_their_own_ids_on_sqlite() {
    bindings(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_resident_binds_banks_which_quote_and_lock_by_their_own_ids_on_postgres() {
    let opts = TestOptions { backend: quan_testkit::Backend::Postgres, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    bindings(app).await;
}

/// A resident's one-time code for a bank: the bank's own id for them, their
/// vouchers quoted best first and one locked and confirmed by id; another
/// bank gets another id; a code is used once; the resident ends the binding.
async fn bindings(app: TestApp) {
    let (_, batch) = campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (resident, _) = claims(&app, &batch, "13800000009", 2).await;
    let (official, bank) = register(&app, "绑定银行", &["checkout"]).await;
    let (_, other) = register(&app, "另一家银行", &["checkout"]).await;
    let (status, partners) = app.get("/api/v1/me/partners", Some(&resident)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(partners.to_string().contains("绑定银行"), "{partners}");
    let code_for = |p: &Bank| json!({"partner_id": p.id});
    let (status, c) = app.post("/api/v1/me/partner-bindings", Some(&resident), &code_for(&bank)).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let code = c["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(code.len(), 8, "{c}");
    let redeem = |code: &str| json!({"binding_code": code});
    let (status, e) = call(&app, &other, "POST", "/partner/v1/bindings", Some(&redeem(&code))).await;
    assert_eq!(
        (status, error_code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "binding_code_invalid"),
        "another bank's: {e}"
    );
    let (status, b) = call(&app, &bank, "POST", "/partner/v1/bindings", Some(&redeem(&code))).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let openid = b["resident_openid"].as_str().unwrap_or_default().to_owned();
    assert!(openid.starts_with("ro_"), "{b}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/bindings", Some(&redeem(&code))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "binding_code_invalid"), "used once: {e}");
    let (_, c2) = app.post("/api/v1/me/partner-bindings", Some(&resident), &code_for(&other)).await;
    let (_, b2) =
        call(&app, &other, "POST", "/partner/v1/bindings", Some(&redeem(c2["code"].as_str().unwrap_or_default())))
            .await;
    assert!(b2["resident_openid"].is_string() && b2["resident_openid"] != b["resident_openid"], "pairwise: {b2}");

    let q = json!({"resident_openid": openid, "merchant_id": s.id, "amount_fen": 12_000});
    let (status, quotes) = call(&app, &bank, "POST", "/partner/v1/checkout/resident-quotes", Some(&q)).await;
    assert_eq!(status, StatusCode::OK, "{quotes}");
    let list = quotes["vouchers"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{quotes}");
    assert!(list.iter().all(|v| v["discount_fen"] == 2_000), "{quotes}");
    assert!(!quotes.to_string().contains("13800000009"), "no phone number goes to a partner");
    let voucher = list[0]["voucher_id"].clone();
    let both = json!({"out_trade_no": "B1", "voucher_code": "x", "resident_openid": openid, "voucher_id": voucher,
        "merchant_id": s.id, "amount_fen": 12_000});
    let (status, _) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&both)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "one way of naming the voucher");
    let lock = json!({"out_trade_no": "B1", "resident_openid": openid, "voucher_id": voucher, "merchant_id": s.id, "amount_fen": 12_000});
    let (status, o) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await;
    assert_eq!((status, o["status"].as_str()), (StatusCode::OK, Some("locked")), "{o}");
    let (status, o) =
        call(&app, &bank, "POST", "/partner/v1/checkout/orders/B1/confirm", Some(&json!({"transaction_id": "TB1"})))
            .await;
    assert_eq!((status, o["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{o}");
    let (_, quotes) = call(&app, &bank, "POST", "/partner/v1/checkout/resident-quotes", Some(&q)).await;
    assert_eq!(quotes["vouchers"].as_array().map(Vec::len), Some(1), "the used one is gone: {quotes}");
    let mut theirs = lock.clone();
    theirs["out_trade_no"] = json!("B2");
    let (status, e) = call(&app, &other, "POST", "/partner/v1/checkout/orders", Some(&theirs)).await;
    assert_eq!(
        (status, error_code(&e)),
        (StatusCode::NOT_FOUND, "resident_not_bound"),
        "an id is one bank's only: {e}"
    );

    // A pause of the bank's channel (熔断 by channel) stops its redemptions, not the till's.
    let pause = json!({"target": "channel", "target_id": bank.id, "stops": "redemptions", "reason": "渠道对账差错"});
    let (status, p) = app.post("/api/v1/pauses", Some(&official), &pause).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let left = quotes["vouchers"][0]["voucher_id"].clone();
    let lock = json!({"out_trade_no": "B3", "resident_openid": openid, "voucher_id": left, "merchant_id": s.id, "amount_fen": 12_000});
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "paused"), "{e}");
    assert_eq!(e["error"]["details"]["reason"], "渠道对账差错", "{e}");
    let (status, _) = app
        .post(
            &format!("/api/v1/pauses/{}/resume", p["id"].as_str().unwrap_or_default()),
            Some(&official),
            &json!({"reason": "已查明"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, mine) = app.get("/api/v1/me/partner-bindings", Some(&resident)).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
    let (status, _) = app.delete(&format!("/api/v1/me/partner-bindings/{}", bank.id), Some(&resident)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/resident-quotes", Some(&q)).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "resident_not_bound"), "{e}");
}
