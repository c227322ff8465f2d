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

/// NUL (and every control character) in a text field, path or query is a
/// named 4xx on both backends: nothing stored, nothing a 500.
async fn control_characters_are_refused_by_name_everywhere(app: TestApp) {
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let (_, operator) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let shop = crate::api_redemptions::shop(&app, 7, "catering").await;
    let mut app_nul = crate::api_merchants::application(8, "420502");
    app_nul["application"]["legal_name"] = json!("宜昌\u{0}商户");
    let mut campaign = json!({"campaign": {"name": "抢\u{0}券", "region": "4205", "budget_fen": 100, "funding_source": "财政",
        "starts_on": "2026-12-01", "ends_on": "2026-12-31"}, "batches": []});
    let cases: Vec<(String, Option<&str>, serde_json::Value, &str)> = vec![
        ("/api/v1/merchant-applications".into(), None, app_nul, "application.legal_name"),
        ("/api/v1/campaigns".into(), Some(&official), campaign.take(), "campaign.name"),
        (
            format!("/api/v1/merchants/{}/tills", shop.id),
            Some(&shop.owner),
            json!({"code": "T02", "name": "二\u{0}号"}),
            "name",
        ),
        (
            format!("/api/v1/merchants/{}/review", shop.id),
            Some(&operator),
            json!({"action": "suspend", "reason": "a\u{0}b"}),
            "reason",
        ),
        (
            "/api/v1/users".into(),
            Some(&official),
            json!({"username": "auditor.a", "role": "auditor", "region": "4205", "display_name": "审\u{1}计"}),
            "display_name",
        ),
    ];
    for (path, token, body, field) in cases {
        let (status, answer) = app.post(&path, token, &body).await;
        assert_eq!(
            (status, error_code(&answer)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            "{path}: {answer}"
        );
        assert_eq!(answer["error"]["details"]["path"], field, "{path}: {answer}");
    }
    let put = app
        .client
        .put(app.url(&format!("/api/v1/merchants/{}/products/sku%00x", shop.id)))
        .bearer_auth(&shop.owner)
        .json(&json!({"name": "电视", "brand": "x", "category": "tv", "price_fen": 100}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(put.status(), StatusCode::BAD_REQUEST, "a NUL in the path");
    let (status, body) = app.get("/api/v1/merchants?q=a%00b", Some(&operator)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "control_character"), "{body}");
    let (status, body) = app.post("/api/v1/lists/win%00ners/members", Some(&official), &json!({"members": []})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "control_character"), "{body}");
    let (_, mine) = app.get(&format!("/api/v1/merchants/{}/tills", shop.id), Some(&shop.owner)).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "nothing stored: {mine}");
}

#[tokio::test]
async fn control_characters_are_refused_by_name_on_sqlite() {
    control_characters_are_refused_by_name_everywhere(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn control_characters_are_refused_by_name_on_postgres() {
    if let Some(app) = TestApp::postgres().await {
        control_characters_are_refused_by_name_everywhere(app).await;
    }
}

#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_the_integer_json_says_it_is() {
    let app = TestApp::sqlite().await;
    let (cid, _, official) = crate::api_redemptions::campaign(&app).await;
    let (status, body) =
        app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 100.0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "read as 100 fen, refused by the rule, not the type: {body}");
    assert_eq!(error_code(&body), "invalid_transition", "{body}");
    let (status, body) =
        app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 100.5})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"), "{body}");
}
