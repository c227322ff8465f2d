//! Districts and lists: an official previews a boundary file on a map and
//! in a table before importing it (another city's file would be refused
//! whole: nothing to confirm), imports it, and imports an eligibility list.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::at;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};

fn geojson(name: &str) -> String {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/regions/geojson")
        .join(name)
        .canonicalize()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .to_string_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_previews_and_imports_boundaries_and_a_list() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-01T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &pw).await;
    b.click("#nav-districts").await;
    b.find("#no-districts", 5).await;

    // Another city's file: every feature outside, nothing to confirm.
    b.find("#geojson-file", 5)
        .await
        .send_keys(geojson("440300-shenzhen.geojson"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.click("#preview-import").await;
    let said = b.text("#preview-result", 10).await;
    assert!(said.contains("0 个区县将导入") && said.contains("不在您的辖区"), "{said}");
    assert!(b.driver.find(thirtyfour::By::Css("#confirm-import")).await.is_err());

    b.driver.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    b.find("#geojson-file", 5)
        .await
        .send_keys(geojson("420500-yichang.geojson"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    within(10, "the file is drawn before it is sent", || async {
        b.script("return !!(window.quanCharts && window.quanCharts.ready) && window.quanCharts.features;").await
            == json!(13)
    })
    .await;
    b.type_into("#source", "宜昌市民政局 2026").await;
    b.click("#preview-import").await;
    b.find("#preview-rows tr[data-code='420502']", 10).await;
    let rows = b.driver.find_all(thirtyfour::By::Css("#preview-rows tbody tr")).await.map(|r| r.len()).unwrap_or(0);
    assert_eq!(rows, 13);
    assert!(b.text("#preview-result", 5).await.contains("13 个区县将导入"));
    b.check_page(&app.base).await;
    b.click("#confirm-import").await;
    within(10, "the boundaries are imported", || async {
        b.driver.find_all(thirtyfour::By::Css("#districts tbody tr")).await.map(|r| r.len()).unwrap_or(0) == 13
    })
    .await;
    assert!(b.text("#districts tr[data-code='420502']", 5).await.contains("西陵区"));

    // An eligibility list: two good numbers, one bad; then its count.
    b.type_into("#list-name", "困难群众").await;
    b.script("document.getElementById('list-kind').value = 'phone'; return null;").await;
    b.type_into("#list-values", "13900001111\n13900002222\n1234").await;
    b.click("#import-list").await;
    let said = b.text("#list-msg .msg", 10).await;
    assert!(said.contains("新增 2 人") && said.contains("无效 1 行") && said.contains("第 3 行"), "{said}");
    b.go(&app.url("/console/districts?list=困难群众")).await;
    assert_eq!(b.text("#list-count", 5).await, "2");
    b.quit().await;
}
