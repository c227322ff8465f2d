//! The till (`/till/`), on a cashier's phone, tablet or PC: redeem a
//! resident's code (camera, typed, or a hand scanner that types the code and
//! Enter), preview the discount, confirm; show the till's own code for
//! residents to scan; the live list of this till's redemptions; refunds;
//! today's totals.

mod live;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use quan_domain::TillId;
use quan_engine::Actor;
use quan_http::AppState;
use serde::Deserialize;

use crate::Chrome;
use crate::login::{StaffLogin, staff_login};
use crate::msg::Msg;
use crate::session::{Signed, Till};
use crate::{typed, zh};
use live::Row;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/till", get(|| async { Redirect::permanent("/till/") }))
        .route("/till/", get(home))
        .route("/till/login", get(login_page).post(staff_login::<Till>))
        .route("/till/logout", post(crate::login::logout::<Till>))
        .route("/till/preview", post(preview))
        .route("/till/redeem", post(redeem))
        .route("/till/code", get(code_page))
        .route("/till/code/now", get(code_now))
        .merge(live::router())
}

async fn login_page() -> StaffLogin {
    StaffLogin { c: Chrome::public(), title: zh::till::TITLE, action: "/till/login" }
}

/// The cashier's till.
fn till_of(actor: &Actor) -> Result<TillId, Msg> {
    match actor {
        Actor::Staff { user, .. } => {
            user.till.ok_or_else(|| Msg::warn(StatusCode::FORBIDDEN, "forbidden", zh::till::NO_TILL))
        }
        Actor::Resident { .. } => Err(Msg::warn(StatusCode::FORBIDDEN, "forbidden", zh::FORBIDDEN)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "till/home.html")]
struct Home {
    c: Chrome,
    cashier: String,
    /// Today's redemptions, rendered, newest first.
    rows: Vec<String>,
    since_ms: i64,
}

async fn home(State(state): State<AppState>, signed: Signed<Till>) -> Result<Home, Msg> {
    let till = till_of(&signed.actor)?;
    let now = state.engine.now();
    let list = state.engine.till_redemptions(&signed.actor, till, live::day_start(now)).await.map_err(Msg::of)?;
    let cashier = match &signed.actor {
        Actor::Staff { user, .. } => user.display_name.clone(),
        Actor::Resident { .. } => String::new(),
    };
    let rows = list.iter().rev().map(|r| Row::of(r).render().unwrap_or_default()).collect();
    Ok(Home { c: Chrome::signed(&signed.csrf).scanning(), cashier, rows, since_ms: now.timestamp_millis() })
}

#[derive(Debug, Deserialize)]
struct RedeemForm {
    code: String,
    amount: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "till/_preview.html")]
struct Preview {
    p: typed::Shown,
}

async fn preview(
    State(state): State<AppState>,
    signed: Signed<Till>,
    axum::Form(f): axum::Form<RedeemForm>,
) -> Result<Preview, Msg> {
    let (code, order) = typed::order(&f.code, &f.amount, zh::till::VOUCHER_CODE)?;
    let p = state.engine.preview_scanned(&signed.actor, &code, &order).await.map_err(Msg::of)?;
    Ok(Preview { p: typed::Shown::of(p) })
}

async fn redeem(
    State(state): State<AppState>,
    signed: Signed<Till>,
    axum::Form(f): axum::Form<RedeemForm>,
) -> Result<(StatusCode, Msg), Msg> {
    let (code, order) = typed::order(&f.code, &f.amount, zh::till::VOUCHER_CODE)?;
    let r = state.engine.redeem_scanned(&signed.actor, &code, order).await.map_err(Msg::of)?;
    let (order, discount, due) = typed::settled(&r);
    let text = zh::till::redeemed(&order, &discount, &due);
    Ok((StatusCode::CREATED, Msg::ok(text)))
}

#[derive(Template, WebTemplate)]
#[template(path = "till/code.html")]
struct CodePage {
    c: Chrome,
}

async fn code_page(signed: Signed<Till>) -> Result<CodePage, Msg> {
    till_of(&signed.actor)?;
    Ok(CodePage { c: Chrome::signed(&signed.csrf) })
}

#[derive(Debug, Deserialize)]
struct Shown {
    shown: Option<String>,
}

/// The till's current code, polled by its full-screen page: 204 while the
/// shown one is still current.
async fn code_now(
    State(state): State<AppState>,
    signed: Signed<Till>,
    Query(q): Query<Shown>,
) -> Result<Response, Msg> {
    let till = till_of(&signed.actor)?;
    let c = state.engine.till_code(&signed.actor, till).await.map_err(Msg::of)?;
    crate::qr::fragment(&c, q.shown.as_deref())
}

/// A redemption id from a path.
fn redemption_id(raw: &str) -> Result<uuid::Uuid, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::till::NO_REDEMPTION))
}

/// Refund forms and answers live with the list.
pub(crate) async fn refund_form(
    State(state): State<AppState>,
    signed: Signed<Till>,
    Path(id): Path<String>,
) -> Result<live::RefundForm, Msg> {
    let r = state.engine.redemption(&signed.actor, redemption_id(&id)?).await.map_err(Msg::of)?;
    Ok(live::RefundForm::of(&r))
}
