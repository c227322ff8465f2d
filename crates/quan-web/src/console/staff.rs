//! Staff in my region: the accounts an official manages (officials,
//! operators, auditors, partners) — create (a generated password shown
//! once), disable and enable, reset a password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_domain::{Region, Role, UserId, Username};
use quan_engine::users::NewAccount;
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/staff", get(page).post(create))
        .route("/console/staff/{id}/disable", post(disable))
        .route("/console/staff/{id}/enable", post(enable))
        .route("/console/staff/{id}/password", post(reset))
}

/// An account in the list.
#[derive(Debug)]
struct Account {
    id: String,
    username: String,
    name: String,
    role: &'static str,
    region: String,
    disabled: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/staff.html")]
struct Page {
    c: Chrome,
    me: Me,
    accounts: Vec<Account>,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>) -> Result<Page, Msg> {
    let list = state.engine.list_users(&signed.actor, None, quan_engine::LIST_LEN_MAX, None).await.map_err(Msg::of)?;
    let accounts = list
        .iter()
        .filter(|u| matches!(u.role, Role::Official | Role::Operator | Role::Auditor | Role::Partner))
        .map(|u| Account {
            id: u.id.to_string(),
            username: u.username.to_string(),
            name: u.display_name.clone(),
            role: zh::console::role(u.role),
            region: u.region.to_string(),
            disabled: u.disabled,
        })
        .collect();
    Ok(Page { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), accounts })
}

#[derive(Debug, Deserialize)]
struct NewForm {
    username: String,
    display_name: String,
    role: String,
    region: String,
}

/// A password shown once.
#[derive(Template, WebTemplate)]
#[template(path = "console/_password.html")]
struct Password {
    username: String,
    password: String,
}

async fn create(
    State(state): State<AppState>,
    signed: Signed<Console>,
    axum::Form(f): axum::Form<NewForm>,
) -> Result<(StatusCode, Password), Msg> {
    let username = Username::parse(f.username.trim()).map_err(|_| Msg::field(zh::console::USERNAME))?;
    let role =
        Role::ALL.into_iter().find(|r| r.as_str() == f.role.trim()).ok_or_else(|| Msg::field(zh::console::ROLE))?;
    let region = Region::parse(f.region.trim()).map_err(|_| Msg::field(zh::console::REGION))?;
    let new = NewAccount { username, role, region, display_name: f.display_name.trim().to_owned(), password: None };
    let (user, generated) = state.engine.create_user(&signed.actor, new).await.map_err(Msg::of)?;
    Ok((StatusCode::CREATED, Password { username: user.username.to_string(), password: generated.unwrap_or_default() }))
}

fn user_id(raw: &str) -> Result<UserId, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::console::NO_ACCOUNT))
}

async fn disable(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    state.engine.set_user_disabled(&signed.actor, user_id(&id)?, true).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

async fn enable(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    state.engine.set_user_disabled(&signed.actor, user_id(&id)?, false).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

async fn reset(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Password, Msg> {
    let (user, password) = state.engine.reset_user_password(&signed.actor, user_id(&id)?).await.map_err(Msg::of)?;
    Ok(Password { username: user.username.to_string(), password })
}
