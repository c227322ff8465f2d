//! A merchant's books and staff through the API: redemptions by day and
//! till, settlement lines, cashiers and a password reset — for its owner
//! only (another merchant's owner finds nothing).

use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

use crate::api_redemptions::{campaign, code_of, holder, shop};

#[tokio::test]
async fn an_owner_reads_redemptions_by_day_and_till_and_resets_a_cashiers_password() {
    let app = TestApp::sqlite().await;
    let (_, batch, _) = campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    let other = shop(&app, 2, "catering").await;
    crate::api_redemptions::at(&app, "2026-12-05T10:00:00+08:00");
    let (resident, voucher) = holder(&app, &batch, "13900005555").await;
    let code = code_of(&app, &resident, &voucher).await;
    let (status, body) =
        app.post("/api/v1/redemptions", Some(&s.cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let day = "from=2026-12-05&to=2026-12-05";
    let (status, list) = app.get(&format!("/api/v1/merchants/{}/redemptions?{day}", s.id), Some(&s.owner)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["discount_fen"], 2000);
    let (_, at_till) =
        app.get(&format!("/api/v1/merchants/{}/redemptions?{day}&till_id={}", s.id, s.till), Some(&s.owner)).await;
    assert_eq!(at_till.as_array().map(Vec::len), Some(1));
    let (_, next_day) =
        app.get(&format!("/api/v1/merchants/{}/redemptions?from=2026-12-06&to=2026-12-06", s.id), Some(&s.owner)).await;
    assert_eq!(next_day.as_array().map(Vec::len), Some(0));
    let (status, body) =
        app.get(&format!("/api/v1/merchants/{}/redemptions?from=2026-12-06&to=2026-12-05", s.id), Some(&s.owner)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "days_reversed"), "{body}");
    let (status, _) = app.get(&format!("/api/v1/merchants/{}/redemptions?{day}", s.id), Some(&other.owner)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another merchant's books are not there");
    let (status, lines) = app.get(&format!("/api/v1/merchants/{}/settlements", s.id), Some(&s.owner)).await;
    assert_eq!((status, lines.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));

    let (status, cashiers) = app.get(&format!("/api/v1/merchants/{}/cashiers", s.id), Some(&s.owner)).await;
    assert_eq!(status, StatusCode::OK, "{cashiers}");
    assert_eq!(cashiers[0]["username"], "cashier1");
    let uid = cashiers[0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, _) =
        app.post(&format!("/api/v1/merchants/{}/cashiers/{uid}/password", s.id), Some(&other.owner), &json!({})).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status}");
    let (status, reset) =
        app.post(&format!("/api/v1/merchants/{}/cashiers/{uid}/password", s.id), Some(&s.owner), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    let fresh = reset["generated_password"].as_str().unwrap_or_default().to_owned();
    let (status, _) = app.get("/api/v1/me", Some(&s.cashier)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the cashier's old session ended");
    let (status, _) =
        app.post("/api/v1/auth/login", None, &json!({"username": "cashier1", "password": s.cashier_pw})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password no longer works");
    assert!(!app.login("cashier1", &fresh).await.is_empty());
}

#[tokio::test]
async fn staff_list_merchants_by_district_industry_and_scale_and_a_bad_filter_is_named() {
    let app = TestApp::sqlite().await;
    let s = crate::api_redemptions::shop_in(&app, 1, "catering", "420502", "small").await;
    crate::api_redemptions::shop_in(&app, 2, "retail", "420503", "large").await;
    let (_, op) = app.staff("yichang.lister", quan_domain::Role::Operator, "4205").await;
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["merchants"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str().map(str::to_owned)).collect()
    };
    let (status, all) = app.get("/api/v1/merchants?status=approved", Some(&op)).await;
    assert_eq!((status, ids(&all).len()), (StatusCode::OK, 2), "{all}");
    let (_, one) = app.get("/api/v1/merchants?district=420502&industry=catering&scale=small", Some(&op)).await;
    assert_eq!(ids(&one), vec![s.id.clone()], "{one}");
    let (_, none) = app.get("/api/v1/merchants?district=420502&scale=large", Some(&op)).await;
    assert!(ids(&none).is_empty(), "{none}");
    for bad in ["district=42", "scale=huge", "industry=weapons"] {
        let (status, body) = app.get(&format!("/api/v1/merchants?{bad}"), Some(&op)).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"), "{bad}: {body}");
    }
}
