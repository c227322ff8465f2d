//! Health, readiness, metrics and the docs page.

use quan_testkit::TestApp;
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness_answer_on_both_backends() {
    let app = TestApp::sqlite().await;
    assert_eq!(app.get("/healthz", None).await, (StatusCode::OK, serde_json::json!({"status": "ok"})));
    assert_eq!(
        app.get("/readyz", None).await,
        (StatusCode::OK, serde_json::json!({"status": "ready", "database": "sqlite"}))
    );
    if let Some(pg) = TestApp::postgres().await {
        assert_eq!(
            pg.get("/readyz", None).await,
            (StatusCode::OK, serde_json::json!({"status": "ready", "database": "postgres"}))
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_pool_and_build() {
    let app = TestApp::sqlite().await;
    for _ in 0..3 {
        app.get("/healthz", None).await;
    }
    app.get("/api/v1/users/123", None).await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(text.contains(r#"quan_http_requests_total{method="GET",route="/healthz",status="200"} 3"#), "{text}");
    assert!(
        text.contains(r#"route="/api/v1/users/{id}",status="401"} 1"#),
        "routes are labelled by pattern, not by id: {text}"
    );
    assert!(text.contains("quan_http_request_duration_seconds_bucket{"), "{text}");
    assert!(text.contains("quan_db_pool_max 8"), "{text}");
    assert!(text.contains(r#"quan_claim_commit_retries_total{cause="deadlock"} 0"#), "{text}");
    assert!(text.contains(r#"quan_redemption_commit_retries_total{cause="deadlock"} 0"#), "{text}");
    assert!(text.contains(r#"quan_build_info{version=""#), "{text}");
}

#[tokio::test]
async fn the_docs_page_is_served_without_the_internet() {
    let app = TestApp::sqlite().await;
    let resp = app.client.get(app.url("/docs/")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap_or_default();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "every asset is local: {html}");
    let js = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(js.status(), StatusCode::OK, "the vendored bundle is served");
    let (status, doc) = app.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
}
