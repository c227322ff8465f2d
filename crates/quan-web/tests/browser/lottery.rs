//! A lottery batch in the resident's H5: the registration window, the
//! registration, and after the draw the result (a winner's voucher in the
//! wallet).

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::at;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_registers_for_a_lottery_and_sees_that_they_won() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-11-30T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let official = app.login("yichang.official", &pw).await;
    let doc = json!({
        "campaign": {"name": "家电摇号", "region": "4205", "budget_fen": 100_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "摇号批次", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-06T22:00:00+08:00",
            "mode": {"type": "lottery", "registration_opens_at": "2026-12-01T09:00:00+08:00", "registration_closes_at": "2026-12-04T18:00:00+08:00"},
            "kinds": [{"stock": 5, "kind": {"code": "k", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (status, body) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cid = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = body["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 100_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    at(&app, "2026-12-02T09:00:00+08:00");

    let b = Browser::start().await;
    b.go(&app.url("/h5/login")).await;
    b.type_into("#phone", "13900003333").await;
    b.click("#send-code").await;
    b.find("#login-msg .msg_ok", 5).await;
    let code = app.sms.last_code("13900003333").unwrap_or_default();
    b.type_into("#code", &code).await;
    b.click("#login").await;
    b.find("a.batch .tag", 10).await;
    b.go(&app.url(&format!("/h5/batches/{bid}"))).await;
    b.click("#register").await;
    let said = b.text("#register-msg .msg_ok", 10).await;
    assert!(said.contains("报名成功"), "{said}");
    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    b.find("#registered", 10).await;
    b.check_page(&app.base).await;

    at(&app, "2026-12-05T10:00:00+08:00");
    let official = app.login("yichang.official", &pw).await;
    let (status, drawn) = app.post(&format!("/api/v1/batches/{bid}/draw"), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let result = b.text("#lottery-result", 10).await;
    assert!(result.contains("已中签"), "the only registrant wins one of five: {result}");
    b.go(&app.url("/h5/wallet")).await;
    let wallet = b.text("a.voucher", 10).await;
    assert!(wallet.contains("立减10元"), "{wallet}");
    b.quit().await;
    app.stop().await;
}
