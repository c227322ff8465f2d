//! Complaints through the API: a resident files one about a payment with a
//! photo, every bad input is a named 4xx, an operator of the region works
//! it (others find nothing, an auditor may not act), the merchant answers
//! what it is asked, the resident reads the replies, the daily limit holds,
//! and the T+1 report counts it.

use base64::Engine as _;
use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::{at, campaign, code_of, holder, shop};

/// A PNG of `len` bytes in well-formed chunks (IHDR, one IDAT, IEND).
fn png(len: usize) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = u32::try_from(data.len()).unwrap_or(0).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    };
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend(chunk(b"IHDR", &[0; 13]));
    b.extend(chunk(b"IDAT", &vec![7; len.saturating_sub(8 + 25 + 12 + 12)]));
    b.extend(chunk(b"IEND", &[]));
    b
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn actions(detail: &Value) -> Vec<String> {
    detail["events"].as_array().into_iter().flatten().map(|e| e["action"].as_str().unwrap_or("").to_owned()).collect()
}

/// A redemption at a Xiling shop: (resident token, redemption id, voucher id, shop, campaign id).
async fn paid(app: &TestApp) -> (String, String, String, quan_testkit::fixtures::Shop, String) {
    let (cid, batch, _) = campaign(app).await;
    let s = shop(app, 1, "catering").await;
    at(app, "2026-12-05T10:00:00+08:00");
    let (resident, voucher) = holder(app, &batch, "13900007777").await;
    let code = code_of(app, &resident, &voucher).await;
    let (status, r) =
        app.post("/api/v1/redemptions", Some(&s.cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    (resident, r["id"].as_str().unwrap_or_default().to_owned(), voucher, s, cid)
}

#[tokio::test]
async fn a_complaint_is_filed_worked_answered_by_the_merchant_closed_and_counted() {
    let app = TestApp::sqlite().await;
    let (resident, redemption, _, s, cid) = paid(&app).await;
    let photo = png(4000);
    let filing = json!({"kind": "wrong_discount", "text": "满100减20，只减了10元\n请核实", "redemption_id": redemption,
        "photo_base64": b64(&photo)});
    let (status, filed) = app.post("/api/v1/complaints", Some(&resident), &filing).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    let c = &filed["complaint"];
    assert!(c["ticket"].as_str().unwrap_or("").starts_with("TS20261205-"), "{c}");
    assert_eq!((c["merchant_id"].as_str(), c["region"].as_str()), (Some(s.id.as_str()), Some("420502")));
    assert_eq!((c["state"].as_str(), c["has_photo"].as_bool()), (Some("open"), Some(true)));
    let id = c["id"].as_str().unwrap_or_default().to_owned();
    let photo_back =
        app.client.get(app.url(&format!("/api/v1/complaints/{id}/photo"))).bearer_auth(&resident).send().await;
    let photo_back = photo_back.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(photo_back.headers()["content-type"], "image/png");
    assert_eq!(photo_back.bytes().await.map(|b| b.to_vec()).unwrap_or_default(), photo);

    let (_, op) = app.staff("yichang.complaints", Role::Operator, "4205").await;
    let (_, far) = app.staff("hangzhou.complaints", Role::Operator, "3301").await;
    let (_, auditor) = app.staff("yichang.auditor", Role::Auditor, "4205").await;
    let (status, queue) = app.get("/api/v1/complaints?open=true", Some(&op)).await;
    assert_eq!((status, queue.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{queue}");
    let (_, none) = app.get("/api/v1/complaints", Some(&far)).await;
    assert_eq!(none.as_array().map(Vec::len), Some(0), "another city's operator sees nothing");
    let (status, _) = app.get(&format!("/api/v1/complaints/{id}"), Some(&far)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(&format!("/api/v1/complaints/{id}/actions"), Some(&auditor), &json!({"action": "reply", "text": "x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "auditors read, never act");
    let (status, _) = app
        .post(
            &format!("/api/v1/complaints/{id}/actions"),
            Some(&s.owner),
            &json!({"action": "merchant_answer", "text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the merchant sees nothing before it is asked");

    let act = |body: Value| {
        let (app, op, id) = (&app, op.clone(), id.clone());
        async move { app.post(&format!("/api/v1/complaints/{id}/actions"), Some(&op), &body).await }
    };
    let (status, d) = act(json!({"action": "assign"})).await;
    assert_eq!((status, d["complaint"]["state"].as_str()), (StatusCode::OK, Some("in_progress")), "{d}");
    let (status, d) = act(json!({"action": "reply", "text": "已受理，正在核实", "version": 1})).await;
    assert_eq!((status, error_code(&d)), (StatusCode::CONFLICT, "concurrent_change"), "a stale version is refused");
    let (status, d) = act(json!({"action": "reply", "text": "已受理，正在核实"})).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert!(d["complaint"]["answered_at"].is_string());
    let (status, d) = act(json!({"action": "ask_merchant", "text": "请说明优惠金额"})).await;
    assert_eq!((status, d["complaint"]["state"].as_str()), (StatusCode::OK, Some("awaiting_merchant")), "{d}");

    let (status, asked) = app.get(&format!("/api/v1/merchants/{}/complaints", s.id), Some(&s.owner)).await;
    assert_eq!((status, asked.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{asked}");
    let shown = app.client.get(app.url(&format!("/api/v1/complaints/{id}/photo"))).bearer_auth(&s.owner).send().await;
    assert_eq!(
        shown.map(|r| r.status()).ok(),
        Some(StatusCode::NOT_FOUND),
        "the merchant never sees the resident's photo"
    );
    let (status, seen) = app.get(&format!("/api/v1/complaints/{id}"), Some(&s.owner)).await;
    assert_eq!(
        actions(&seen),
        vec!["ask_merchant"],
        "the merchant reads the question, not the resident's filing: {seen}"
    );
    assert_eq!(status, StatusCode::OK);
    let (status, d) = app
        .post(
            &format!("/api/v1/complaints/{id}/actions"),
            Some(&s.owner),
            &json!({"action": "merchant_answer", "text": "收银员操作失误，已退差价"}),
        )
        .await;
    assert_eq!((status, d["complaint"]["state"].as_str()), (StatusCode::OK, Some("in_progress")), "{d}");
    let (status, d) = act(json!({"action": "close", "text": "商户已退还差价10元"})).await;
    assert_eq!(
        (status, error_code(&d), d["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "required", Some("outcome"))
    );
    let (status, d) = act(json!({"action": "close", "text": "商户已退还差价10元", "outcome": "resolved"})).await;
    assert_eq!((status, d["complaint"]["outcome"].as_str()), (StatusCode::OK, Some("resolved")), "{d}");
    let (status, d) = act(json!({"action": "reply", "text": "再次答复"})).await;
    assert_eq!((status, error_code(&d)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_transition"));

    let (_, mine) = app.get(&format!("/api/v1/complaints/{id}"), Some(&resident)).await;
    assert_eq!(actions(&mine), vec!["filed", "reply", "close"], "the resident reads the replies only: {mine}");
    let (_, all) = app.get(&format!("/api/v1/complaints/{id}"), Some(&op)).await;
    assert_eq!(actions(&all), vec!["filed", "assign", "reply", "ask_merchant", "merchant_answer", "close"]);

    // A phone's JPEG carries the position it was taken at: quan keeps the picture, not the position.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 12];
    jpeg.extend_from_slice(b"Exif\0\0GPS!");
    jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 4, 1, 1, 0x55, 0x66, 0xFF, 0xD9]);
    let body = json!({"kind": "other", "text": "补充照片", "district": "420502", "photo_base64": b64(&jpeg)});
    let (status, second) = app.post("/api/v1/complaints", Some(&resident), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let sid = second["complaint"]["id"].as_str().unwrap_or_default();
    let got = app.client.get(app.url(&format!("/api/v1/complaints/{sid}/photo"))).bearer_auth(&resident).send().await;
    let got = got.unwrap_or_else(|e| panic!("{e}")).bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    assert!(!got.windows(4).any(|w| w == b"Exif") && got.ends_with(&[0x55, 0x66, 0xFF, 0xD9]), "{got:02X?}");

    at(&app, "2026-12-06T01:00:00+08:00");
    let (_, official) = app.staff("yichang.complaint.official", Role::Official, "4205").await;
    let (status, r) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let f = &r["report"]["complaints"];
    let f = if f.is_null() { &r["complaints"] } else { f };
    assert_eq!(
        (f["filed_day"].as_u64(), f["closed_total"].as_u64(), f["answered_in_time"].as_u64()),
        (Some(2), Some(1), Some(1)),
        "{f}"
    );
    let kinds: Vec<&str> = f["by_kind"].as_array().into_iter().flatten().filter_map(|k| k["code"].as_str()).collect();
    assert_eq!(kinds, vec!["other", "wrong_discount"], "one each, by code");
    assert_eq!(f["by_merchant"][0]["code"], s.id.as_str());
}

#[tokio::test]
async fn every_bad_filing_is_a_named_error_and_a_resident_files_at_most_five_a_day() {
    let app = TestApp::sqlite().await;
    let (resident, redemption, voucher, s, _) = paid(&app).await;
    let other = crate::api_redemptions::resident(&app, "13900008888").await;
    let cases = [
        (
            json!({"kind": "bribe", "text": "x", "district": "420502"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_complaint_kind",
        ),
        (json!({"kind": "other", "text": "  ", "district": "420502"}), StatusCode::UNPROCESSABLE_ENTITY, "required"),
        (
            json!({"kind": "other", "text": "券".repeat(1001), "district": "420502"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_long",
        ),
        (json!({"kind": "other", "text": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "required"),
        (
            json!({"kind": "other", "text": "x", "district": "42x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_district",
        ),
        (
            json!({"kind": "other", "text": "x", "district": "420502", "photo_base64": b64(b"GIF89a;")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_type",
        ),
        (
            json!({"kind": "other", "text": "x", "district": "420502", "photo_base64": "%%%"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_type",
        ),
        (
            json!({"kind": "other", "text": "x", "district": "420502", "photo_base64": b64(&png(2 * 1024 * 1024 + 1))}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_too_large",
        ),
        (
            json!({"kind": "code_problem", "text": "x", "voucher_id": voucher}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_yours",
        ),
        (
            json!({"kind": "code_problem", "text": "x", "redemption_id": redemption}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_yours",
        ),
        (
            json!({"kind": "shop_refused", "text": "x", "merchant_id": "01900000-0000-7000-8000-000000000000"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_merchant",
        ),
    ];
    for (body, want_status, want_code) in cases {
        let (status, got) = app.post("/api/v1/complaints", Some(&other), &body).await;
        assert_eq!((status, error_code(&got)), (want_status, want_code), "{body}: {got}");
    }
    let (status, _) = app
        .post("/api/v1/complaints", Some(&s.owner), &json!({"kind": "other", "text": "x", "district": "420502"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only residents file");
    let (_, mine) = app.get("/api/v1/complaints", Some(&other)).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(0), "nothing refused was stored");

    for n in 0..5 {
        let body = json!({"kind": "shop_refused", "text": format!("第{n}次"), "merchant_id": s.id});
        let (status, got) = app.post("/api/v1/complaints", Some(&resident), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{got}");
    }
    let sixth = app
        .client
        .post(app.url("/api/v1/complaints"))
        .bearer_auth(&resident)
        .json(&json!({"kind": "other", "text": "第六次", "district": "420502"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(sixth.headers().contains_key("retry-after"));
    let (_, mine) = app.get("/api/v1/complaints", Some(&resident)).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(5));
}
