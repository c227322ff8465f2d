//! Test mode: a test partner's calls reach the sandbox, a store of its own
//! with a campaign, a shop and a till made by the same use cases as live
//! ones. The bank mints a test resident, binds them with the minted code
//! through the real binding call, mints vouchers, and runs the whole
//! checkout (quote by the voucher's dynamic code, lock, confirm, refund);
//! it fires sample events and gets every event at its endpoint. Nothing
//! reaches the live store (no voucher, redemption, binding or event there),
//! a live partner is refused the sandbox, residents cannot bind a test
//! partner in quan's H5, a cut-off reaches the sandbox's copy, and the
//! sandbox's audit is clean. On SQLite and PostgreSQL (with a second node
//! that finds the same sandbox).

use quan_testkit::fixtures::{at, resident};
use quan_testkit::{TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_partner::{Bank, call, register, register_in};
use crate::api_webhooks::{got, receiver};

#[tokio::test]
async fn a_test_bank_runs_the_whole_checkout_in_the_sandbox_without_touching_live_data_on_sqlite() {
    let opts = TestOptions { sandbox: true, webhooks_allow_private: true, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    sandbox(app, None).await;
}

#[tokio::test]
async fn a_test_bank_runs_the_whole_checkout_in_the_sandbox_without_touching_live_data_on_postgres() {
    let opts = TestOptions {
        backend: quan_testkit::Backend::Postgres,
        sandbox: true,
        webhooks_allow_private: true,
        ..TestOptions::default()
    };
    let Some(app) = TestApp::start(opts).await else { return };
    let node2 = app.second_node().await;
    sandbox(app, node2).await;
}

/// How many rows a table of the live store has.
async fn live_rows(app: &TestApp, table: &'static str) -> String {
    let sql: &'static str = match table {
        "vouchers" => "SELECT CAST(COUNT(*) AS TEXT) FROM vouchers",
        "redemptions" => "SELECT CAST(COUNT(*) AS TEXT) FROM redemptions",
        "partner_bindings" => "SELECT CAST(COUNT(*) AS TEXT) FROM partner_bindings",
        "webhook_events" => "SELECT CAST(COUNT(*) AS TEXT) FROM webhook_events",
        _ => "SELECT CAST(COUNT(*) AS TEXT) FROM campaigns",
    };
    app.query_text(sql).await.concat()
}

async fn mint_bound(app: &TestApp, bank: &Bank) -> String {
    let (status, r) = call(app, bank, "POST", "/partner/v1/sandbox/residents", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let code = r["binding_code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(code.len(), 8, "{r}");
    assert!(r["phone_masked"].as_str().is_some_and(|p| p.contains("****")), "{r}");
    let (status, b) = call(app, bank, "POST", "/partner/v1/bindings", Some(&json!({"binding_code": code}))).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let (status, e) = call(app, bank, "POST", "/partner/v1/bindings", Some(&json!({"binding_code": code}))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "binding_code_invalid"), "once: {e}");
    b["resident_openid"].as_str().unwrap_or_default().to_owned()
}

async fn sandbox(app: TestApp, other_node: Option<TestApp>) {
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, bank) = register_in(&app, "沙箱测试银行", &["checkout", "claim", "bill"], "test").await;
    let (_, live) = register(&app, "正式银行", &["checkout"]).await;
    let (status, e) = call(&app, &live, "GET", "/partner/v1/sandbox", None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::FORBIDDEN, "live_mode"), "{e}");
    let (status, w) = call(&app, &bank, "GET", "/partner/v1/sandbox", None).await;
    assert_eq!(status, StatusCode::OK, "{w}");
    let kinds: Vec<&str> = w["kinds"].as_array().into_iter().flatten().filter_map(|k| k["code"].as_str()).collect();
    assert_eq!(kinds, ["sbx100-20", "sbx50-10"], "{w}");
    let (merchant, till) = (w["merchant_id"].clone(), w["till_id"].clone());
    // Another node (or this one restarted) finds the same world in the store.
    if let Some(node2) = &other_node {
        let (status, w2) = call(node2, &bank, "GET", "/partner/v1/sandbox", None).await;
        assert_eq!((status, &w2["campaign_id"], &w2["till_id"]), (StatusCode::OK, &w["campaign_id"], &till), "{w2}");
    }
    let (url, rx) = receiver().await;
    let (status, set) = call(&app, &bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": url}))).await;
    assert_eq!(status, StatusCode::OK, "{set}");

    let openid = mint_bound(&app, &bank).await;
    let mint = |kind: Option<&str>| json!({"resident_openid": openid, "kind": kind});
    // The batch opens a second after it was made, as any batch would.
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/sandbox/vouchers", Some(&mint(None))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "not_open"), "{e}");
    at(&app, "2026-12-05T09:00:02+08:00");
    let (status, v) = call(&app, &bank, "POST", "/partner/v1/sandbox/vouchers", Some(&mint(Some("sbx100-20")))).await;
    assert_eq!((status, v["face_fen"].as_i64()), (StatusCode::CREATED, Some(2_000)), "{v}");
    let (status, e) =
        call(&app, &bank, "POST", "/partner/v1/sandbox/vouchers", Some(&json!({"resident_openid": "ro_nobody"}))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "resident_not_bound"), "{e}");

    // The whole checkout at the sandbox shop, by the minted code.
    let order = |no: &str| json!({"out_trade_no": no, "voucher_code": v["voucher_code"], "merchant_id": merchant, "till_id": till, "amount_fen": 12_000});
    let quote =
        json!({"voucher_code": v["voucher_code"], "merchant_id": merchant, "till_id": till, "amount_fen": 12_000});
    let (status, q) = call(&app, &bank, "POST", "/partner/v1/checkout/quotes", Some(&quote)).await;
    assert_eq!((status, q["discount_fen"].as_i64()), (StatusCode::OK, Some(2_000)), "{q}");
    let (status, o) = call(&app, &bank, "POST", "/partner/v1/checkout/orders", Some(&order("S1"))).await;
    assert_eq!((status, o["status"].as_str()), (StatusCode::OK, Some("locked")), "{o}");
    let confirm = json!({"transaction_id": "SBX-TX-1"});
    let (status, o) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/S1/confirm", Some(&confirm)).await;
    assert_eq!((status, o["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{o}");
    let refund = json!({"out_refund_no": "SR1", "amount_fen": 1_000});
    let (status, r) = call(&app, &bank, "POST", "/partner/v1/checkout/orders/S1/refunds", Some(&refund)).await;
    assert_eq!((status, r["status"].as_str()), (StatusCode::OK, Some("succeeded")), "{r}");

    // A second voucher: its code asked again, as the phone refreshes it.
    let (_, v2) = call(&app, &bank, "POST", "/partner/v1/sandbox/vouchers", Some(&mint(Some("sbx50-10")))).await;
    let path = format!("/partner/v1/sandbox/vouchers/{}/code", v2["voucher_id"].as_str().unwrap_or_default());
    let (status, c) = call(&app, &bank, "POST", &path, Some(&json!({"resident_openid": openid}))).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert!(c["voucher_code"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
    let other = mint_bound(&app, &bank).await;
    // No kind named: the batch's first.
    let (status, v3) =
        call(&app, &bank, "POST", "/partner/v1/sandbox/vouchers", Some(&json!({"resident_openid": other}))).await;
    assert_eq!((status, v3["kind_code"].as_str()), (StatusCode::CREATED, Some("sbx100-20")), "{v3}");
    let (status, e) = call(&app, &bank, "POST", &path, Some(&json!({"resident_openid": other}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another resident's voucher: {e}");

    events(&app, &bank, &rx).await;
    expiry(&app, &bank, v2["voucher_id"].as_str().unwrap_or_default(), &openid).await;
    renewal(&app, &bank, &w, &openid).await;
    live_untouched(&app, &bank).await;
}

/// Sample events by type, and every event at the partner's endpoint.
async fn events(app: &TestApp, bank: &Bank, rx: &crate::api_webhooks::Shared) {
    let (status, f) =
        call(app, bank, "POST", "/partner/v1/sandbox/events", Some(&json!({"type": "voucher.expired"}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{f}");
    let (status, e) =
        call(app, bank, "POST", "/partner/v1/sandbox/events", Some(&json!({"type": "voucher.melted"}))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "unknown_event_type"), "{e}");
    let (status, list) = call(app, bank, "GET", "/partner/v1/webhooks/events", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let types: Vec<&str> = list.as_array().into_iter().flatten().filter_map(|e| e["type"].as_str()).collect();
    for t in ["voucher.claimed", "redemption.confirmed", "refund.succeeded", "voucher.expired"] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    // One event per voucher at a time, in order: rounds until none is left.
    let mut delivered = 0;
    for _ in 0..10 {
        delivered += app.engine.deliver_webhooks().await.unwrap_or_else(|e| panic!("{e}")).delivered as usize;
    }
    assert_eq!(delivered, types.len(), "{types:?}");
    let bodies: Vec<Value> = got(rx)
        .iter()
        .map(|g| serde_json::from_str(g["body"].as_str().unwrap_or_default()).unwrap_or_default())
        .collect();
    let sample = bodies.iter().find(|b| b["type"] == "voucher.expired").cloned().unwrap_or_default();
    assert_eq!(sample["data"]["sandbox"], true, "{sample}");
}

/// The two unused vouchers run out 30 days after their claims: the bank is
/// told of each (`voucher.expired`, written in the expiry's transaction);
/// the redeemed one neither expires nor is told of.
async fn expiry(app: &TestApp, bank: &Bank, unused: &str, openid: &str) {
    app.clock.advance(chrono::Duration::days(32));
    let sandbox = app.engine.sandbox().unwrap_or_else(|| panic!("a sandbox is attached"));
    let expired = sandbox.expire_all().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(expired.vouchers, 2, "the unused vouchers only");
    let (_, list) = call(app, bank, "GET", "/partner/v1/webhooks/events", None).await;
    let real: Vec<&Value> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "voucher.expired" && e["payload"]["data"]["sandbox"].is_null())
        .collect();
    assert_eq!(real.len(), 2, "{list}");
    let d = &real.iter().find(|e| e["payload"]["data"]["voucher_id"] == unused).copied().unwrap_or_default()["payload"]
        ["data"];
    assert_eq!((d["voucher_id"].as_str(), d["resident_openid"].as_str()), (Some(unused), Some(openid)), "{d}");
    assert_eq!((d["kind_code"].as_str(), d["face_fen"].as_i64()), (Some("sbx50-10"), Some(1_000)), "{d}");
}

/// A year on, the sandbox's batch is about to close: a new world is made,
/// and the partner's channel gets its share in the new batch.
async fn renewal(app: &TestApp, bank: &Bank, old: &Value, openid: &str) {
    app.clock.advance(chrono::Duration::days(340));
    let (status, w) = call(app, bank, "GET", "/partner/v1/sandbox", None).await;
    assert_eq!(status, StatusCode::OK, "{w}");
    assert_ne!(w["batch_id"], old["batch_id"], "a new batch: {w}");
    app.clock.advance(chrono::Duration::seconds(2));
    let mint = json!({"resident_openid": openid});
    let (status, v) = call(app, bank, "POST", "/partner/v1/sandbox/vouchers", Some(&mint)).await;
    assert_eq!(status, StatusCode::CREATED, "the partner's share in the new batch: {v}");
}

async fn live_untouched(app: &TestApp, bank: &Bank) {
    for table in ["vouchers", "redemptions", "partner_bindings", "webhook_events", "campaigns"] {
        assert_eq!(live_rows(app, table).await, "0", "the live store's {table}");
    }
    let sandbox = app.engine.sandbox().unwrap_or_else(|| panic!("a sandbox is attached"));
    for id in sandbox.all_campaign_ids().await.unwrap_or_else(|e| panic!("{e}")) {
        let a = sandbox.audit_campaign_unchecked(id).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(a.is_clean(), "{:?}", a.findings);
    }
    // A resident cannot bind a test partner in quan's H5.
    let token = resident(app, "13800000091").await;
    let (status, e) = app.post("/api/v1/me/partner-bindings", Some(&token), &json!({"partner_id": bank.id})).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "partner_not_found"), "{e}");
    // A cut-off reaches the sandbox's copy (its webhooks stop there too).
    // A month passed: an official of the region logs in.
    let (_, official) = app.staff("sandbox.tester", quan_domain::Role::Official, "4205").await;
    let path = format!("/api/v1/partners/{}/suspend", bank.id);
    let (status, s) = app.post(&path, Some(&official), &json!({"reason": "测试结束"})).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let id = uuid::Uuid::parse_str(&bank.id).unwrap_or_default();
    let copy = sandbox.store().partner(id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(copy.status.as_str(), "suspended");
    let (status, e) = call(app, bank, "GET", "/partner/v1/sandbox", None).await;
    assert_eq!((status, error_code(&e)), (StatusCode::FORBIDDEN, "partner_suspended"), "{e}");
}
