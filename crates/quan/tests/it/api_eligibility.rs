//! Eligibility through the API, on the real Yichang boundaries.

use quan_domain::Role;
use quan_domain::geo::{Crs, crs::convert};
use quan_domain::id_number::check_char;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn yichang_geojson() -> String {
    let p =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson/420500-yichang.geojson");
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn id_number(body17: &str) -> String {
    format!("{body17}{}", check_char(body17.as_bytes()).unwrap_or('?'))
}

async fn resident(app: &TestApp, phone: &str) -> String {
    app.post("/api/v1/auth/sms-codes", None, &json!({"phone": phone})).await;
    let code = app.sms.last_code(phone).unwrap_or_default();
    let (_, s) = app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": phone, "code": code})).await;
    s["token"].as_str().unwrap_or_default().to_owned()
}

fn codes(v: &Value) -> Vec<String> {
    v["failures"].as_array().into_iter().flatten().filter_map(|f| f["code"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_resident_learns_every_reason_and_becomes_eligible_once_they_are_met() {
    let app = TestApp::sqlite().await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let r = app
        .client
        .post(app.url("/api/v1/districts/import?crs=gcj02"))
        .bearer_auth(&official)
        .body(yichang_geojson())
        .send()
        .await;
    let imported: Value = r.unwrap_or_else(|e| panic!("{e}")).json().await.unwrap_or_default();
    assert_eq!((imported["new"].as_u64(), imported["indexed"].as_u64()), (Some(13), Some(13)), "{imported}");

    let doc = json!({
        "campaign": {"name": "西陵区专场", "region": "4205", "budget_fen": 100000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "西陵区户籍成年人", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-06T22:00:00+08:00",
            "eligibility": {"gps_districts": ["420502"], "household_prefixes": ["4205"], "lists": ["xiling-2026"], "age_min": 18},
            "kinds": [{"stock": 10, "kind": {"code": "k", "name": "立减", "discount": {"type": "instant", "off_fen": 1000}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (_, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    let batch = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    let token = resident(&app, "13900001111").await;
    let url = |q: &str| format!("/api/v1/batches/{batch}/eligibility{q}");

    let (status, body) = app.get(&url(""), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["eligible"], false);
    assert_eq!(codes(&body), vec!["position_required", "identity_required", "not_on_list"]);

    // The label point of Xiling District, as a phone's raw GPS reports it.
    let (lng, lat) = convert(111.295468, 30.702476, Crs::Gcj02, Crs::Wgs84);
    let here = format!("?lat={lat}&lng={lng}&crs=wgs84&accuracy_m=20");
    let (_, body) = app.get(&url(&here), Some(&token)).await;
    assert_eq!(body["position"]["district"], "420502", "{body}");
    assert_eq!(codes(&body), vec!["identity_required", "not_on_list"]);

    let legacy = "420502900101123";
    let (status, body) = app.post("/api/v1/me/identity", Some(&token), &json!({"id_number": legacy})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "id_number_legacy_15"));
    assert!(!body.to_string().contains(legacy), "the number is never echoed");
    let mine = id_number("42052119900101123");
    let (status, body) = app.post("/api/v1/me/identity", Some(&token), &json!({"id_number": mine})).await;
    assert_eq!(status, StatusCode::OK, "a retired county code (宜昌县 420521) is accepted: {body}");
    assert_eq!(body["id_masked"], format!("4****************{}", &mine[17..]));

    let (status, added) = app
        .post(
            "/api/v1/lists/xiling-2026/members",
            Some(&official),
            &json!({"kind": "id_number", "values": [mine, mine, "123", id_number("42050219800101123")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!((added["added"].as_u64(), added["duplicates"].as_u64()), (Some(2), Some(1)));
    assert_eq!(added["invalid"][0]["index"], 2);
    assert!(!added.to_string().contains(&mine), "list answers never echo numbers");
    let (_, list) = app.get("/api/v1/lists/xiling-2026", Some(&official)).await;
    assert_eq!(list["members"], 2);

    let (_, body) = app.get(&url(&here), Some(&token)).await;
    assert_eq!(body["eligible"], true, "{body}");

    // Somewhere in Dianjun District (420504), across the river.
    let (_, elsewhere) = app.get(&url("?lat=30.62&lng=111.16&crs=gcj02"), Some(&token)).await;
    assert_eq!(codes(&elsewhere), vec!["outside_districts"], "{elsewhere}");
    let (status, body) = app.get(&url("?lat=48.85&lng=2.35"), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "position_out_of_range"));
    let (status, body) = app.get(&url(&format!("?lat={lat}&lng={lng}&accuracy_m=5000")), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "position_too_imprecise"));
    let (status, body) = app.get(&url("?lat=30.7"), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
    let (status, _) = app.get(&url(""), Some(&official)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff do not have an eligibility");
}

#[tokio::test]
async fn a_merchant_is_placed_in_the_district_its_location_is_in() {
    let app = TestApp::sqlite().await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    app.client
        .post(app.url("/api/v1/districts/import"))
        .bearer_auth(&official)
        .body(yichang_geojson())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut a = crate::api_merchants::application(1, "420503");
    // The address says Wujiagang (420503), but the shop stands in Xiling.
    a["application"]["location"] = json!({"lat": 30.702476, "lng": 111.295468});
    let (_, body) = app.post("/api/v1/merchant-applications", None, &a).await;
    assert_eq!(body["merchant"]["district"], "420502", "{body}");
    let mut b = crate::api_merchants::application(2, "420503");
    b["application"]["location"] = json!({"lat": 30.0, "lng": 122.5});
    let (_, body) = app.post("/api/v1/merchant-applications", None, &b).await;
    assert_eq!(body["merchant"]["district"], "420503", "outside every boundary: the address code stands");
}

#[tokio::test]
async fn an_id_number_is_recorded_once_and_only_an_operator_changes_it_with_a_reason() {
    let app = TestApp::sqlite().await;
    let token = resident(&app, "13900001111").await;
    let (status, _) = app.get("/api/v1/me/identity", Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing recorded yet");
    let (xiling, wujiagang) = (id_number("42050219900101123"), id_number("42050319900101123"));
    let (status, first) = app.post("/api/v1/me/identity", Some(&token), &json!({"id_number": xiling})).await;
    assert_eq!((status, first["household_region"].as_str()), (StatusCode::OK, Some("420502")), "{first}");
    let (status, again) = app.post("/api/v1/me/identity", Some(&token), &json!({"id_number": xiling})).await;
    assert_eq!((status, &again), (StatusCode::OK, &first), "the same number again is the same answer");
    let (status, body) = app.post("/api/v1/me/identity", Some(&token), &json!({"id_number": wujiagang})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "identity_already_recorded"), "{body}");
    let (_, mine) = app.get("/api/v1/me/identity", Some(&token)).await;
    assert_eq!(mine["household_region"], "420502", "unchanged: {mine}");

    let change = json!({"phone": "13900001111", "id_number": wujiagang, "reason": "户籍迁移，已核验户口本"});
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let (status, _) = app.post("/api/v1/residents/identity-changes", Some(&official), &change).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an operator's job");
    let (_, far) = app.staff("hangzhou.operator", Role::Operator, "3301").await;
    let (status, _) = app.post("/api/v1/residents/identity-changes", Some(&far), &change).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "outside the operator's region");
    let (_, op) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let mut no_reason = change.clone();
    no_reason["reason"] = json!(" ");
    let (status, body) = app.post("/api/v1/residents/identity-changes", Some(&op), &no_reason).await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (status, done) = app.post("/api/v1/residents/identity-changes", Some(&op), &change).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!((done["old_region"].as_str(), done["new_region"].as_str()), (Some("420502"), Some("420503")));
    assert!(!done.to_string().contains(&wujiagang) && !done.to_string().contains("13900001111"), "{done}");
    let (_, mine) = app.get("/api/v1/me/identity", Some(&token)).await;
    assert_eq!(mine["household_region"], "420503", "{mine}");
    let phone_hash = quan_engine::PiiKey::from_bytes([0x42; 32]).hash("phone", b"13900001111");
    let resident = app.engine.store().resident_by_phone(&phone_hash).await;
    let kept = app.engine.store().identity_changes(resident.unwrap_or_else(|e| panic!("{e}")).id).await;
    let kept = kept.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept.iter().map(|c| c.reason.as_str()).collect::<Vec<_>>(), ["户籍迁移，已核验户口本"]);
}

#[tokio::test]
async fn an_official_imports_only_their_own_regions_boundaries_and_is_told_which_were_refused() {
    let app = TestApp::sqlite().await;
    let (_, xiling) = app.staff("xiling.official", Role::Official, "420502").await;
    let import = |token: String, body: String, crs: &'static str| {
        let req =
            app.client.post(app.url(&format!("/api/v1/districts/import?crs={crs}"))).bearer_auth(token).body(body);
        async move {
            let r = req.send().await.unwrap_or_else(|e| panic!("{e}"));
            (r.status(), r.json::<Value>().await.unwrap_or_default())
        }
    };
    let shenzhen = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson/440300-shenzhen.geojson"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = import(xiling.clone(), shenzhen, "gcj02").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "outside_your_region"), "{body}");
    let (status, body) = import(xiling.clone(), yichang_geojson(), "gcj02").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["new"].as_u64(), body["refused"].as_array().map(Vec::len)), (Some(1), Some(12)), "{body}");
    assert!(body["refused"].as_array().into_iter().flatten().all(|r| r["rule"] == "outside_your_region"), "{body}");
    let (_, listed) = app.get("/api/v1/districts", None).await;
    assert_eq!(
        listed.as_array().map(|l| l.iter().map(|d| d["code"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("420502")])
    );
    let pole = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"420502","properties":{},
        "geometry":{"type":"Polygon","coordinates":[[[0,80],[10,80],[10,90],[0,90],[0,80]]]}}]}"#;
    let (status, body) = import(xiling, pole.to_owned(), "wgs84").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "outside_china"), "{body}");
    assert_eq!(app.get("/readyz", None).await.0, StatusCode::OK, "the server still answers");
}
