//! Risk cases in the console: the night's analysis finds a ring of four
//! residents at one shop; an operator opens the case from the list, reads
//! the finding, the held shop and the graph, freezes the ring's unused
//! vouchers with a note, and closes the case as a false alarm, which
//! releases both; the timeline records each step.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::{Shop, at, resident, shop};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};

/// Four residents each claim three 满100减20 vouchers and spend two at `ring`
/// on orders just over ¥100; six others spend one each at `honest`.
async fn a_ring(app: &TestApp) -> (Shop, String) {
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "餐饮券", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "limits": {"per_batch": 3},
            "kinds": [{"stock": 100, "kind": {"code": "c100-20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": 10000, "off_fen": 2000},
                "validity": {"type": "days_after_claim", "days": 10}}}]}]
    });
    let (cid, batch) = app.running_campaign(&official, &doc).await;
    let ring = shop(app, 1, "catering").await;
    let honest = shop(app, 2, "catering").await;
    at(app, "2026-12-05T12:00:00+08:00");
    for (i, (cashier, claims, spends)) in
        std::iter::repeat_n((&ring.cashier, 3, 2), 4).chain(std::iter::repeat_n((&honest.cashier, 1, 1), 6)).enumerate()
    {
        let token = resident(app, &format!("139000074{i:02}")).await;
        for k in 0..claims {
            let (_, c) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
            if k >= spends {
                continue;
            }
            let voucher = c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();
            let (_, code) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(&token)).await;
            let amount = if claims == 3 { 10_050 } else { 16_000 + 100 * i as i64 };
            let (status, r) = app
                .post("/api/v1/redemptions", Some(cashier), &json!({"code": code["code"], "order_amount_fen": amount}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{r}");
        }
    }
    (ring, cid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_works_a_ring_case_from_the_console() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    let (ring, cid) = a_ring(&app).await;
    at(&app, "2026-12-06T00:30:00+08:00");
    let run = app.engine.analyse().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.cases_opened, 1, "{run:?}");

    let (_, pw) = app.create_staff("yichang.risk", Role::Operator, "4205").await;
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.risk", &pw).await;
    b.go(&app.url("/console/risk-cases")).await;
    b.find("#cases tr.case", 10).await;
    b.check_page(&app.base).await;
    let listed = b.text("#cases", 1).await;
    assert!(listed.contains("疑似套现团伙") && listed.contains("4 名居民") && listed.contains("处理中"), "{listed}");
    let figures = b.text("#case-figures", 1).await;
    assert!(figures.contains("处理中 1 件") && figures.contains("暂停结算的商户 1 家"), "{figures}");
    b.click("#cases a.case-link").await;
    b.find("#case-graph svg", 10).await;
    b.check_page(&app.base).await;
    let held = b.text("#case-merchants", 1).await;
    assert!(held.contains(&ring.id) && held.contains("已暂停"), "the ring's shop is held: {held}");
    b.screenshot("console-risk-case").await;
    b.type_into("#act-form input[name=note]", "团伙成员未用券先冻结").await;
    b.click("#act-freeze").await;
    within(10, "four vouchers are frozen", || async { b.text("#case-frozen", 1).await.contains("4 张") }).await;
    b.type_into("#act-form input[name=note]", "核实为真实消费").await;
    b.click("#act-false").await;
    within(10, "the case is closed", || async { b.text("#case-status", 1).await.contains("误报") }).await;
    let steps = b.text("#case-steps", 1).await;
    for s in ["立案", "暂停结算", "冻结居民未用券", "恢复结算", "解冻消费券", "结案", "团伙成员未用券先冻结"]
    {
        assert!(steps.contains(s), "{s} in {steps}");
    }
    assert!(b.text("#case-frozen", 1).await.contains("0 张"), "a false alarm releases the vouchers");
    b.go(&app.url("/console/risk-cases")).await;
    let figures = b.text("#case-figures", 10).await;
    assert!(
        figures.contains("处理中 0 件") && figures.contains("误报 1 件") && figures.contains("商户 0 家"),
        "{figures}"
    );
    let id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|_| panic!("campaign id"));
    let audit = app.engine.audit_campaign_unchecked(id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(audit.is_clean(), "{:?}", audit.findings);
    b.quit().await;
    app.stop().await;
}
