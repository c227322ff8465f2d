//! Settlement in the console: the day's line of a Xiling shop; the bank's
//! confirmation paying another amount is said as a mismatch; a channel bill
//! with an order quan never saw and without quan's order shows both.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::{at, resident, shop};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reads_a_days_settlement_and_every_mismatch_of_the_bank_and_the_bill() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "结算测试", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "kinds": [{"stock": 10, "kind": {"code": "c100-20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": 10000, "off_fen": 2000},
                "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (_, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    let (cid, batch) =
        (created["campaign"]["id"].as_str().unwrap_or(""), created["batches"][0]["id"].as_str().unwrap_or(""));
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 1_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    let s = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let token = resident(&app, "13900003333").await;
    let (_, claimed) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
    let voucher = claimed["vouchers"][0]["id"].as_str().unwrap_or_default();
    let (_, code) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(&token)).await;
    let body = json!({"code": code["code"], "order_amount_fen": 15_000, "order_ref": "POS-0001"});
    let (status, _) = app.post("/api/v1/redemptions", Some(&s.cashier), &body).await;
    assert_eq!(status, StatusCode::CREATED);
    at(&app, "2026-12-06T01:00:00+08:00");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let run = app.engine.settle(day).await.unwrap_or_else(|e| panic!("{e}"));
    let id = run.all[0].0.id;

    let (_, pw) = app.create_staff("yichang.settle.op", Role::Operator, "4205").await;
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.settle.op", &pw).await;
    b.go(&app.url("/console/settlement?day=2026-12-05")).await;
    let row = b.text("#settlements tbody tr", 5).await;
    assert!(row.contains("20.00") && row.contains("已付款"), "{row}");
    b.check_page(&app.base).await;

    // The payout file the bank takes: the line with the shop's full account.
    let href = b.find("#payout-file", 5).await.attr("href").await.ok().flatten().unwrap_or_default();
    let js = format!("const done = arguments[0]; fetch('{href}').then(r => r.text().then(t => done([r.status, t])));");
    let got = b.driver.execute_async(js, Vec::new()).await.map(|r| r.json().clone()).unwrap_or_default();
    let payout = got[1].as_str().unwrap_or_default();
    assert_eq!(got[0], 200);
    assert!(
        payout.trim_start_matches('\u{feff}').starts_with("settlement_id,")
            && payout.contains(&id.to_string())
            && payout.contains(",2000,20.00"),
        "{payout}"
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let confirmation = dir.path().join("bank.csv");
    std::fs::write(&confirmation, format!("settlement_id,paid_fen,bank_ref\n{id},1900,B-77\nnot-an-id,1,B-78\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    b.find("#confirmation-file", 5)
        .await
        .send_keys(confirmation.to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.click("#confirm-upload").await;
    let said = b.text("#confirmation-msg .file-result", 10).await;
    assert!(said.contains("应付 ¥20.00，银行实付 ¥19.00") && said.contains("第 3 行无法读取"), "{said}");

    let bill = dir.path().join("bill.csv");
    std::fs::write(&bill, "order_id,amount,discount,time\nPOS-9999,50.00,10.00,2026-12-05T09:30:00+08:00\nPOS-9998,60.00,10.00,2026-12-05T12:00:00+08:00\n")
        .unwrap_or_else(|e| panic!("{e}"));
    b.find("#bill-file", 5).await.send_keys(bill.to_string_lossy()).await.unwrap_or_else(|e| panic!("{e}"));
    b.click("#bill-upload").await;
    let said = b.text("#bill-msg .file-result", 10).await;
    assert!(
        said.contains("POS-9999：账单有、平台无此核销") && said.contains("POS-0001：平台有核销、账单缺失"),
        "{said}"
    );
    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(b.text("#settlements tbody tr", 5).await.contains("金额不符"), "the line now shows the mismatch");
    b.quit().await;
}
