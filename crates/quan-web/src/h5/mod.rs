//! The resident's H5 (`/h5/`), phone first: login by SMS code, the
//! batches of my city with a countdown on the server's clock, eligibility,
//! the claim, the wallet, the voucher's dynamic code, paying at a till by
//! scanning its code, and the history.

mod batch;
mod complaints;
mod partners;
mod pay;
mod views;
mod wallet;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use quan_domain::PhoneNumber;
use quan_engine::auth::OtpCode;
use quan_http::AppState;
use quan_http::extract::ClientAddr;
use serde::Deserialize;

use crate::Chrome;
use crate::msg::Msg;
use crate::session::{self, H5, Signed};
use views::BatchCard;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/h5", get(|| async { Redirect::permanent("/h5/") }))
        .route("/h5/", get(home))
        .route("/h5/time", get(time))
        .route("/h5/login", get(login_page).post(login))
        .route("/h5/login/code", post(send_code))
        .route("/h5/logout", post(crate::login::logout::<H5>))
        .merge(batch::router())
        .merge(wallet::router())
        .merge(pay::router())
        .merge(partners::router())
        .merge(complaints::router())
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/login.html")]
struct LoginPage {
    c: Chrome,
}

async fn login_page() -> LoginPage {
    LoginPage { c: Chrome::public() }
}

#[derive(Debug, Deserialize)]
struct PhoneForm {
    phone: String,
}

fn phone(raw: &str) -> Result<PhoneNumber, Msg> {
    PhoneNumber::parse(raw.trim()).map_err(|_| Msg::field(crate::zh::h5::PHONE))
}

async fn send_code(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(f): axum::Form<PhoneForm>,
) -> Result<Msg, Msg> {
    session::require_same_site(&headers, crate::zh::CROSS_SITE_LOGIN)?;
    let phone = phone(&f.phone)?;
    state.engine.request_login_code(&phone, &client.0).await.map_err(Msg::of)?;
    let wait = state.engine.config().otp_resend_interval_s;
    Ok(Msg::ok(crate::zh::h5::code_sent(wait)))
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    phone: String,
    code: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CodeForm>,
) -> Result<Response, Msg> {
    session::require_same_site(&headers, crate::zh::CROSS_SITE_LOGIN)?;
    let phone = phone(&f.phone)?;
    let code = OtpCode::parse(f.code.trim()).map_err(|_| Msg::field(crate::zh::h5::OTP_FORMAT))?;
    let issued = state.engine.verify_login_code(&phone, &code).await.map_err(Msg::of)?;
    Ok(crate::login::signed_in::<H5>(&state, &headers, &issued))
}

/// The server's clock in milliseconds, for the countdown: the page
/// measures its own offset against it.
async fn time(State(state): State<AppState>) -> Response {
    let ms = state.engine.now().timestamp_millis();
    ([(axum::http::header::CACHE_CONTROL, "no-store")], ms.to_string()).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/home.html")]
struct Home {
    c: Chrome,
    phone: String,
    batches: Vec<BatchCard>,
    now_ms: i64,
}

async fn home(State(state): State<AppState>, signed: Signed<H5>) -> Result<Home, Msg> {
    let list = state.engine.resident_batches(&signed.actor, None).await.map_err(Msg::of)?;
    let now = state.engine.now();
    let phone = match &signed.actor {
        quan_engine::Actor::Resident { resident, .. } => resident.phone_masked.clone(),
        quan_engine::Actor::Staff { .. } => String::new(),
    };
    Ok(Home {
        c: Chrome::signed(&signed.csrf),
        phone,
        batches: list.iter().map(|p| BatchCard::of(p, now, state.engine.config().risk.pow_lead_s)).collect(),
        now_ms: now.timestamp_millis(),
    })
}
