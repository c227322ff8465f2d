//! Every error has one shape; bad input gets a precise answer; a broken
//! database gets a 500 or 503 that tells the client nothing internal.

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn malformed_json_is_a_400_naming_where_it_broke() {
    let app = TestApp::sqlite().await;
    let (status, body) =
        app.post_raw("/api/v1/auth/login", "application/json", b"{\"username\": \"a\",".to_vec()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "malformed_json"));
    assert_eq!(body["error"]["details"]["line"], 1);
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_400_with_its_path() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({"username": "abc", "role": "emperor", "region": "4205", "display_name": "x"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"));
    assert_eq!(body["error"]["details"]["path"], "role");
    let (status, body) = app
        .post("/api/v1/users", Some(&token), &json!({"username": "abc", "role": "auditor", "display_name": "x"}))
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"));
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("region"), "{body}");
    let (status, body) = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({"username": "abc", "role": "auditor", "region": "42a5", "display_name": "x"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
    assert_eq!(body["error"]["details"]["path"], "region");
}

#[tokio::test]
async fn a_body_that_is_not_json_or_too_large_is_refused_in_the_error_shape() {
    let app = TestApp::sqlite().await;
    let (status, body) = app.post_raw("/api/v1/auth/login", "text/plain", b"hi".to_vec()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let big = format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(100 * 1024));
    let (status, body) = app.post_raw("/api/v1/auth/login", "application/json", big.into_bytes()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_error_shape_and_a_request_id() {
    let app = TestApp::sqlite().await;
    let (status, body) = app.get("/api/v1/nothing-here", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let resp = app
        .client
        .delete(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("trace-me-123"));
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    assert_eq!(error_code(&body), "method_not_allowed");
    assert_eq!(body["error"]["request_id"], "trace-me-123", "a sane incoming request id is kept");
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(!id.is_empty() && !id.contains(' '), "an insane one is replaced: {id}");
}

#[tokio::test]
async fn a_broken_schema_gives_a_500_that_tells_nothing_internal() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    // Every authenticated request now fails inside the store, the way a
    // damaged schema would.
    app.exec_sql("ALTER TABLE sessions RENAME TO sessions_gone").await;
    let (status, body) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
    let text = body.to_string().to_lowercase();
    for leak in ["sqlite", "sqlx", "table", "no such", "sessions"] {
        assert!(!text.contains(leak), "the 500 leaks `{leak}`: {body}");
    }
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK, "the process itself is still alive");
    app.exec_sql("ALTER TABLE sessions_gone RENAME TO sessions").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::OK, "and recovers with the database");
}

async fn a_lost_database_connection_makes_the_server_unready(app: TestApp) {
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    assert_eq!(app.get("/readyz", None).await.0, StatusCode::OK);
    app.close_database().await;
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"));
    let (status, body) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_lost_database_connection_makes_the_server_unready_on_sqlite() {
    a_lost_database_connection_makes_the_server_unready(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_lost_database_connection_makes_the_server_unready_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    a_lost_database_connection_makes_the_server_unready(app).await;
}
