//! The kill switch in the console: an official pauses a batch from the
//! page, a resident's claim is refused naming who and why, and the pause is
//! lifted from the same page.

use quan_domain::Role;
use quan_testkit::fixtures::{at, resident};
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_pauses_a_batch_from_the_console_and_lifts_the_pause() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let official = app.login("yichang.official", &pw).await;
    let doc = json!({
        "campaign": {"name": "熔断演练", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "limits": {"per_batch": 1},
            "kinds": [{"stock": 5, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000},
                "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (_, batch) = app.running_campaign(&official, &doc).await;
    let token = resident(&app, "13900007001").await;
    at(&app, "2026-12-05T10:00:05+08:00");

    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &pw).await;
    b.go(&app.url(&format!("/console/pauses?target=batch&id={batch}"))).await;
    b.find("#none-paused", 10).await;
    b.check_page(&app.base).await;
    b.type_into("#pause-reason", "发现外挂批量抢券，暂停核查").await;
    b.click("#pause-submit").await;
    within(10, "the pause is listed as on", || async {
        b.text("#paused-now tr.pause_on", 1).await.contains("发现外挂")
    })
    .await;
    b.screenshot("console-pauses").await;

    let (status, body) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "paused"), "{body}");
    assert_eq!(body["error"]["details"]["reason"], "发现外挂批量抢券，暂停核查", "{body}");

    b.type_into("#paused-now input[name=reason]", "已封禁外挂账号").await;
    b.click("#paused-now button.resume").await;
    within(10, "the pause moves to the lifted ones", || async {
        b.text("#pauses-ended", 1).await.contains("已封禁外挂账号")
    })
    .await;
    let (status, body) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "claims go on: {body}");
    b.quit().await;
    app.stop().await;
}
