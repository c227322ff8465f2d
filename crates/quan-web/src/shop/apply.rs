//! The public application form (credit code checked as it is typed).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use quan_domain::Industry;
use quan_domain::merchant::{CreditCode, LatLng, MerchantApplication, Scale, SettlementAccount};
use quan_engine::merchants::OwnerAccount;
use quan_http::AppState;
use quan_http::extract::ClientAddr;
use serde::Deserialize;

use axum::Router;
use axum::routing::{get, post};

use super::Choice;
use crate::Chrome;
use crate::msg::Msg;
use crate::session;
use crate::zh;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/apply", get(apply_page).post(apply))
        .route("/merchant/apply/credit-code", post(check_credit_code))
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/apply.html")]
struct ApplyPage {
    c: Chrome,
    industries: Vec<Choice>,
    districts: Vec<Choice>,
}

async fn apply_page(State(state): State<AppState>) -> Result<ApplyPage, Msg> {
    let industries =
        Industry::ALL.iter().map(|i| Choice { value: i.as_str().to_owned(), label: i.zh().to_owned() }).collect();
    let districts = state
        .engine
        .districts()
        .await
        .map_err(|e| Msg::internal(&e))?
        .into_iter()
        .map(|d| Choice { value: d.code.to_string(), label: format!("{}（{}）", d.name, d.code) })
        .collect();
    Ok(ApplyPage { c: Chrome::public(), industries, districts })
}

#[derive(Debug, Deserialize)]
struct CreditForm {
    credit_code: String,
}

/// The credit code as it is typed: its length, characters and check digit.
async fn check_credit_code(axum::Form(f): axum::Form<CreditForm>) -> Msg {
    let raw = f.credit_code.trim();
    if raw.is_empty() {
        return Msg::ok("");
    }
    match CreditCode::parse(raw) {
        Ok(_) => Msg::ok(zh::shop::CREDIT_OK),
        Err(e) => Msg::field(match e.rule() {
            "credit_code_length" => zh::shop::CREDIT_LENGTH,
            "credit_code_character" => zh::shop::CREDIT_CHARACTER,
            _ => zh::shop::CREDIT_CHECK,
        }),
    }
}

#[derive(Debug, Deserialize)]
struct ApplyForm {
    legal_name: String,
    credit_code: String,
    industry: String,
    scale: String,
    address: String,
    address_district: String,
    lat: Option<String>,
    lng: Option<String>,
    contact_name: String,
    contact_phone: String,
    bank_name: String,
    account_name: String,
    account_number: String,
    username: String,
    password: String,
}

fn location(f: &ApplyForm) -> Result<Option<LatLng>, Msg> {
    let num = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::parse::<f64>);
    match (num(&f.lat), num(&f.lng)) {
        (None, None) => Ok(None),
        (Some(Ok(lat)), Some(Ok(lng))) => Ok(Some(LatLng { lat, lng })),
        _ => Err(Msg::field(zh::shop::LOCATION)),
    }
}

async fn apply(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(f): axum::Form<ApplyForm>,
) -> Result<(StatusCode, Msg), Msg> {
    session::require_same_site(&headers, zh::shop::CROSS_SITE)?;
    let industry = Industry::parse(&f.industry).ok_or_else(|| Msg::field(zh::shop::INDUSTRY))?;
    let scale = Scale::parse(&f.scale).ok_or_else(|| Msg::field(zh::shop::SCALE))?;
    let app = MerchantApplication {
        legal_name: f.legal_name.trim().to_owned(),
        credit_code: f.credit_code.trim().to_owned(),
        industry,
        scale,
        address: f.address.trim().to_owned(),
        address_district: f.address_district.trim().to_owned(),
        location: location(&f)?,
        contact_name: f.contact_name.trim().to_owned(),
        contact_phone: f.contact_phone.trim().to_owned(),
        settlement_account: SettlementAccount {
            bank_name: f.bank_name.trim().to_owned(),
            account_name: f.account_name.trim().to_owned(),
            account_number: f.account_number.trim().to_owned(),
        },
    };
    let owner = OwnerAccount {
        username: f.username.trim().to_owned(),
        password: f.password.clone(),
        display_name: app.contact_name.clone(),
    };
    let (m, _) = state.engine.apply_merchant(&app, &owner, &client.0).await.map_err(Msg::of)?;
    let text = zh::shop::applied(&m.id.to_string(), &owner.username);
    Ok((StatusCode::CREATED, Msg::ok(text)))
}
