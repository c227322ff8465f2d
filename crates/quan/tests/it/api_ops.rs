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

async fn scrape(app: &TestApp, base: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = app.client.get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
    (resp.status(), resp.text().await.unwrap_or_default())
}

/// `promtool check metrics` on a page; in CI promtool must be there.
fn promtool_accepts(page: &str) {
    use std::io::Write as _;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("promtool is required in CI: {e}"),
        Err(e) => {
            eprintln!("skipped: promtool is not installed ({e})");
            return;
        }
    };
    child.stdin.take().map(|mut i| i.write_all(page.as_bytes())).transpose().unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}");
}

#[tokio::test]
async fn any_verb_a_client_invents_is_counted_as_other_and_promtool_accepts_the_page() {
    let app = TestApp::sqlite().await;
    for i in 0..50 {
        let verb = reqwest::Method::from_bytes(format!("WHATEVER{i}").as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        app.client.request(verb, app.url("/healthz")).send().await.unwrap_or_else(|e| panic!("{e}"));
    }
    app.get("/healthz", None).await;
    let (status, page) = scrape(&app, &app.base, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("WHATEVER"), "no client verb becomes a label: {page}");
    assert!(page.contains(r#"quan_http_requests_total{method="other",route="/healthz",status="405"} 50"#), "{page}");
    for name in ["quan_http_requests_total", "quan_db_pool_max", "quan_build_info", "quan_sessions_remembered"] {
        assert!(page.contains(&format!("# HELP {name} ")), "{name} has its HELP: {page}");
    }
    promtool_accepts(&page);
}

#[tokio::test]
async fn metrics_can_be_kept_behind_a_token_or_on_their_own_listener() {
    let metrics = quan_http::MetricsAccess { on_api_listener_off: false, token: Some("scrape-secret".into()) };
    let app = TestApp::start(quan_testkit::TestOptions { metrics, ..quan_testkit::TestOptions::default() })
        .await
        .unwrap_or_else(|| panic!("SQLite is always available"));
    assert_eq!(scrape(&app, &app.base, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, &app.base, Some("wrong")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, &app.base, Some("scrape-secret")).await.0, StatusCode::OK);

    // A second server on the same engine with metrics only on their own port.
    let config = quan_http::HttpConfig {
        metrics: quan_http::MetricsAccess { on_api_listener_off: true, token: None },
        ..quan_http::HttpConfig::default()
    };
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let side = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let (api_base, side_base) = (
        format!("http://{}", api.local_addr().unwrap_or_else(|e| panic!("{e}"))),
        format!("http://{}", side.local_addr().unwrap_or_else(|e| panic!("{e}"))),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = app.engine.clone();
    let server = tokio::spawn(async move {
        quan_http::serve_with_metrics_listener(engine, &config, api, Some(side), async {
            let _ = stopped.await;
        })
        .await
    });
    assert_eq!(scrape(&app, &api_base, None).await.0, StatusCode::NOT_FOUND, "not on the API's port");
    let (status, page) = scrape(&app, &side_base, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("quan_build_info"), "{page}");
    let _ = stop.send(());
    let _ = server.await;
}
