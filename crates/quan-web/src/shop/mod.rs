//! The shop's pages (`/merchant/`): the public application form (credit
//! code checked as it is typed), then, signed in as the owner, the
//! application's status, tills and cashiers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use quan_domain::merchant::MerchantStatus;
use quan_domain::{MerchantId, TillId};
use quan_engine::Actor;
use quan_http::AppState;

use crate::Chrome;
use crate::login::{StaffLogin, staff_login};
use crate::msg::Msg;
use crate::session::{Shop, Signed};
use crate::zh;

mod apply;
mod books;
mod catalogue;
mod complaints;
mod staff;

/// A choice in a select.
#[derive(Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant", get(|| async { Redirect::permanent("/merchant/") }))
        .route("/merchant/", get(home))
        .route("/merchant/login", get(login_page).post(staff_login::<Shop>))
        .route("/merchant/logout", post(crate::login::logout::<Shop>))
        .merge(apply::router())
        .merge(staff::router())
        .merge(books::router())
        .merge(catalogue::router())
        .merge(complaints::router())
}

async fn login_page() -> StaffLogin {
    StaffLogin { c: Chrome::public(), title: zh::shop::TITLE, action: "/merchant/login" }
}

pub(crate) fn merchant_of(actor: &Actor) -> Result<MerchantId, Msg> {
    match actor {
        Actor::Staff { user, .. } => {
            user.merchant.ok_or_else(|| Msg::warn(StatusCode::FORBIDDEN, "forbidden", zh::FORBIDDEN))
        }
        Actor::Resident { .. } => Err(Msg::warn(StatusCode::FORBIDDEN, "forbidden", zh::FORBIDDEN)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/home.html")]
struct Home {
    c: Chrome,
    name: String,
    status: &'static str,
    reason: String,
    approved: bool,
    tills: Vec<Choice>,
    cashiers: Vec<Cashier>,
}

/// A cashier in the owner's list.
#[derive(Debug)]
struct Cashier {
    id: String,
    username: String,
    name: String,
    till: String,
    disabled: bool,
}

async fn home(State(state): State<AppState>, signed: Signed<Shop>) -> Result<Response, Msg> {
    let id = merchant_of(&signed.actor)?;
    let m = state.engine.get_merchant(&signed.actor, id).await.map_err(Msg::of)?;
    let tills = state.engine.tills(&signed.actor, id).await.map_err(Msg::of)?;
    let cashiers = state.engine.cashiers(&signed.actor, id).await.map_err(Msg::of)?;
    let till_name = |t: Option<TillId>| {
        tills.iter().find(|x| Some(x.id) == t).map_or_else(String::new, |x| format!("{} {}", x.code, x.name))
    };
    let cashiers = cashiers
        .iter()
        .map(|u| Cashier {
            id: u.id.to_string(),
            username: u.username.to_string(),
            name: u.display_name.clone(),
            till: till_name(u.till),
            disabled: u.disabled,
        })
        .collect();
    let page = Home {
        c: Chrome::signed(&signed.csrf),
        name: m.app.legal_name.clone(),
        status: zh::shop::status(m.status),
        reason: m.status_reason.clone(),
        approved: m.status == MerchantStatus::Approved,
        tills: tills
            .iter()
            .map(|t| Choice { value: t.id.to_string(), label: format!("{} {}", t.code, t.name) })
            .collect(),
        cashiers,
    };
    Ok(page.into_response())
}
