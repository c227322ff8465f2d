//! What many tests start from: a merchant's application, an approved shop
//! with a till and its cashier, a resident signed in by SMS code, the clock
//! set to an instant.

use quan_domain::Role;
use quan_store::conformance::credit_code;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::TestApp;

/// A complete application of merchant `n` in `district`, with owner `owner{n}`.
pub fn application(n: u32, district: &str) -> Value {
    json!({
        "application": {
            "legal_name": format!("宜昌测试商户{n}有限公司"),
            "credit_code": credit_code(n).to_string(),
            "industry": "catering",
            "scale": "small",
            "address": "西陵区东湖大道1号",
            "address_district": district,
            "location": {"lat": 30.70, "lng": 111.29},
            "contact_name": "张三",
            "contact_phone": "13812345678",
            "settlement_account": {"bank_name": "中国银行宜昌分行", "account_name": "宜昌测试商户", "account_number": "6222020200112233"}
        },
        "owner": {"username": format!("owner{n}"), "password": "owner password 1", "display_name": "老板"}
    })
}

/// An approved merchant with one till and its cashier.
#[derive(Debug)]
pub struct Shop {
    pub id: String,
    pub till: String,
    pub owner: String,
    pub cashier: String,
    pub cashier_pw: String,
}

pub async fn shop(app: &TestApp, n: u32, industry: &str) -> Shop {
    shop_in(app, n, industry, "420502", "small").await
}

pub async fn shop_in(app: &TestApp, n: u32, industry: &str, district: &str, scale: &str) -> Shop {
    let mut a = application(n, district);
    a["application"]["industry"] = json!(industry);
    a["application"]["scale"] = json!(scale);
    shop_from(app, n, &a).await
}

/// An approved merchant from application `a` (owner `owner{n}`), with a till and its cashier.
pub async fn shop_from(app: &TestApp, n: u32, a: &Value) -> Shop {
    let (status, body) = app.post("/api/v1/merchant-applications", None, a).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["merchant"]["id"].as_str().unwrap_or_default().to_owned();
    let district = a["application"]["address_district"].as_str().unwrap_or("420502");
    let (_, op) = app.staff(&format!("op{n}.{}", &district[..4]), Role::Operator, &district[..4]).await;
    let (status, body) =
        app.post(&format!("/api/v1/merchants/{id}/review"), Some(&op), &json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let owner = app.login(&format!("owner{n}"), "owner password 1").await;
    let (_, till) =
        app.post(&format!("/api/v1/merchants/{id}/tills"), Some(&owner), &json!({"code": "T01", "name": "一号"})).await;
    let till_id = till["id"].as_str().unwrap_or_default().to_owned();
    let (_, cashier) = app
        .post(
            &format!("/api/v1/merchants/{id}/cashiers"),
            Some(&owner),
            &json!({"username": format!("cashier{n}"), "display_name": "收银员", "till_id": till_id}),
        )
        .await;
    let pw = cashier["generated_password"].as_str().unwrap_or_default().to_owned();
    let c = app.login(&format!("cashier{n}"), &pw).await;
    Shop { id, till: till_id, owner, cashier: c, cashier_pw: pw }
}

pub async fn resident(app: &TestApp, phone: &str) -> String {
    app.clock.advance(chrono::Duration::seconds(3));
    app.post("/api/v1/auth/sms-codes", None, &json!({"phone": phone})).await;
    let code = app.sms.last_code(phone).unwrap_or_default();
    let (_, s) = app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": phone, "code": code})).await;
    s["token"].as_str().unwrap_or_default().to_owned()
}

pub fn at(app: &TestApp, t: &str) {
    app.clock.set(chrono::DateTime::parse_from_rfc3339(t).map(|d| d.to_utc()).unwrap_or_default());
}

/// The ID number of a Yichang (Xiling) resident born on 1990-01-01 whose
/// sequence digits are `420502199001011{seq}` (two digits), with its check
/// character.
pub fn yichang_id_number(seq: &str) -> String {
    let body = format!("420502199001011{seq}");
    format!("{body}{}", quan_domain::id_number::check_char(body.as_bytes()).unwrap_or('?'))
}
