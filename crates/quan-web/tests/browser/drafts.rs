//! A campaign file in the console: an official uploads the Yichang example
//! with a mistake (said beside its field's path), fixes it, edits the draft
//! as its file (renamed), and deletes it.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::at;

use crate::support::{Browser, available, sign_in, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_uploads_a_campaign_file_edits_the_draft_and_deletes_one() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-01T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/420500-yichang.toml");
    let good = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad_path = dir.path().join("yichang.toml");
    std::fs::write(&bad_path, good.replacen("region = \"4205\"", "region = \"3301\"", 1))
        .unwrap_or_else(|e| panic!("{e}"));

    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &pw).await;
    b.click("#upload-campaign").await;
    b.find("#file-form", 5).await;
    b.check_page(&app.base).await;
    b.find("#file", 5).await.send_keys(bad_path.to_string_lossy()).await.unwrap_or_else(|e| panic!("{e}"));
    b.click("#file-submit").await;
    let error = b.find("#field-error", 10).await;
    assert_eq!(error.attr("data-field").await.ok().flatten().as_deref(), Some("campaign.region"));
    assert_eq!(error.attr("data-rule").await.ok().flatten().as_deref(), Some("region_outside_yours"));
    std::fs::write(&bad_path, &good).unwrap_or_else(|e| panic!("{e}"));
    b.find("#file", 5).await.send_keys(bad_path.to_string_lossy()).await.unwrap_or_else(|e| panic!("{e}"));
    b.click("#file-submit").await;
    assert_eq!(b.text("#campaign-status", 10).await, "草稿");

    // Edit the draft as its file: renamed.
    b.click("#edit-draft").await;
    let text = b.find("#text", 5).await.prop("value").await.ok().flatten().unwrap_or_default();
    assert!(text.contains("[campaign]") && text.contains("[[batches]]"), "the draft as its file: {text}");
    b.script("const t = document.getElementById('text'); t.value = t.value.replace(/^name = \".*\"$/m, 'name = \"宜昌市消费券（改）\"'); return null;").await;
    b.click("#file-submit").await;
    within(10, "the edited draft shows", || async {
        b.text("h1.page__title", 2).await == "宜昌市消费券（改）"
    })
    .await;
    b.check_page(&app.base).await;

    // Delete it: gone from the list.
    b.click("#delete-draft").await;
    within(5, "a confirmation is asked", || async { b.driver.accept_alert().await.is_ok() }).await;
    b.find("#campaigns", 10).await;
    assert!(!b.text("#campaigns", 2).await.contains("宜昌市消费券（改）"), "the deleted draft is not listed");
    b.quit().await;
}
