//! Merchants through the API: applications, review, region scoping, tills,
//! cashiers, the catalogue.

use quan_domain::Role;
use quan_store::conformance::credit_code;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub use quan_testkit::fixtures::application;

#[tokio::test]
async fn a_merchant_applies_is_reviewed_in_its_region_and_its_owner_follows_along() {
    let app = TestApp::sqlite().await;
    let (status, body) = app.post("/api/v1/merchant-applications", None, &application(1, "420502")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["merchant"]["status"], "pending");
    assert_eq!(body["merchant"]["contact_phone_masked"], "138****5678");
    assert_eq!(body["merchant"]["account_number_masked"], "6222****2233");
    assert!(!body.to_string().contains("13812345678"), "the full phone number is not shown");
    let id = body["merchant"]["id"].as_str().unwrap_or_default().to_owned();
    let owner = app.login("owner1", "owner password 1").await;
    let (status, mine) = app.get(&format!("/api/v1/merchants/{id}"), Some(&owner)).await;
    assert_eq!((status, mine["status"].as_str()), (StatusCode::OK, Some("pending")));

    let (_, yichang_op) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let (_, hangzhou_op) = app.staff("hangzhou.operator", Role::Operator, "3301").await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let review = |token: String, action: &str, reason: &str| {
        let (app, id) = (&app, id.clone());
        let body = json!({"action": action, "reason": reason});
        async move { app.post(&format!("/api/v1/merchants/{id}/review"), Some(&token), &body).await }
    };
    let (status, _) = review(hangzhou_op.clone(), "approve", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another city's operator cannot see it");
    let (status, body) = review(official.clone(), "approve", "").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "officials do not approve");
    let (status, body) = review(yichang_op.clone(), "reject", "").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "required"),
        "a rejection needs a reason"
    );
    let (_, body) = review(yichang_op.clone(), "approve", "").await;
    assert_eq!(body["status"], "approved");
    let (_, body) = review(official.clone(), "suspend", "疑似套现").await;
    assert_eq!((body["status"].as_str(), body["status_reason"].as_str()), (Some("suspended"), Some("疑似套现")));
    let (status, body) = review(yichang_op.clone(), "approve", "").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_transition"));
    let (_, history) = app.get(&format!("/api/v1/merchants/{id}/reviews"), Some(&owner)).await;
    let actions: Vec<_> = history.as_array().into_iter().flatten().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(actions, vec!["approve", "suspend"]);
    let (_, list) = app.get("/api/v1/merchants?status=suspended", Some(&yichang_op)).await;
    assert_eq!(list["merchants"].as_array().map(Vec::len), Some(1));
    let (_, list) = app.get("/api/v1/merchants", Some(&hangzhou_op)).await;
    assert_eq!(list["merchants"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn bad_applications_name_the_field_and_the_rule() {
    let app = TestApp::sqlite().await;
    let mut bad = application(2, "420502");
    let code = bad["application"]["credit_code"].as_str().unwrap_or_default().to_owned();
    let last = code.chars().last().unwrap_or('0');
    bad["application"]["credit_code"] = json!(format!("{}{}", &code[..17], if last == '0' { '1' } else { '0' }));
    let (status, body) = app.post("/api/v1/merchant-applications", None, &bad).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "credit_code_check_digit"));
    assert_eq!(body["error"]["details"]["field"], "credit_code");
    let mut bad = application(3, "420502");
    bad["application"]["settlement_account"]["account_number"] = json!("12ab");
    let (_, body) = app.post("/api/v1/merchant-applications", None, &bad).await;
    assert_eq!(
        (error_code(&body), body["error"]["details"]["field"].as_str()),
        ("bad_account_number", Some("settlement_account.account_number"))
    );
    let mut bad = application(4, "420502");
    bad["application"]["industry"] = json!("bakery");
    let (status, body) = app.post("/api/v1/merchant-applications", None, &bad).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"));
    assert_eq!(body["error"]["details"]["path"], "application.industry");
    app.post("/api/v1/merchant-applications", None, &application(5, "420502")).await;
    let mut again = application(5, "420502");
    again["owner"]["username"] = json!("someone.else");
    let (status, body) = app.post("/api/v1/merchant-applications", None, &again).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "credit_code_taken"));
}

#[tokio::test]
async fn an_owner_sets_up_tills_cashiers_and_a_catalogue_with_price_history() {
    let app = TestApp::sqlite().await;
    let (_, body) = app.post("/api/v1/merchant-applications", None, &application(7, "420503")).await;
    let id = body["merchant"]["id"].as_str().unwrap_or_default().to_owned();
    let owner = app.login("owner7", "owner password 1").await;
    let (status, till) = app
        .post(&format!("/api/v1/merchants/{id}/tills"), Some(&owner), &json!({"code": "T01", "name": "一号收银台"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{till}");
    let (status, body) =
        app.post(&format!("/api/v1/merchants/{id}/tills"), Some(&owner), &json!({"code": "T01", "name": "重复"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "till_code_taken"));
    let (status, cashier) = app
        .post(
            &format!("/api/v1/merchants/{id}/cashiers"),
            Some(&owner),
            &json!({"username": "cashier7", "display_name": "收银员", "till_id": till["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cashier}");
    assert_eq!(
        (cashier["user"]["role"].as_str(), cashier["user"]["till_id"].as_str()),
        (Some("cashier"), till["id"].as_str())
    );
    let pw = cashier["generated_password"].as_str().unwrap_or_default().to_owned();
    let c = app.login("cashier7", &pw).await;
    let (status, _) = app.get(&format!("/api/v1/merchants/{id}/tills"), Some(&c)).await;
    assert_eq!(status, StatusCode::OK, "a cashier sees its merchant");
    let (status, _) =
        app.post(&format!("/api/v1/merchants/{id}/tills"), Some(&c), &json!({"code": "T02", "name": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the owner adds tills");

    let put = |price: i64| {
        let url = app.url(&format!("/api/v1/merchants/{id}/products/KFR-35GW"));
        let body = json!({"brand": "格力", "model": "云佳", "category": "air_conditioner", "energy_class": "1", "list_price_fen": price});
        app.client.put(url).bearer_auth(&owner).json(&body).send()
    };
    assert_eq!(put(329_900).await.map(|r| r.status()).ok(), Some(StatusCode::OK));
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(put(359_900).await.map(|r| r.status()).ok(), Some(StatusCode::OK));
    let (_, prices) = app.get(&format!("/api/v1/merchants/{id}/products/KFR-35GW/prices"), Some(&owner)).await;
    let seen: Vec<_> = prices.as_array().into_iter().flatten().filter_map(|p| p["price_fen"].as_i64()).collect();
    assert_eq!(seen, vec![329_900, 359_900], "a raised price stays visible");
    let (_, other) = app.post("/api/v1/merchant-applications", None, &application(8, "420503")).await;
    let other_id = other["merchant"]["id"].as_str().unwrap_or_default();
    let (status, _) = app.get(&format!("/api/v1/merchants/{other_id}"), Some(&owner)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an owner sees only its own merchant");
}

#[tokio::test]
async fn staff_search_lists_by_text_and_a_page_size_out_of_range_is_refused_by_name() {
    let app = TestApp::sqlite().await;
    for (n, name) in [(41, "宜昌老字号面馆有限公司"), (42, "宜昌新世纪百货有限公司"), (43, "100%_纯净水店")]
    {
        let mut a = application(n, "420502");
        a["application"]["legal_name"] = json!(name);
        let (status, body) = app.post("/api/v1/merchant-applications", None, &a).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, op) = app.staff("yichang.searcher", Role::Operator, "4205").await;
    let names = |v: &Value| -> Vec<String> {
        v["merchants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["legal_name"].as_str().map(String::from))
            .collect()
    };
    let (_, found) = app.get("/api/v1/merchants?q=%E9%9D%A2%E9%A6%86", Some(&op)).await;
    assert_eq!(names(&found), ["宜昌老字号面馆有限公司"], "{found}");
    let (_, found) = app.get("/api/v1/merchants?q=%25_", Some(&op)).await;
    assert_eq!(names(&found), ["100%_纯净水店"], "% and _ match themselves: {found}");
    let code = credit_code(42).to_string();
    let (_, found) = app.get(&format!("/api/v1/merchants?q={code}"), Some(&op)).await;
    assert_eq!(names(&found), ["宜昌新世纪百货有限公司"], "{found}");
    let (_, users) = app.get("/api/v1/users?q=SEARCHER", Some(&op)).await;
    assert_eq!(users["users"].as_array().map(Vec::len), Some(1), "{users}");
    for bad in ["limit=2147483648", "limit=0", "limit=501"] {
        for list in ["users", "merchants", "campaigns"] {
            let (status, body) = app.get(&format!("/api/v1/{list}?{bad}"), Some(&op)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{list}?{bad}: {body}");
            assert!(matches!(error_code(&body), "limit_out_of_range" | "bad_request"), "{list}?{bad}: {body}");
        }
    }
    let (status, body) = app.get(&format!("/api/v1/campaigns?q={}", "长".repeat(65)), Some(&op)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "search_too_long"), "{body}");
}

async fn a_merchants_phone_is_stored_sealed_and_shown_in_full_only_to_its_regions_staff(app: TestApp) {
    let (status, body) = app.post("/api/v1/merchant-applications", None, &application(61, "420502")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["merchant"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(body["merchant"]["contact_phone_masked"], "138****5678");
    let stored = app.query_text("SELECT contact_phone FROM merchants").await;
    assert_eq!(stored, ["138****5678"], "only the masked form is in clear");
    let all = app.query_text("SELECT COALESCE(legal_name, '') || contact_phone || address FROM merchants").await;
    assert!(!all.concat().contains("13812345678"), "{all:?}");
    let (_, op) = app.staff("yichang.phone.op", Role::Operator, "4205").await;
    let (status, full) = app.get(&format!("/api/v1/merchants/{id}/contact-phone"), Some(&op)).await;
    assert_eq!((status, full["phone"].as_str()), (StatusCode::OK, Some("13812345678")), "{full}");
    let (_, far) = app.staff("hangzhou.phone.op", Role::Operator, "3301").await;
    let (status, _) = app.get(&format!("/api/v1/merchants/{id}/contact-phone"), Some(&far)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another region");
    let (_, auditor) = app.staff("yichang.phone.auditor", Role::Auditor, "4205").await;
    let (status, _) = app.get(&format!("/api/v1/merchants/{id}/contact-phone"), Some(&auditor)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an auditor reads records, not phone numbers");
    // A row an earlier version stored in clear is sealed at the next start.
    app.exec_sql(
        "UPDATE merchants SET contact_phone = '13912345678', contact_phone_hash = NULL, contact_phone_sealed = NULL",
    )
    .await;
    assert_eq!(app.engine.seal_merchant_phones().await.ok(), Some(1));
    assert_eq!(app.query_text("SELECT contact_phone FROM merchants").await, ["139****5678"]);
    let (_, full) = app.get(&format!("/api/v1/merchants/{id}/contact-phone"), Some(&op)).await;
    assert_eq!(full["phone"], "13912345678");
}

#[tokio::test]
async fn a_merchants_phone_is_stored_sealed_on_sqlite() {
    a_merchants_phone_is_stored_sealed_and_shown_in_full_only_to_its_regions_staff(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_merchants_phone_is_stored_sealed_on_postgres() {
    if let Some(app) = TestApp::postgres().await {
        a_merchants_phone_is_stored_sealed_and_shown_in_full_only_to_its_regions_staff(app).await;
    }
}
