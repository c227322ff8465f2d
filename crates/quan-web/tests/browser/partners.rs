//! Partners in the console: an official registers a bank (its HMAC secret
//! shown once, and it signs a real call), a bad SM2 key is refused beside
//! its field, the bank is cut off (熔断) with a reason — its signed calls
//! are refused — and let back. In the H5, a resident makes a one-time code
//! for the bank, the bank redeems it, the page shows the binding, and the
//! resident ends it.

use base64::Engine as _;
use quan_domain::Role;
use quan_testkit::fixtures::at;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;

use crate::support::{Browser, available, sign_in, within};

/// A signed GET of a missing order: 404 while the partner may call, 403 when cut off.
async fn signed_get(app: &TestApp, id: &str, serial: &str, secret: &str, nonce: &str) -> (StatusCode, String) {
    let (status, body) = signed(app, (id, serial, secret), nonce, "GET", "/partner/v1/checkout/orders/NONE", "").await;
    (status, error_code(&body).to_owned())
}

/// A signed call as the bank makes it: (status, JSON answer).
async fn signed(
    app: &TestApp,
    (id, serial, secret): (&str, &str, &str),
    nonce: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let ts = app.engine.now().timestamp();
    let m = quan_domain::partner_auth::message(method, path, ts, nonce, body.as_bytes());
    let sig =
        base64::engine::general_purpose::STANDARD.encode(quan_domain::partner_auth::hmac_sha256(secret.as_bytes(), &m));
    let auth = format!(
        r#"QUAN-HMAC-SHA256 partner_id="{id}",serial_no="{serial}",timestamp="{ts}",nonce_str="{nonce}",signature="{sig}""#
    );
    let verb = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = app.client.request(verb, app.url(path)).header("authorization", auth);
    if !body.is_empty() {
        req = req.header("content-type", "application/json").body(body.to_owned());
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_registers_a_bank_cuts_it_off_and_lets_it_back() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &pw).await;
    b.go(&app.url("/console/partners")).await;
    b.find("#no-partners", 10).await;
    b.check_page(&app.base).await;

    b.type_into("#partner-name", "坏钥匙银行").await;
    b.script("document.getElementById('partner-scheme').value = 'sm2'; document.getElementById('partner-public-key').value = '04abc'; return null;").await;
    b.click("#partner-submit").await;
    let error = b.find("#field-error", 10).await;
    assert_eq!(error.attr("data-field").await.ok().flatten().unwrap_or_default(), "public_key");

    b.script("document.getElementById('partner-name').value = '宜昌银行'; document.getElementById('partner-scheme').value = 'hmac'; return null;").await;
    b.click("#partner-submit").await;
    let said = b.text("#partner-msg", 10).await;
    let secret = said
        .split_whitespace()
        .chain(said.split('：'))
        .find(|w| w.starts_with("qps_"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(secret.starts_with("qps_") && said.contains("只显示这一次"), "{said}");
    let serial = said.split("生成密钥 ").nth(1).and_then(|s| s.split('。').next()).unwrap_or_default().to_owned();
    b.click("#partners-reload").await;
    let card = b.find("section.partner", 10).await;
    let id = card.attr("data-id").await.ok().flatten().unwrap_or_default();
    assert!(!b.text("section.partner", 2).await.contains(&secret), "the secret is not shown again");
    assert_eq!(signed_get(&app, &id, &serial, &secret, "a").await, (StatusCode::NOT_FOUND, "order_not_found".into()));
    b.check_page(&app.base).await;

    b.type_into("section.partner .suspend-reason", "对账差错待查").await;
    b.click("section.partner .suspend-partner").await;
    within(10, "the bank is shown cut off", || async {
        b.text("section.partner .partner-status", 1).await == "已熔断"
    })
    .await;
    assert!(b.text("section.partner", 2).await.contains("对账差错待查"));
    b.screenshot("console-partners").await;
    let n = std::sync::atomic::AtomicU32::new(0);
    within(3, "its calls are refused within a second", || async {
        let nonce = format!("b{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        signed_get(&app, &id, &serial, &secret, &nonce).await.1 == "partner_suspended"
    })
    .await;
    b.click("section.partner .resume-partner").await;
    within(10, "the bank is back", || async { b.text("section.partner .partner-status", 1).await == "正常" }).await;
    b.quit().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_gives_a_bank_a_one_time_code_sees_the_binding_and_ends_it() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let body = serde_json::json!({"name": "宜昌银行", "kind": "bank", "mode": "live", "scopes": ["checkout"], "key": {"scheme": "hmac"}});
    let (status, created) = app.post("/api/v1/partners", Some(&official), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let (id, serial, secret) =
        (s(&created["partner"]["id"]), s(&created["key"]["serial_no"]), s(&created["key"]["secret"]));
    let b = Browser::start().await;
    b.go(&app.url("/h5/login")).await;
    b.type_into("#phone", "13800000077").await;
    b.click("#send-code").await;
    b.find("#login-msg .msg_ok", 5).await;
    let code = app.sms.last_code("13800000077").unwrap_or_else(|| panic!("a code was sent"));
    b.type_into("#code", &code).await;
    b.click("#login").await;
    b.find(".tabs", 10).await;
    b.go(&app.url("/h5/wallet")).await;
    b.click("#partners-link").await;
    b.find("#none-bound", 10).await;
    b.check_page(&app.base).await;
    b.click(&format!("#code-for-{id}")).await;
    let shown = b.text("#binding-code", 10).await.replace(' ', "");
    assert_eq!(shown.len(), 8, "eight digits: {shown}");
    b.screenshot("h5-partner-code").await;
    let redeem = format!(r#"{{"binding_code":"{shown}"}}"#);
    let (status, bound) = signed(&app, (&id, &serial, &secret), "h5a", "POST", "/partner/v1/bindings", &redeem).await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    let (status, again) = signed(&app, (&id, &serial, &secret), "h5b", "POST", "/partner/v1/bindings", &redeem).await;
    assert_eq!((status, error_code(&again)), (StatusCode::UNPROCESSABLE_ENTITY, "binding_code_invalid"), "used once");
    b.go(&app.url("/h5/partners")).await;
    assert!(b.text(&format!("#bound-{id}"), 10).await.contains("宜昌银行"));
    assert!(!b.text("body", 2).await.contains("13800000077"), "no phone number on the page");
    b.check_page(&app.base).await;
    b.script("window.confirm = () => true; return null;").await;
    b.click(&format!("#unbind-{id}")).await;
    assert!(b.text(&format!("#unbind-msg-{id}"), 10).await.contains("已解除授权"));
    let openid = s(&bound["resident_openid"]);
    let quote = format!(r#"{{"resident_openid":"{openid}","merchant_id":"{id}","amount_fen":100}}"#);
    let (status, e) =
        signed(&app, (&id, &serial, &secret), "h5c", "POST", "/partner/v1/checkout/resident-quotes", &quote).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "resident_not_bound"), "{e}");
    b.go(&app.url("/h5/partners")).await;
    b.find("#none-bound", 10).await;
    b.quit().await;
}
