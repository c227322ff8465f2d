//! Flow 3: the T+1 report page draws Yichang's 13 districts on a map
//! coloured by redemption amount (the chart's series read from the page),
//! and its XLSX download, whose SHA-256 the page shows, opens with a real
//! XLSX reader (calamine).

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::{at, resident, shop};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{Browser, available, sign_in, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_draws_the_district_map_and_its_xlsx_opens() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let official = app.login("yichang.official", &pw).await;
    let geojson = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson/420500-yichang.geojson"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = app.client.post(app.url("/api/v1/districts/import?crs=gcj02")).bearer_auth(&official).body(geojson);
    assert!(r.send().await.is_ok_and(|r| r.status().is_success()));
    let doc = json!({
        "campaign": {"name": "报表测试", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
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
    let token = resident(&app, "13900004444").await;
    let (_, claimed) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
    let voucher = claimed["vouchers"][0]["id"].as_str().unwrap_or_default();
    let (_, code) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(&token)).await;
    let (status, _) = app
        .post("/api/v1/redemptions", Some(&s.cashier), &json!({"code": code["code"], "order_amount_fen": 15_000}))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // The same day, the campaign page shows today's redemptions as they come.
    let t = Browser::start().await;
    sign_in(&app, &t, "yichang.official", &pw).await;
    t.go(&app.url(&format!("/console/campaigns/{cid}"))).await;
    assert_eq!(t.text("#today-count", 10).await, "1");
    assert_eq!(t.text("#today-subsidy", 2).await, "20.00");
    assert!(t.text("#today-industries", 2).await.contains("餐饮"), "by industry");
    t.quit().await;

    at(&app, "2026-12-06T01:00:00+08:00");
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &pw).await;
    b.go(&app.url(&format!("/console/campaigns/{cid}"))).await;
    b.click("#reports-link").await;
    assert_eq!(b.text("#total-redemptions", 10).await, "1");
    within(10, "the map is drawn", || async {
        b.script("return !!(window.quanCharts && window.quanCharts.ready);").await == json!(true)
    })
    .await;
    let data =
        b.script("return window.quanCharts.map.getOption().series[0].data.map(d => [d.code, d.name, d.value]);").await;
    let data = data.as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 13, "Yichang's 13 districts: {data:?}");
    let xiling = data.iter().find(|d| d[0] == "420502").unwrap_or_else(|| panic!("Xiling is on the map"));
    assert_eq!(
        (xiling[1].as_str(), xiling[2].as_f64()),
        (Some("西陵区"), Some(20.0)),
        "Xiling coloured by its ¥20 subsidy"
    );
    let regions = b.script("return echarts.getMap('quan-districts').geoJSON.features.length;").await;
    assert_eq!(regions.as_i64(), Some(13), "the map registered from the served GeoJSON");
    b.check_page(&app.base).await;
    b.script("document.getElementById('report-map').scrollIntoView(); return null;").await;
    b.screenshot("report-map").await;

    // The XLSX, as the browser downloads it: its hash is the one shown, and a real reader opens it.
    let link = b.find("#download-XLSX", 5).await;
    let href = link.attr("href").await.ok().flatten().unwrap_or_default();
    let shown = b.find("#downloads code.sha", 5).await.attr("data-sha").await.ok().flatten().unwrap_or_default();
    let js = format!(
        "const done = arguments[0]; fetch('{href}').then(r => r.arrayBuffer().then(b => done([r.status, Array.from(new Uint8Array(b))])));"
    );
    let got = b.driver.execute_async(js, Vec::new()).await.map(|r| r.json().clone()).unwrap_or_default();
    assert_eq!(got[0], 200);
    let bytes: Vec<u8> = got[1].as_array().into_iter().flatten().filter_map(|v| v.as_u64()).map(|v| v as u8).collect();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), shown, "the download is the file the page's hash names");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("a real XLSX: {e}"));
    let sheets = book.sheet_names();
    assert!(sheets.contains(&"区县".to_owned()) && sheets.contains(&"投诉".to_owned()), "{sheets:?}");
    let districts = book.worksheet_range("区县").unwrap_or_else(|e| panic!("{e}"));
    let text: Vec<String> = districts.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(text.iter().any(|c| c == "西陵区"), "the district sheet names Xiling: {text:?}");
    let js = "const done = arguments[0]; fetch(document.getElementById('close-out').getAttribute('href')).then(r => r.json().then(j => done([r.status, j])));";
    let got = b.driver.execute_async(js, Vec::new()).await.map(|r| r.json().clone()).unwrap_or_default();
    assert_eq!(got[0], 200, "the close-out report downloads: {got}");
    b.quit().await;
}
