//! Banks and apps a resident lets use their vouchers (授权): the partners
//! they may bind, a one-time code for one of them (eight digits, ten
//! minutes, that partner only, used once), the bindings they hold and ending
//! one. A partner learns only its own id for the resident, never their
//! phone number, ID number or position.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use quan_http::AppState;

use crate::Chrome;
use crate::msg::Msg;
use crate::session::{H5, Signed};
use crate::zh::beijing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/h5/partners", get(page))
        .route("/h5/partners/{id}/code", post(code))
        .route("/h5/partners/{id}/unbind", post(unbind))
}

/// A partner as the page lists it.
struct Line {
    id: String,
    name: String,
    kind: &'static str,
    /// When the resident bound it (Beijing time); empty when not bound.
    bound_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/partners.html")]
struct Page {
    c: Chrome,
    bound: Vec<Line>,
    others: Vec<Line>,
}

fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "bank" => "银行",
        "payment" => "支付机构",
        "city_app" => "城市服务App",
        "mini_program" => "小程序",
        _ => "合作方",
    }
}

fn partner_id(raw: &str) -> Result<uuid::Uuid, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "partner_not_found", crate::zh::h5::NO_PARTNER))
}

async fn page(State(state): State<AppState>, signed: Signed<H5>) -> Result<Page, Msg> {
    let all = state.engine.bindable_partners(&signed.actor).await.map_err(Msg::of)?;
    let mine = state.engine.my_bindings(&signed.actor).await.map_err(Msg::of)?;
    let (mut bound, mut others) = (Vec::new(), Vec::new());
    for (id, name, kind) in all {
        let at = mine.iter().find(|b| b.partner_id == id).map(|b| beijing(b.created_at));
        let line = Line { id: id.to_string(), name, kind: kind_zh(kind), bound_at: at.clone().unwrap_or_default() };
        if at.is_some() { bound.push(line) } else { others.push(line) }
    }
    // Bindings of partners cut off since (熔断) stay listed, to be ended.
    let listed: Vec<String> = bound.iter().map(|l| l.id.clone()).collect();
    for b in mine.iter().filter(|b| !listed.contains(&b.partner_id.to_string())) {
        bound.push(Line {
            id: b.partner_id.to_string(),
            name: b.partner_name.clone(),
            kind: "合作方",
            bound_at: beijing(b.created_at),
        });
    }
    Ok(Page { c: Chrome::signed(&signed.csrf), bound, others })
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/_binding_code.html")]
struct Code {
    code: String,
    name: String,
    until: String,
}

/// A one-time code for the partner, shown large with its end.
async fn code(State(state): State<AppState>, signed: Signed<H5>, Path(id): Path<String>) -> Result<Code, Msg> {
    let id = partner_id(&id)?;
    let made = state.engine.new_binding_code(&signed.actor, id).await.map_err(Msg::of)?;
    let all = state.engine.bindable_partners(&signed.actor).await.map_err(Msg::of)?;
    let name = all.into_iter().find(|p| p.0 == id).map(|p| p.1).unwrap_or_default();
    let spaced = format!("{} {}", &made.code[..4], &made.code[4..]);
    Ok(Code { code: spaced, name, until: beijing(made.expires_at) })
}

/// Ends the binding: the partner no longer finds the resident.
async fn unbind(State(state): State<AppState>, signed: Signed<H5>, Path(id): Path<String>) -> Result<Msg, Msg> {
    state.engine.unbind(&signed.actor, partner_id(&id)?).await.map_err(Msg::of)?;
    Ok(Msg::ok(crate::zh::h5::UNBOUND))
}
