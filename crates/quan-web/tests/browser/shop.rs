//! Flow 4: a shop applies through the public form (its credit code checked
//! as it is typed), an operator approves it through the API, and the owner
//! creates a till and a cashier in the pages (the password shown once).

use quan_domain::Role;
use quan_store::conformance::credit_code;
use quan_testkit::TestApp;
use quan_testkit::fixtures::at;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_applies_in_the_form_is_approved_and_its_owner_creates_a_till_and_a_cashier() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let geojson = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson/420500-yichang.geojson"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = app.client.post(app.url("/api/v1/districts/import?crs=gcj02")).bearer_auth(&official).body(geojson);
    assert!(r.send().await.is_ok_and(|r| r.status().is_success()));

    let b = Browser::start().await;
    b.go(&app.url("/merchant/apply")).await;
    b.find("#legal_name", 5).await;
    b.check_page(&app.base).await;
    let good = credit_code(7).to_string();
    let mut bad = good.clone();
    let last = if bad.ends_with('1') { '2' } else { '1' };
    bad.pop();
    bad.push(last);
    b.type_into("#credit_code", &bad).await;
    let said = b.text("#credit-msg .msg_warn", 5).await;
    assert!(said.contains("校验位"), "a wrong check digit is named as it is typed: {said}");
    b.type_into("#credit_code", &good).await;
    b.find("#credit-msg .msg_ok", 5).await;
    for (field, value) in [
        ("#legal_name", "宜昌页面测试餐馆"),
        ("#address", "西陵区东湖大道2号"),
        ("#lat", "30.70"),
        ("#lng", "111.29"),
        ("#contact_name", "李四"),
        ("#contact_phone", "13812340000"),
        ("#bank_name", "中国银行宜昌分行"),
        ("#account_name", "宜昌页面测试餐馆"),
        ("#account_number", "6222020200112234"),
        ("#username", "pageowner"),
        ("#password", "owner password 2"),
    ] {
        b.type_into(field, value).await;
    }
    b.script("document.getElementById('address_district').value = '420502'; return null;").await;
    b.click("#apply").await;
    let done = b.text("#apply-msg .msg_ok", 10).await;
    assert!(done.contains("申请已提交"), "{done}");

    // The operator approves through the API.
    let (_, op) = app.staff("op.4205", Role::Operator, "4205").await;
    let (_, list) = app.get("/api/v1/merchants?status=pending", Some(&op)).await;
    let id = list["merchants"][0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) =
        app.post(&format!("/api/v1/merchants/{id}/review"), Some(&op), &json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The owner signs in, creates a till and a cashier.
    b.go(&app.url("/merchant/")).await;
    b.type_into("#username", "pageowner").await;
    b.type_into("#password", "owner password 2").await;
    b.click("#login").await;
    let status = b.text("#status", 10).await;
    assert!(status.contains("已通过"), "{status}");
    b.check_page(&app.base).await;
    b.type_into("#till-code", "T09").await;
    b.type_into("#till-name", "九号收银台").await;
    b.click("#create-till").await;
    let tills = b.text("#tills", 10).await;
    let tills = if tills.contains("T09") {
        tills
    } else {
        crate::support::within(10, "the new till is listed", || async { b.text("#tills", 1).await.contains("T09") })
            .await;
        b.text("#tills", 1).await
    };
    assert!(tills.contains("九号收银台"), "{tills}");
    b.type_into("#cashier-username", "pagecashier").await;
    b.type_into("#cashier-name", "王五").await;
    b.click("#create-cashier").await;
    let password = b.text("#cashier-password", 10).await;
    assert!(password.len() >= 12, "a generated password is shown once: {password}");
    let cashier = app.login("pagecashier", &password).await;
    assert!(!cashier.is_empty(), "the cashier can log in with it");
    staff_and_catalogue(&app, &b, &password).await;
    b.quit().await;
    app.stop().await;
}

/// The owner resets the cashier's password (the old one stops working),
/// disables and re-enables them, and keeps a catalogue whose prices have
/// a history.
async fn staff_and_catalogue(app: &TestApp, b: &Browser, first_password: &str) {
    b.go(&app.url("/merchant/")).await;
    let row = b.text("#cashiers li[data-cashier=pagecashier]", 10).await;
    assert!(row.contains("王五") && row.contains("T09"), "{row}");
    b.click("#cashiers li[data-cashier=pagecashier] button.reset").await;
    accept(b).await;
    let second = b.text("#cashier-password", 10).await;
    assert_ne!(second, first_password);
    let (status, _) =
        app.post("/api/v1/auth/login", None, &json!({"username": "pagecashier", "password": first_password})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password no longer works");
    assert!(!app.login("pagecashier", &second).await.is_empty());

    b.click("#cashiers li[data-cashier=pagecashier] button.disable").await;
    accept(b).await;
    crate::support::within(10, "the cashier shows as disabled", || async {
        b.text("#cashiers li[data-cashier=pagecashier]", 2).await.contains("已停用")
    })
    .await;
    let (status, body) =
        app.post("/api/v1/auth/login", None, &json!({"username": "pagecashier", "password": second})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a disabled cashier cannot log in: {body}");
    b.click("#cashiers li[data-cashier=pagecashier] button.enable").await;
    crate::support::within(10, "the cashier is enabled again", || async {
        !b.text("#cashiers li[data-cashier=pagecashier]", 2).await.contains("已停用")
    })
    .await;

    b.go(&app.url("/merchant/catalogue")).await;
    b.find("#sku", 5).await;
    b.check_page(&app.base).await;
    for (field, value) in [
        ("#sku", "AC-01"),
        ("#brand", "格力"),
        ("#model", "KFR-35GW"),
        ("#category", "air_conditioner"),
        ("#energy_class", "1"),
        ("#price", "3999"),
    ] {
        b.type_into(field, value).await;
    }
    b.click("#add-item").await;
    let item = b.text("#items li[data-sku=AC-01]", 10).await;
    assert!(item.contains("¥3999.00"), "{item}");
    b.type_into("#items li[data-sku=AC-01] input[name=price]", "3799.5").await;
    b.click("#items li[data-sku=AC-01] button.reprice").await;
    crate::support::within(10, "the new price shows", || async {
        b.text("#items li[data-sku=AC-01]", 2).await.contains("¥3799.50")
    })
    .await;
    b.click("#items li[data-sku=AC-01] button.history").await;
    let history = b.text("#items li[data-sku=AC-01] .prices", 10).await;
    assert!(history.contains("¥3999.00") && history.contains("¥3799.50"), "every price is kept: {history}");
    for page in ["/merchant/redemptions", "/merchant/settlements"] {
        b.go(&app.url(page)).await;
        b.find("nav.tabs", 5).await;
        b.check_page(&app.base).await;
    }
}

/// Accepts the page's confirmation dialog.
async fn accept(b: &Browser) {
    crate::support::within(5, "a confirmation is asked", || async { b.driver.accept_alert().await.is_ok() }).await;
}
