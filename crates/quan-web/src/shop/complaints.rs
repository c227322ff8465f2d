//! The complaints the bureau asked the shop about: the list, and a ticket
//! with the question and the shop's answers, answered in place.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_domain::complaint::{ComplaintAction, ComplaintState};
use quan_engine::complaints::ActInput;
use quan_http::AppState;
use serde::Deserialize;

use super::merchant_of;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Shop, Signed};
use crate::tickets::{self, Line, Ticket};
use crate::zh::complaints as zh;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/complaints", get(list))
        .route("/merchant/complaints/{id}", get(one))
        .route("/merchant/complaints/{id}/answer", post(answer))
}

fn ticket_id(raw: &str) -> Result<uuid::Uuid, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::NO_TICKET))
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/complaints.html")]
struct List {
    c: Chrome,
    tickets: Vec<Ticket>,
}

async fn list(State(state): State<AppState>, signed: Signed<Shop>) -> Result<List, Msg> {
    let m = merchant_of(&signed.actor)?;
    let asked = state.engine.merchant_complaints(&signed.actor, m).await.map_err(Msg::of)?;
    let now = state.engine.now();
    Ok(List { c: Chrome::signed(&signed.csrf), tickets: asked.iter().map(|c| Ticket::of(c, now)).collect() })
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/complaint.html")]
struct One {
    c: Chrome,
    t: Ticket,
    lines: Vec<Line>,
    /// Asked and not yet answered: the answer form shows.
    asked: bool,
}

async fn one(State(state): State<AppState>, signed: Signed<Shop>, Path(id): Path<String>) -> Result<One, Msg> {
    let v = state.engine.complaint(&signed.actor, ticket_id(&id)?).await.map_err(Msg::of)?;
    let asked = v.complaint.state == ComplaintState::AwaitingMerchant;
    let (t, lines) = tickets::detail(&v, state.engine.now());
    Ok(One { c: Chrome::signed(&signed.csrf), t, lines, asked })
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    text: String,
}

async fn answer(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AnswerForm>,
) -> Result<Response, Msg> {
    let input =
        ActInput { action: ComplaintAction::MerchantAnswer.as_str().into(), text: Some(f.text), ..ActInput::default() };
    state.engine.act_on_complaint(&signed.actor, ticket_id(&id)?, &input).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}
