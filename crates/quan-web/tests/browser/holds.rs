//! Redemptions held by the cash-out rules in the console: an operator sees
//! the held one with the rule it met, releases one and recovers another
//! from the page, and the list empties.

use quan_domain::Role;
use quan_domain::cashout::{Action, Rule, Rules, Setting};
use quan_testkit::fixtures::{Shop, at, resident, shop};
use quan_testkit::{TestApp, TestOptions};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_releases_and_recovers_held_redemptions_from_the_console() {
    if !available() {
        return;
    }
    let mut cashout = Rules { till_minute_max: 1, ..Rules::default() };
    cashout.settings.insert(Rule::TillVelocity, Setting { score: 2, action: Action::Hold });
    let app =
        TestApp::start(TestOptions { cashout, ..TestOptions::default() }).await.unwrap_or_else(|| panic!("sqlite"));
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "餐饮券", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "limits": {"per_batch": 1},
            "kinds": [{"stock": 10, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000},
                "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (cid, batch) = app.running_campaign(&official, &doc).await;
    let Shop { id: merchant, cashier, .. } = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    for phone in ["13900007301", "13900007302", "13900007303"] {
        let token = resident(&app, phone).await;
        let (_, c) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
        let voucher = c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();
        let (_, code) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(&token)).await;
        let body = json!({"code": code["code"], "order_amount_fen": 3_000});
        let (status, r) = app.post("/api/v1/redemptions", Some(&cashier), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{r}");
    }

    let (_, pw) = app.create_staff("yichang.risk", Role::Operator, "4205").await;
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.risk", &pw).await;
    b.go(&app.url("/console/risk-holds")).await;
    b.find("#holds-open tr.hold", 10).await;
    b.check_page(&app.base).await;
    let listed = b.text("#holds-open", 1).await;
    assert!(listed.contains("收银台核销过快") && listed.contains("¥10.00"), "the rule and the held subsidy: {listed}");
    b.screenshot("console-risk-holds").await;
    b.type_into("#holds-open tr.hold input[name=note]", "核实为正常排队结账").await;
    b.click("#holds-open tr.hold button.release").await;
    within(10, "one hold is left", || async { b.text("#holds-open .card__title", 1).await.contains("（1）") }).await;
    b.type_into("#holds-open tr.hold input[name=note]", "虚构交易，追回补贴").await;
    b.click("#holds-open tr.hold button.recover").await;
    b.find("#no-holds", 10).await;
    let id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|_| panic!("campaign id"));
    let audit = app.engine.audit_campaign_unchecked(id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(audit.is_clean(), "{:?}", audit.findings);
    use quan_domain::ledger::{Account, AccountKind};
    let m: quan_domain::MerchantId = merchant.parse().unwrap_or_else(|_| panic!("merchant id"));
    let balance = |kind| Account { campaign: id, kind, merchant: Some(m) };
    let payable = app.store.account_balance(&balance(AccountKind::Payable)).await.unwrap_or_else(|e| panic!("{e}"));
    let held = app.store.account_balance(&balance(AccountKind::RiskHeld)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((payable, held), (2000, 0), "the one not held and the released one are owed; the recovered one is not");
    b.quit().await;
    app.stop().await;
}
