//! Flow 5: a resident files a complaint about a payment with a photo from
//! the H5; an operator finds it in the console's queue and answers; the
//! resident reads the answer; the next day's T+1 report counts it.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::{at, resident, shop};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};

const PHONE: &str = "13900006666";

/// A running campaign, a Xiling shop, and a payment by the resident: its id.
async fn payment(app: &TestApp) -> String {
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "餐饮券", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "limits": {"per_batch": 2},
            "kinds": [{"stock": 100, "kind": {"code": "c100-20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": 10000, "off_fen": 2000},
                "scope": {"industries": ["catering"]}, "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (_, batch) = app.running_campaign(&official, &doc).await;
    let s = shop(app, 1, "catering").await;
    at(app, "2026-12-05T10:00:00+08:00");
    let token = resident(app, PHONE).await;
    let (status, claimed) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{claimed}");
    let voucher = claimed["vouchers"][0]["id"].as_str().unwrap_or_default();
    let (_, code) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(&token)).await;
    let (status, paid) = app
        .post("/api/v1/redemptions", Some(&s.cashier), &json!({"code": code["code"], "order_amount_fen": 12_000}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    paid["id"].as_str().unwrap_or_default().to_owned()
}

async fn h5_login(app: &TestApp, b: &Browser) {
    // The API login sent a code a moment ago: past the resend interval.
    app.clock.advance(chrono::Duration::seconds(61));
    b.go(&app.url("/h5/login")).await;
    b.type_into("#phone", PHONE).await;
    b.click("#send-code").await;
    b.find("#login-msg .msg_ok", 5).await;
    let code = app.sms.last_code(PHONE).unwrap_or_else(|| panic!("a code was sent"));
    b.type_into("#code", &code).await;
    b.click("#login").await;
    b.find("a.batch, .tabs", 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_complains_with_a_photo_an_operator_answers_and_the_report_counts_it() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    let redemption = payment(&app).await;
    let (_, operator_pw) = app.create_staff("yichang.operator", Role::Operator, "4205").await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let photo = dir.path().join("receipt.png");
    std::fs::write(&photo, quan_http::qr::png("小票：满100减20 只减了10元").unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));

    let b = Browser::start().await;
    h5_login(&app, &b).await;
    b.go(&app.url("/h5/complaints")).await;
    b.check_page(&app.base).await;
    b.click("#new-complaint").await;
    b.find("#complaint-form", 5).await;
    b.check_page(&app.base).await;
    b.script(&format!(
        "document.getElementById('kind').value = 'wrong_discount'; document.getElementById('link').value = 'r:{redemption}'; return null;"
    ))
    .await;
    b.type_into("#text", "满100减20，收银只减了10元，请核实。").await;
    b.find("#photo", 5).await.send_keys(photo.to_string_lossy()).await.unwrap_or_else(|e| panic!("{e}"));
    b.click("#submit-complaint").await;
    let ticket = b.text("#ticket", 10).await;
    assert!(ticket.starts_with("TS20261205-"), "a ticket number: {ticket}");
    assert_eq!(b.text("#state", 5).await, "待受理");
    within(5, "the photo shows", || async {
        b.script("var i = document.querySelector('img.photo'); return !!i && i.complete && i.naturalWidth > 0;").await
            == json!(true)
    })
    .await;
    b.check_page(&app.base).await;

    // An older ticket, filed days ago and never answered: overdue.
    let token = resident(&app, "13900006667").await;
    let now = quan_domain::Clock::now(app.clock.as_ref());
    at(&app, "2026-12-01T15:00:00+08:00");
    let body = json!({"kind": "shop_refused", "text": "商户说今天不收券。", "district": "420502"});
    let (status, old) = app.post("/api/v1/complaints", Some(&token), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{old}");
    app.clock.set(now);

    // The operator works it in the console.
    let op = Browser::start().await;
    sign_in(&app, &op, "yichang.operator", &operator_pw).await;
    op.click("#nav-complaints").await;
    let row = op.find("#complaints tbody tr", 5).await;
    assert!(row.text().await.unwrap_or_default().contains(&ticket), "the newest ticket is first in the queue");
    let late = op.text("#complaints tbody tr.overdue", 5).await;
    assert!(late.contains(old["complaint"]["ticket"].as_str().unwrap_or("?")) && late.contains("超时"), "{late}");
    op.check_page(&app.base).await;
    op.screenshot("complaint-queue").await;
    op.click("#complaints tbody tr a").await;
    op.find("#act-form", 5).await;
    let history = op.text("#history", 5).await;
    assert!(history.contains("只减了10元"), "the operator reads the complaint: {history}");
    op.type_into("#act-text", "已联系商户核实，将退还差价10元。").await;
    op.click("#act-reply").await;
    within(5, "the reply is recorded", || async { op.text("#state", 1).await == "处理中" }).await;
    op.quit().await;

    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let seen = b.text("#history", 5).await;
    assert!(seen.contains("将退还差价10元") && seen.contains("客服"), "the resident reads the answer: {seen}");
    b.quit().await;

    at(&app, "2026-12-06T01:00:00+08:00");
    let (_, official) = app.staff("yichang.official2", Role::Official, "4205").await;
    let (_, list) = app.get("/api/v1/campaigns", Some(&official)).await;
    let cid = list["campaigns"][0]["id"].as_str().or_else(|| list[0]["id"].as_str()).unwrap_or_default().to_owned();
    let (status, r) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let f = if r["complaints"].is_null() { &r["report"]["complaints"] } else { &r["complaints"] };
    assert_eq!((f["filed_day"].as_u64(), f["answered_in_time"].as_u64()), (Some(1), Some(1)), "{f}");
}
