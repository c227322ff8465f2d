//! A resident's way through the API: what to claim, where a voucher may be
//! spent (only inside its campaign's region), what they spent.

use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

use crate::api_merchants::application;
use crate::api_redemptions::{at, campaign, code_of, holder, resident, shop, shop_from};

#[tokio::test]
async fn a_voucher_is_spent_only_at_merchants_inside_its_campaigns_region_on_every_path() {
    let app = TestApp::sqlite().await;
    let (cid, bid, official) = campaign(&app).await;
    let mut hz = application(31, "330106");
    hz["application"]["location"] = json!({"lat": 30.27, "lng": 120.15});
    let hangzhou = shop_from(&app, 31, &hz).await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000031").await;
    let code = code_of(&app, &token, &voucher).await;
    let (status, body) = app
        .post("/api/v1/redemptions", Some(&hangzhou.cashier), &json!({"code": code, "order_amount_fen": 12_000}))
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "outside_campaign_region"), "{body}");
    let (_, tc) = app.get(&format!("/api/v1/tills/{}/code", hangzhou.till), Some(&hangzhou.cashier)).await;
    let till_code = tc["code"].as_str().unwrap_or_default().to_owned();
    let (status, body) = app
        .post(
            "/api/v1/me/redemptions",
            Some(&token),
            &json!({"code": till_code, "order_amount_fen": 12_000, "voucher_id": voucher}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "outside_campaign_region"), "{body}");
    // At home it works; a merchant later moved out of the region is an audit finding.
    let yichang = shop(&app, 32, "catering").await;
    let code = code_of(&app, &token, &voucher).await;
    let (status, r) = app
        .post("/api/v1/redemptions", Some(&yichang.cashier), &json!({"code": code, "order_amount_fen": 12_000}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(a["clean"], true, "{a}");
    app.exec_sql("UPDATE merchants SET district = '330106'").await;
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert!(a.to_string().contains("redemption_outside_campaign_region"), "{a}");
}

#[tokio::test]
async fn a_resident_finds_what_to_claim_where_to_use_it_and_what_they_spent() {
    let app = TestApp::sqlite().await;
    let (_, bid, official) = campaign(&app).await;
    let near = shop(&app, 51, "catering").await;
    let mut far = application(52, "420503");
    far["application"]["location"] = json!({"lat": 30.90, "lng": 111.40});
    let far = shop_from(&app, 52, &far).await;
    let retail = shop(&app, 53, "retail").await;
    at(&app, "2026-12-05T09:30:00+08:00");
    let token = resident(&app, "13700000051").await;
    let (status, batches) = app.get("/api/v1/me/batches", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{batches}");
    let b = &batches[0];
    assert_eq!(
        (b["id"].as_str(), b["name"].as_str(), b["mode"].as_str()),
        (Some(bid.as_str()), Some("十点开抢"), Some("grab"))
    );
    assert_eq!(
        (b["kinds"][0]["stock_left"].as_i64(), b["kinds"][0]["face_fen"].as_i64()),
        (Some(100), Some(2000)),
        "{b}"
    );
    assert!(b["server_time"].is_string() && b["opening_at"].is_string(), "a countdown needs both: {b}");
    let (status, one) = app.get(&format!("/api/v1/me/batches/{bid}"), Some(&token)).await;
    assert_eq!((status, &one["id"]), (StatusCode::OK, &b["id"]));
    let (status, _) = app.get("/api/v1/me/batches", Some(&official)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a resident's view");
    at(&app, "2026-12-05T10:30:00+08:00");
    let (status, c) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let voucher = c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, shops) =
        app.get(&format!("/api/v1/me/vouchers/{voucher}/merchants?lat=30.70&lng=111.29&crs=gcj02"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{shops}");
    let ids: Vec<&str> = shops.as_array().into_iter().flatten().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, [near.id.as_str(), far.id.as_str()], "catering only (the kind's scope), nearest first: {shops}");
    assert!(!ids.contains(&retail.id.as_str()));
    assert!(!shops.to_string().contains("6222") && !shops.to_string().contains("138"), "no account or phone: {shops}");
    let other = resident(&app, "13700000052").await;
    let (status, _) = app.get(&format!("/api/v1/me/vouchers/{voucher}/merchants"), Some(&other)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's voucher");
    let code = code_of(&app, &token, &voucher).await;
    let (status, r) =
        app.post("/api/v1/redemptions", Some(&near.cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let (status, mine) = app.get("/api/v1/me/redemptions", Some(&token)).await;
    assert_eq!((status, mine.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{mine}");
    assert_eq!(mine[0]["id"], r["id"]);
    let (_, theirs) = app.get("/api/v1/me/redemptions", Some(&other)).await;
    assert_eq!(theirs, json!([]));
}
