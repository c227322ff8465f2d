//! The console: an official creates a campaign through the form (one
//! mistake shown beside its field with the rule's name, then fixed), funds
//! it and starts it; an auditor sees the campaign but no write control, and
//! a write sent anyway with the auditor's session is refused.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::at;

use crate::support::{Browser, available, sign_in, within};

fn set(field: &str, value: &str) -> String {
    format!("document.getElementById('{field}').value = '{value}';")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_creates_funds_and_starts_a_campaign_and_an_auditor_may_only_look() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-01T09:00:00+08:00");
    let (_, official_pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let (_, auditor_pw) = app.create_staff("yichang.auditor", Role::Auditor, "4205").await;

    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &official_pw).await;
    b.check_page(&app.base).await;
    b.click("#new-campaign").await;
    b.find("#campaign-form", 5).await;
    for (field, value) in [
        ("#name", "宜昌餐饮消费券"),
        ("#budget", "100000"),
        ("#funding_source", "市级财政促消费专项资金"),
        ("#batch_name", "第一批"),
        ("#kind_code", "c100-20"),
        ("#kind_name", "满100减20"),
        ("#min_order", "100"),
        ("#off", "20"),
        ("#stock", "1000"),
    ] {
        b.type_into(field, value).await;
    }
    // The mistake: the campaign ends before it starts.
    let js = [
        set("starts_on", "2026-12-10"),
        set("ends_on", "2026-12-05"),
        set("opening_at", "2026-12-10T10:00"),
        set("closing_at", "2026-12-10T22:00"),
    ]
    .concat();
    b.script(&format!("{js} return null;")).await;
    b.click("#create").await;
    let error = b.find("#field-error", 10).await;
    let field = error.attr("data-field").await.ok().flatten().unwrap_or_default();
    assert_eq!(field, "campaign.ends_on", "the error stands beside its field");
    let said = error.text().await.unwrap_or_default();
    assert!(said.contains("结束日期") && said.contains("规则"), "{said}");
    b.check_page(&app.base).await;
    b.script(&format!("{} return null;", set("ends_on", "2026-12-31"))).await;
    b.click("#create").await;
    let status = b.text("#campaign-status", 10).await;
    assert_eq!(status, "草稿");
    let campaign_url = b.driver.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    b.click("#fund").await;
    within(10, "the campaign is funded", || async { b.text("#campaign-status", 2).await == "已到账" }).await;
    assert_eq!(b.text("#funded", 2).await, "100000.00");
    b.click("#start").await;
    within(5, "a confirmation is asked", || async { b.driver.accept_alert().await.is_ok() }).await;
    within(10, "the campaign runs", || async { b.text("#campaign-status", 2).await == "进行中" }).await;
    b.check_page(&app.base).await;
    // Running: only more stock or a later close.
    b.type_into("form.amend input[name='add_stock']", "500").await;
    b.click("form.amend button").await;
    within(10, "the stock is added", || async { b.text("#batches", 2).await.contains("（1500）") }).await;
    staff(&app, &b).await;
    b.quit().await;

    let a = Browser::start().await;
    sign_in(&app, &a, "yichang.auditor", &auditor_pw).await;
    assert!(a.driver.find(thirtyfour::By::Css("#new-campaign")).await.is_err(), "no create control for an auditor");
    a.go(&campaign_url).await;
    assert_eq!(a.text("#campaign-status", 5).await, "进行中");
    a.find("#audit-clean", 5).await;
    assert!(a.text("#audit", 2).await.contains("可用：¥100000.00"), "the auditor reads the ledger's balances");
    a.click("#transfers-link").await;
    a.type_into("#reference", "campaign_event:").await;
    a.click("#search-transfers").await;
    // The search is a page load: wait for the new page's rows, not the old page's empty table.
    within(10, "the funding is found by its reference", || async {
        let found = a.text("#transfers tbody", 1).await;
        found.contains("资金到账") && found.contains("100000.00")
    })
    .await;
    a.check_page(&app.base).await;
    a.go(&campaign_url).await;
    for control in ["#fund", "#start", "form.amend", "#edit-draft", "#delete-draft", "#upload-campaign"] {
        assert!(a.driver.find(thirtyfour::By::Css(control)).await.is_err(), "no {control} for an auditor");
    }
    // A write sent anyway, with the auditor's own session and CSRF token.
    let path = campaign_url.trim_start_matches(&app.base).to_owned();
    let js = format!(
        "const done = arguments[0]; const t = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']; \
         fetch('{path}/funding', {{method: 'POST', headers: {{'X-CSRF-Token': t}}, body: new URLSearchParams({{amount: '1'}})}}).then(r => done(r.status));"
    );
    let status = a.driver.execute_async(js, Vec::new()).await.map(|r| r.json().clone()).unwrap_or_default();
    assert!(status == 403 || status == 404, "an auditor's write is refused: {status}");
    a.quit().await;
    app.stop().await;
}

/// Staff in the official's region: an operator created (password shown
/// once), its password reset (the old one stops working), disabled.
async fn staff(app: &TestApp, b: &Browser) {
    b.click("#nav-staff").await;
    b.find("#staff", 10).await;
    b.check_page(&app.base).await;
    b.type_into("#staff-username", "yichang.op2").await;
    b.type_into("#staff-name", "赵六").await;
    b.click("#create-staff").await;
    let first = b.text("#new-password", 10).await;
    assert!(!app.login("yichang.op2", &first).await.is_empty(), "the shown password logs in");
    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let row = "#staff tr[data-username='yichang.op2']";
    assert!(b.text(row, 10).await.contains("运营"));
    b.click(&format!("{row} button.reset")).await;
    within(5, "a confirmation is asked", || async { b.driver.accept_alert().await.is_ok() }).await;
    let second = b.text("#new-password", 10).await;
    assert_ne!(first, second);
    let (status, _) =
        app.post("/api/v1/auth/login", None, &serde_json::json!({"username": "yichang.op2", "password": first})).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "the old password no longer works");
    b.click(&format!("{row} button.disable")).await;
    within(5, "a confirmation is asked", || async { b.driver.accept_alert().await.is_ok() }).await;
    within(10, "the account shows as disabled", || async { b.text(row, 2).await.contains("已停用") }).await;
    let (status, _) =
        app.post("/api/v1/auth/login", None, &serde_json::json!({"username": "yichang.op2", "password": second})).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "a disabled account cannot log in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_approves_a_merchant_from_the_queue_and_a_rejection_needs_a_reason() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-01T09:00:00+08:00");
    let (_, op_pw) = app.create_staff("yichang.operator", Role::Operator, "4205").await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let geojson = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson/420500-yichang.geojson"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = app.client.post(app.url("/api/v1/districts/import?crs=gcj02")).bearer_auth(&official).body(geojson);
    assert!(r.send().await.is_ok_and(|r| r.status().is_success()));
    // The second application pays into the first one's account: a hint of a duplicate.
    let first = quan_testkit::fixtures::application(5, "420502");
    let mut second = quan_testkit::fixtures::application(6, "420502");
    second["application"]["settlement_account"]["account_number"] =
        first["application"]["settlement_account"]["account_number"].clone();
    for a in [first, second] {
        let (status, body) = app.post("/api/v1/merchant-applications", None, &a).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.operator", &op_pw).await;
    b.click("#nav-merchants").await;
    b.find("#merchants tbody tr", 10).await;
    b.check_page(&app.base).await;
    let rows = b.driver.find_all(thirtyfour::By::Css("#merchants tbody tr")).await.map(|r| r.len()).unwrap_or(0);
    assert_eq!(rows, 2, "both applications wait in the queue");
    b.click("#merchants tbody tr:first-child a").await;
    b.find("#review-approve", 10).await;
    let hint = b.text("#alike", 5).await;
    assert!(
        hint.contains("同一结算账号") && hint.contains("有限公司"),
        "the other applicant is named with what they share: {hint}"
    );
    within(10, "the position is drawn on the city's districts", || async {
        b.script("return !!(window.quanCharts && window.quanCharts.ready);").await == serde_json::json!(true)
    })
    .await;
    let drawn = b.script("return echarts.getMap('quan-city').geoJSON.features.length;").await;
    assert_eq!(drawn.as_i64(), Some(13), "Yichang's districts around the position");
    b.check_page(&app.base).await;
    let page = b.driver.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    b.click("#review-reject").await;
    let said = b.text("#review-msg .msg_warn", 10).await;
    assert!(!said.is_empty(), "a rejection without a reason is refused: {said}");
    b.click("#review-approve").await;
    within(10, "the merchant is approved", || async { b.text("#merchant-status", 2).await.contains("已通过") }).await;
    assert!(b.text("#history", 2).await.contains("通过"));
    b.go(&app.url("/console/merchants")).await;
    let rows = b.driver.find_all(thirtyfour::By::Css("#merchants tbody tr")).await.map(|r| r.len()).unwrap_or(0);
    assert_eq!(rows, 1, "one left in the queue");
    b.go(&page).await;
    b.type_into("#reason", "经营地址与执照不符").await;
    b.click("#review-suspend").await;
    within(10, "the merchant is suspended", || async { b.text("#merchant-status", 2).await.contains("已暂停") }).await;
    assert!(b.text("#history", 2).await.contains("经营地址与执照不符"));
    b.quit().await;
    app.stop().await;
}
