//! Tills and cashiers: create a till; create a cashier (a generated
//! password shown once), disable and re-enable one, reset a password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use quan_domain::{TillId, UserId};
use quan_http::AppState;
use serde::Deserialize;

use super::merchant_of;
use crate::msg::{Msg, refreshed};
use crate::session::{Shop, Signed};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/tills", post(create_till))
        .route("/merchant/cashiers", post(create_cashier))
        .route("/merchant/cashiers/{id}/disable", post(disable))
        .route("/merchant/cashiers/{id}/enable", post(enable))
        .route("/merchant/cashiers/{id}/password", post(reset_password))
}

#[derive(Debug, Deserialize)]
struct TillForm {
    code: String,
    name: String,
}

async fn create_till(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    axum::Form(f): axum::Form<TillForm>,
) -> Result<Response, Msg> {
    let id = merchant_of(&signed.actor)?;
    state.engine.create_till(&signed.actor, id, f.code.trim(), f.name.trim()).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::CREATED))
}

#[derive(Debug, Deserialize)]
struct CashierForm {
    till: String,
    username: String,
    display_name: String,
}

/// A cashier's password, shown once.
#[derive(Template, WebTemplate)]
#[template(path = "shop/_cashier.html")]
struct Password {
    username: String,
    password: String,
}

async fn create_cashier(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    axum::Form(f): axum::Form<CashierForm>,
) -> Result<(StatusCode, Password), Msg> {
    let id = merchant_of(&signed.actor)?;
    let till: TillId = f.till.parse().map_err(|_| Msg::field(crate::zh::shop::PICK_TILL))?;
    let (user, generated) = state
        .engine
        .create_cashier(&signed.actor, id, f.username.trim(), f.display_name.trim(), till, None)
        .await
        .map_err(Msg::of)?;
    Ok((StatusCode::CREATED, Password { username: user.username.to_string(), password: generated.unwrap_or_default() }))
}

fn user_id(raw: &str) -> Result<UserId, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", crate::zh::shop::NO_CASHIER))
}

async fn set_disabled(state: &AppState, signed: &Signed<Shop>, id: &str, disabled: bool) -> Result<Response, Msg> {
    merchant_of(&signed.actor)?;
    state.engine.set_user_disabled(&signed.actor, user_id(id)?, disabled).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

async fn disable(State(state): State<AppState>, signed: Signed<Shop>, Path(id): Path<String>) -> Result<Response, Msg> {
    set_disabled(&state, &signed, &id, true).await
}

async fn enable(State(state): State<AppState>, signed: Signed<Shop>, Path(id): Path<String>) -> Result<Response, Msg> {
    set_disabled(&state, &signed, &id, false).await
}

async fn reset_password(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    Path(id): Path<String>,
) -> Result<Password, Msg> {
    let merchant = merchant_of(&signed.actor)?;
    let (user, password) =
        state.engine.reset_cashier_password(&signed.actor, merchant, user_id(&id)?).await.map_err(Msg::of)?;
    Ok(Password { username: user.username.to_string(), password })
}
