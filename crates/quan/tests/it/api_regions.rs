//! Region scoping: an official sees only what lies inside their region,
//! and an object outside it is a 404, never a 403 that confirms it exists.

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

async fn an_official_of_4205_gets_404_for_an_account_of_3301(app: TestApp) {
    let (_, yichang) = app.staff("yichang.official", Role::Official, "4205").await;
    let (hangzhou_user, _) = app.create_staff("hangzhou.auditor", Role::Auditor, "3301").await;
    let (xiling_user, _) = app.create_staff("xiling.auditor", Role::Auditor, "420502").await;

    let (status, body) = app.get(&format!("/api/v1/users/{}", hangzhou_user.id), Some(&yichang)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), "not_found");
    let (_, unknown) = app.get("/api/v1/users/01900000-0000-7000-8000-000000000000", Some(&yichang)).await;
    assert_eq!(
        body["error"]["message"], unknown["error"]["message"],
        "outside the region looks exactly like nonexistent"
    );

    let (status, body) = app.get(&format!("/api/v1/users/{}", xiling_user.id), Some(&yichang)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["region"], "420502");

    let (status, list) = app.get("/api/v1/users", Some(&yichang)).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<_> =
        list["users"].as_array().map(|a| a.iter().filter_map(|u| u["username"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"hangzhou.auditor"));

    let (status, body) = app
        .post(
            "/api/v1/users",
            Some(&yichang),
            &json!({"username": "sneaky", "role": "auditor", "region": "3301", "display_name": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "region_outside_yours");

    let (status, _) =
        app.post(&format!("/api/v1/users/{}/disable", hangzhou_user.id), Some(&yichang), &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "cannot disable what it cannot see");
}

#[tokio::test]
async fn an_official_of_4205_gets_404_for_an_account_of_3301_on_sqlite() {
    an_official_of_4205_gets_404_for_an_account_of_3301(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn an_official_of_4205_gets_404_for_an_account_of_3301_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    an_official_of_4205_gets_404_for_an_account_of_3301(app).await;
}

#[tokio::test]
async fn an_official_creates_staff_and_a_generated_password_works_once_shown() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let (status, body) = app
        .post("/api/v1/users", Some(&token), &json!({"username": "xiling.operator", "role": "operator", "region": "420502", "display_name": "西陵区运营"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pw = body["generated_password"].as_str().unwrap_or_default().to_owned();
    assert_eq!(pw.len(), 20);
    assert!(body["user"].get("password_hash").is_none(), "the hash is never sent");
    let op = app.login("xiling.operator", &pw).await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            Some(&op),
            &json!({"username": "abc", "role": "auditor", "region": "420502", "display_name": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "operators do not create accounts: {body}");
    let (status, body) = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({"username": "xiling.operator", "role": "auditor", "region": "4205", "display_name": "x"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "username_taken"));
}

#[tokio::test]
async fn residents_cannot_reach_staff_endpoints() {
    let app = TestApp::sqlite().await;
    app.post("/api/v1/auth/sms-codes", None, &json!({"phone": "13912345678"})).await;
    let code = app.sms.last_code("13912345678").unwrap_or_default();
    let (_, s) = app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": "13912345678", "code": code})).await;
    let token = s["token"].as_str().unwrap_or_default().to_owned();
    let (status, body) = app.get("/api/v1/users", Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
}
