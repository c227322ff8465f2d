//! A bank refunds part of a payment it confirmed, by its own `out_refund_no`:
//! the subsidy shrinks only when what is left of the order falls below the
//! voucher's threshold; the same number answers the same refund (another
//! amount or order is refused by name); a refund beyond what is left is
//! refused; the last refund gives the voucher back; the reverse after
//! partial refunds refunds the rest; every refund is a `refund.succeeded`
//! event; the till's money and the audit balance. On SQLite and PostgreSQL.

use quan_testkit::fixtures::{at, shop};
use quan_testkit::{TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::json;

use crate::api_partner::{call, register};
use crate::api_redemptions::code_of;
use crate::api_risk_cases::{campaign, claims};

#[tokio::test]
async fn a_bank_refunds_part_of_a_payment_by_its_own_number_on_sqlite() {
    refunds(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_bank_refunds_part_of_a_payment_by_its_own_number_on_postgres() {
    let opts = TestOptions { backend: quan_testkit::Backend::Postgres, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    refunds(app).await;
}

/// Locks and confirms `voucher` for an order of `amount` as `no`.
async fn paid(app: &TestApp, bank: &crate::api_partner::Bank, token: &str, voucher: &str, shop: &str, no: &str) {
    let code = code_of(app, token, voucher).await;
    let lock = json!({"voucher_code": code, "merchant_id": shop, "amount_fen": 15_000, "out_trade_no": no});
    let (status, o) = call(app, bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let path = format!("/partner/v1/checkout/orders/{no}/confirm");
    let (status, c) = call(app, bank, "POST", &path, Some(&json!({"transaction_id": format!("WX{no}")}))).await;
    assert_eq!((status, c["discount_fen"].as_i64()), (StatusCode::OK, Some(2_000)), "{c}");
}

async fn refunds(app: TestApp) {
    let (cid, batch) = campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (resident, vouchers) = claims(&app, &batch, "13800000001", 3).await;
    let (_, bank) = register(&app, "宜昌银行", &["checkout"]).await;
    paid(&app, &bank, &resident, &vouchers[0], &s.id, "P1").await;
    app.clock.advance(chrono::Duration::minutes(30));
    let refund = |no: &str, amount: i64| json!({"out_refund_no": no, "amount_fen": amount});
    let path = "/partner/v1/checkout/orders/P1/refunds";

    // 150 元 less 30: 120 left, still over the 100 threshold: the subsidy stands.
    let (status, r1) = call(&app, &bank, "POST", path, Some(&refund("R1", 3_000))).await;
    assert_eq!((status, r1["status"].as_str()), (StatusCode::OK, Some("succeeded")), "{r1}");
    assert_eq!((r1["subsidy_returned_fen"].as_i64(), r1["voucher_back"].as_bool()), (Some(0), Some(false)), "{r1}");
    // The same number again answers the same refund; another amount is refused.
    let (status, again) = call(&app, &bank, "POST", path, Some(&refund("R1", 3_000))).await;
    assert_eq!((status, &again["refund_id"]), (StatusCode::OK, &r1["refund_id"]), "{again}");
    let (status, e) = call(&app, &bank, "POST", path, Some(&refund("R1", 100))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "out_refund_no_reused"), "{e}");
    // More than what is left, nothing, or a bad number: refused by name.
    let (status, e) = call(&app, &bank, "POST", path, Some(&refund("R2", 12_001))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "bad_refund_amount"), "{e}");
    let (status, e) = call(&app, &bank, "POST", path, Some(&refund("R2", 0))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "amount_positive"), "{e}");
    let (status, e) = call(&app, &bank, "POST", path, Some(&refund("R 2", 100))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "order_no_format"), "{e}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/P9/refunds", Some(&refund("R2", 1))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "order_not_found"), "{e}");
    // 40 more: 80 left, under the threshold: the 20 元 subsidy goes back to the budget.
    let (status, r2) = call(&app, &bank, "POST", path, Some(&refund("R2", 4_000))).await;
    assert_eq!((status, r2["subsidy_returned_fen"].as_i64()), (StatusCode::OK, Some(2_000)), "{r2}");
    // The rest: the voucher is the resident's again.
    let (status, r3) = call(&app, &bank, "POST", path, Some(&refund("R3", 8_000))).await;
    assert_eq!((status, r3["voucher_back"].as_bool()), (StatusCode::OK, Some(true)), "{r3}");
    let (status, e) = call(&app, &bank, "POST", path, Some(&refund("R4", 1))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "redemption_reversed"), "{e}");
    let (status, looked) = call(&app, &bank, "GET", "/partner/v1/checkout/refunds/R2", None).await;
    assert_eq!(
        (status, &looked["refund_id"], looked["out_trade_no"].as_str()),
        (StatusCode::OK, &r2["refund_id"], Some("P1"))
    );
    let (status, e) = call(&app, &bank, "GET", "/partner/v1/checkout/refunds/R9", None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "refund_not_found"), "{e}");

    // Part refunded, then reversed: the reverse refunds the rest.
    paid(&app, &bank, &resident, &vouchers[1], &s.id, "P2").await;
    let (status, _) =
        call(&app, &bank, "POST", "/partner/v1/checkout/orders/P2/refunds", Some(&refund("R5", 1_000))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, rv) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/P2/reverse", Some(&json!({}))).await;
    assert_eq!((status, rv["status"].as_str()), (StatusCode::OK, Some("reversed")), "{rv}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/P2/refunds", Some(&refund("R6", 1))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "order_reversed"), "{e}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&resident)).await;
    assert_eq!(wallet.to_string().matches("\"claimed\"").count(), 3, "both vouchers back, the third unused: {wallet}");

    // The merchant's till refunds part of a payment made through the bank: the bank is told.
    paid(&app, &bank, &resident, &vouchers[2], &s.id, "P3").await;
    let (_, p3) = call(&app, &bank, "GET", "/partner/v1/checkout/orders/P3", None).await;
    let rid = p3["redemption_id"].as_str().unwrap_or_default().to_owned();
    let till =
        app.post(&format!("/api/v1/redemptions/{rid}/refunds"), Some(&s.cashier), &json!({"amount_fen": 1_500})).await;
    assert_eq!(till.0, StatusCode::CREATED, "{}", till.1);

    // Each refund is an event, in order, with its numbers.
    let (_, events) = call(&app, &bank, "GET", "/partner/v1/webhooks/events", None).await;
    let refunded: Vec<&str> = events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "refund.succeeded")
        .filter_map(|e| e["payload"]["data"]["out_refund_no"].as_str())
        .collect();
    assert_eq!(refunded, ["R1", "R2", "R3", "R5"], "{events}");
    let by_till: Vec<&serde_json::Value> = events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "refund.succeeded" && e["payload"]["data"]["refunded_by"] == "merchant")
        .collect();
    assert_eq!(by_till.len(), 1, "{events}");
    let d = &by_till[0]["payload"]["data"];
    assert_eq!(
        (d["out_trade_no"].as_str(), d["amount_fen"].as_i64(), d["out_refund_no"].is_null()),
        (Some("P3"), Some(1_500), true),
        "{d}"
    );

    // The day settled: the bank is told its bill is ready, once however often the run is made.
    at(&app, "2026-12-06T01:00:00+08:00");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    for _ in 0..2 {
        app.engine.settle(day).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let (_, events) = call(&app, &bank, "GET", "/partner/v1/webhooks/events", None).await;
    let ready: Vec<&serde_json::Value> =
        events.as_array().into_iter().flatten().filter(|e| e["type"] == "settlement.ready").collect();
    assert_eq!(ready.len(), 1, "{events}");
    let d = &ready[0]["payload"]["data"];
    assert_eq!(
        (d["business_day"].as_str(), d["orders"].as_i64()),
        (Some("2026-12-05"), Some(2)),
        "P1 and P3; P2 was reversed: {d}"
    );
    let (_, official) = app.staff("refunds.official2", quan_domain::Role::Official, "4205").await;
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(a["clean"], true, "{a}");
}
