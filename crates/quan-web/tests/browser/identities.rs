//! Identity conflicts in the console: an operator finds the ID number a
//! stranger recorded before its holder's real-name check, resolves it for
//! the holder from the page, and reads what it did (the stranger's voucher
//! frozen, the holder's slot given back); and a resident passes the
//! real-name check on a batch page that asks for one.

use quan_domain::Role;
use quan_testkit::fixtures::{at, resident};
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};
use quan_testkit::fixtures::yichang_id_number;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_resolves_an_identity_conflict_from_the_console_and_reads_what_it_froze() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    let number = yichang_id_number("67");
    let csv = format!("name,id_number,phone\n赵小青,{number},13900007102\n");
    let v = quan_engine::risk::real_name::FileVerifier::from_csv(&csv).unwrap_or_else(|e| panic!("{e}"));
    app.engine.use_identity_verifier(std::sync::Arc::new(v));
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "按人限领", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "limits": {"per_batch": 1, "count_by": "person"},
            "kinds": [{"stock": 5, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000},
                "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (_, batch) = app.running_campaign(&official, &doc).await;
    let stranger = resident(&app, "13900007101").await;
    let holder = resident(&app, "13900007102").await;
    app.post("/api/v1/me/identity", Some(&stranger), &json!({"id_number": number})).await;
    at(&app, "2026-12-05T10:00:05+08:00");
    let claims = format!("/api/v1/batches/{batch}/claims");
    assert_eq!(app.post(&claims, Some(&stranger), &json!({})).await.0, StatusCode::CREATED);
    let check = json!({"name": "赵小青", "id_number": number, "phone": "13900007102"});
    assert_eq!(app.post("/api/v1/me/identity/real-name", Some(&holder), &check).await.0, StatusCode::OK);
    let (status, body) = app.post(&claims, Some(&holder), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "limit_reached"));

    let (_, pw) = app.create_staff("yichang.desk", Role::Operator, "4205").await;
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.desk", &pw).await;
    b.go(&app.url("/console/identity-conflicts")).await;
    b.find("#conflicts-open tr.conflict", 10).await;
    assert!(!b.text("#conflicts-open", 1).await.contains(&number[6..14]), "the number is masked");
    b.check_page(&app.base).await;
    b.type_into("#conflicts-open input[name=note]", "本人持身份证到柜台核实").await;
    b.click("#conflicts-open button.resolve").await;
    within(10, "the conflict moves to the resolved ones with what it did", || async {
        b.text("#conflicts-resolved", 1).await.contains("冻结 1 张（¥10.00），释放名额 1 个")
    })
    .await;
    b.find("#no-conflicts", 10).await;
    b.screenshot("console-identity-conflicts").await;
    let (status, body) = app.post(&claims, Some(&holder), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "the holder claims now: {body}");
    b.quit().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_passes_the_real_name_check_on_the_batch_page_after_a_named_mismatch() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    let number = yichang_id_number("89");
    let phone = "13900007201";
    let csv = format!("name,id_number,phone\n钱小蓝,{number},{phone}\n");
    let v = quan_engine::risk::real_name::FileVerifier::from_csv(&csv).unwrap_or_else(|e| panic!("{e}"));
    app.engine.use_identity_verifier(std::sync::Arc::new(v));
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "实名批次", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "实名开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "require_real_name": true, "limits": {"per_batch": 1},
            "kinds": [{"stock": 5, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000},
                "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (_, batch) = app.running_campaign(&official, &doc).await;

    let b = Browser::start().await;
    b.go(&app.url("/h5/")).await;
    b.type_into("#phone", phone).await;
    b.click("#send-code").await;
    b.find("#login-msg .msg_ok", 5).await;
    let code = app.sms.last_code(phone).unwrap_or_else(|| panic!("a code was sent"));
    b.type_into("#code", &code).await;
    b.click("#login").await;
    b.find("a.batch", 10).await;
    b.go(&app.url(&format!("/h5/batches/{batch}"))).await;
    b.find("#real-name-form", 10).await;
    b.check_page(&app.base).await;
    b.type_into("#rn_name", "钱小绿").await;
    b.type_into("#rn_id_number", &number).await;
    b.type_into("#rn_phone", phone).await;
    b.click("#real-name-submit").await;
    let said = b.text("#real-name-msg .msg", 5).await;
    assert!(said.contains("不一致"), "the mismatch is named in Chinese: {said}");
    b.script("document.getElementById('rn_name').value = ''").await;
    b.type_into("#rn_name", "钱小蓝").await;
    b.click("#real-name-submit").await;
    within(10, "the check passes and says so with the number masked", || async {
        let t = b.text("#real-name-msg", 1).await;
        t.contains("实名核验") && !t.contains(&number[6..14])
    })
    .await;
    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    b.find("#real-name-done", 10).await;
    b.screenshot("h5-real-name").await;
    b.quit().await;
    app.stop().await;
}
