//! The cash-out rules at redemption, through the API: a redemption that
//! meets a rule set to hold stands for the resident while its subsidy is
//! held; settlement does not pay it; an operator releases it (the next
//! settlement pays it) or recovers it (back to the budget); a refund takes
//! held money back first; the audit stays clean throughout. A rule set to
//! refuse names itself.

use quan_domain::Role;
use quan_domain::cashout::{Action, Rule, Rules, Setting};
use quan_testkit::{TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::{Shop, at, campaign, code_of, holder, shop};

/// A till may redeem once a minute: the second in a minute meets `till_velocity`.
fn one_a_minute(action: Action) -> Rules {
    let mut rules = Rules { till_minute_max: 1, ..Rules::default() };
    rules.settings.insert(Rule::TillVelocity, Setting { score: 2, action });
    rules
}

async fn redeem(app: &TestApp, batch: &str, cashier: &str, phone: &str) -> (StatusCode, Value) {
    let (token, voucher) = holder(app, batch, phone).await;
    let code = code_of(app, &token, &voucher).await;
    app.post("/api/v1/redemptions", Some(cashier), &json!({"code": code, "order_amount_fen": 12_000})).await
}

/// The campaign's audit (as `quan audit verify` runs it: staff sessions
/// end overnight while the clock moves on).
async fn audit_clean(app: &TestApp, campaign: &str) {
    let id: quan_domain::CampaignId = campaign.parse().unwrap_or_else(|_| panic!("a campaign id"));
    let a = app.engine.audit_campaign_unchecked(id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(a.is_clean(), "{:?}", a.findings);
}

#[tokio::test]
async fn a_held_redemption_is_not_settled_until_released_and_a_recovered_one_never_is() {
    let opts = TestOptions { cashout: one_a_minute(Action::Hold), ..TestOptions::default() };
    held_released_and_recovered(TestApp::start(opts).await.unwrap_or_else(|| panic!("sqlite"))).await;
}

#[tokio::test]
async fn holds_on_postgres_settle_release_and_recover_the_same() {
    let opts = TestOptions {
        backend: quan_testkit::Backend::Postgres,
        cashout: one_a_minute(Action::Hold),
        ..TestOptions::default()
    };
    let Some(app) = TestApp::start(opts).await else { return };
    held_released_and_recovered(app).await;
}

async fn held_released_and_recovered(app: TestApp) {
    let (cid, bid, official) = campaign(&app).await;
    let Shop { cashier, owner, .. } = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let mut ids = Vec::new();
    for phone in ["13700030001", "13700030002", "13700030003"] {
        let (status, r) = redeem(&app, &bid, &cashier, phone).await;
        assert_eq!(status, StatusCode::CREATED, "the redemption stands for the resident: {r}");
        ids.push(r["id"].as_str().unwrap_or_default().to_owned());
    }
    let (_, op) = app.staff("yichang.risk.op", Role::Operator, "4205").await;
    let (status, holds) = app.get("/api/v1/risk-holds", Some(&op)).await;
    assert_eq!(status, StatusCode::OK, "{holds}");
    let held: Vec<&str> =
        holds.as_array().map_or(vec![], |a| a.iter().filter_map(|h| h["redemption_id"].as_str()).collect());
    assert_eq!(held, vec![ids[1].as_str(), ids[2].as_str()], "the second and third in the minute: {holds}");
    assert_eq!(holds[0]["rules"], json!(["till_velocity"]));
    assert_eq!((holds[0]["held_fen"].as_i64(), holds[0]["still_held_fen"].as_i64()), (Some(2000), Some(2000)));
    assert_eq!(app.get("/api/v1/risk-holds", Some(&official)).await.0, StatusCode::FORBIDDEN, "operators work them");
    audit_clean(&app, &cid).await;

    // The third is refunded below its threshold: its held subsidy goes back first.
    let (status, f) =
        app.post(&format!("/api/v1/redemptions/{}/refunds", ids[2]), Some(&owner), &json!({"amount_fen": 5_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let (_, holds) = app.get("/api/v1/risk-holds", Some(&op)).await;
    assert_eq!(holds.as_array().map(Vec::len), Some(1), "nothing is held of the third any more: {holds}");
    audit_clean(&app, &cid).await;

    at(&app, "2026-12-06T01:00:00+08:00");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let run = app.engine.settle(day).await.unwrap_or_else(|e| panic!("{e}"));
    let paid: i64 = run.new.iter().map(|s| s.amount.as_i64()).sum();
    assert_eq!(paid, 2000, "only the redemption not held is settled: {:?}", run.new);
    audit_clean(&app, &cid).await;

    // The next morning: staff sign in again.
    let (_, op) = app.staff("yichang.risk.op2", Role::Operator, "4205").await;
    let owner = app.login("owner1", "owner password 1").await;
    let path = |id: &str, what: &str| format!("/api/v1/risk-holds/{id}/{what}");
    let (status, r) = app.post(&path(&ids[1], "release"), Some(&op), &json!({"note": "核实为正常排队结账"})).await;
    assert_eq!((status, r["outcome"].as_str()), (StatusCode::OK, Some("released")), "{r}");
    let (status, r) = app.post(&path(&ids[1], "recover"), Some(&op), &json!({"note": "again"})).await;
    assert_eq!((status, error_code(&r)), (StatusCode::CONFLICT, "hold_decided"));
    let (status, r) = app.post(&path(&ids[2], "recover"), Some(&op), &json!({"note": "虚构交易"})).await;
    assert_eq!((status, r["outcome"].as_str()), (StatusCode::OK, Some("recovered")), "{r}");
    let (status, f) =
        app.post(&format!("/api/v1/redemptions/{}/refunds", ids[2]), Some(&owner), &json!({"amount_fen": 1_000})).await;
    assert_eq!((status, error_code(&f)), (StatusCode::CONFLICT, "redemption_recovered"), "{f}");
    assert!(app.get("/api/v1/risk-holds", Some(&op)).await.1.as_array().is_some_and(Vec::is_empty));
    audit_clean(&app, &cid).await;

    at(&app, "2026-12-07T01:00:00+08:00");
    let next = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
    let run = app.engine.settle(next).await.unwrap_or_else(|e| panic!("{e}"));
    let paid: i64 = run.new.iter().map(|s| s.amount.as_i64()).sum();
    assert_eq!(paid, 2000, "the released one is paid by the next settlement: {:?}", run.new);
    audit_clean(&app, &cid).await;
    // The T+1 reports: held on the 5th (two holds of ¥20), decided on the 6th.
    let id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|_| panic!("a campaign id"));
    let figures = |day| {
        let app = &app;
        async move { app.engine.daily_report_unchecked(id, day).await.unwrap_or_else(|e| panic!("{e}")).0.risk }
    };
    let first = figures(day).await;
    assert_eq!((first.held_fen, first.released_fen, first.recovered_fen), (4_000, 0, 0), "{first:?}");
    let second = figures(next).await;
    // The third was refunded below its threshold first: all its held ¥20 had gone back.
    assert_eq!((second.held_fen, second.released_fen, second.recovered_fen), (4_000, 2_000, 0), "{second:?}");
    assert_eq!(second.rows.len(), 1, "one district and industry: {second:?}");
}

#[tokio::test]
async fn a_rule_set_to_refuse_refuses_the_redemption_naming_itself() {
    let opts = TestOptions { cashout: one_a_minute(Action::Refuse), ..TestOptions::default() };
    let app = TestApp::start(opts).await.unwrap_or_else(|| panic!("sqlite"));
    let (_, bid, _) = campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 2, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    assert_eq!(redeem(&app, &bid, &cashier, "13700031001").await.0, StatusCode::CREATED);
    let (status, body) = redeem(&app, &bid, &cashier, "13700031002").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "risk_refused"), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("till_velocity")), "{body}");
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(redeem(&app, &bid, &cashier, "13700031003").await.0, StatusCode::CREATED, "a minute later");
}

fn quick_refund(action: Action) -> Rules {
    let mut rules = Rules::default();
    rules.settings.insert(Rule::QuickRefund, Setting { score: 2, action });
    rules
}

#[tokio::test]
async fn a_refund_soon_after_its_redemption_is_refused_or_opens_the_merchants_case_as_configured() {
    let app = TestApp::start(TestOptions { cashout: quick_refund(Action::Refuse), ..TestOptions::default() })
        .await
        .unwrap_or_else(|| panic!("sqlite"));
    let (_, bid, _) = campaign(&app).await;
    let Shop { cashier, owner, .. } = shop(&app, 3, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (_, r) = redeem(&app, &bid, &cashier, "13700032001").await;
    let refund = format!("/api/v1/redemptions/{}/refunds", r["id"].as_str().unwrap_or_default());
    let (status, e) = app.post(&refund, Some(&owner), &json!({"amount_fen": 12_000})).await;
    assert_eq!((status, error_code(&e)), (StatusCode::FORBIDDEN, "risk_refused"), "{e}");
    assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("quick_refund")), "{e}");
    app.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(app.post(&refund, Some(&owner), &json!({"amount_fen": 12_000})).await.0, StatusCode::CREATED, "later");

    let app = TestApp::start(TestOptions { cashout: quick_refund(Action::Hold), ..TestOptions::default() })
        .await
        .unwrap_or_else(|| panic!("sqlite"));
    let (_, bid, _) = campaign(&app).await;
    let Shop { id: merchant, cashier, owner, .. } = shop(&app, 4, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (_, r) = redeem(&app, &bid, &cashier, "13700032002").await;
    let refund = format!("/api/v1/redemptions/{}/refunds", r["id"].as_str().unwrap_or_default());
    let (status, f) = app.post(&refund, Some(&owner), &json!({"amount_fen": 2_000})).await;
    assert_eq!(status, StatusCode::CREATED, "the refund stands: {f}");
    let (_, op) = app.staff("yichang.risk.op3", Role::Operator, "4205").await;
    let (_, cases) = app.get("/api/v1/risk-cases", Some(&op)).await;
    assert_eq!(
        (cases[0]["source"].as_str(), cases[0]["settlement_held"].clone()),
        (Some("quick_refund"), json!([merchant])),
        "{cases}"
    );
    assert!(cases[0]["summary"].as_str().is_some_and(|s| s.contains("核销后快速退款")), "{cases}");
}
