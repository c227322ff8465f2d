//! Complaints in the console: the queue of my region (open, overdue or all,
//! by state or merchant; overdue tickets stand out), and a ticket with its
//! photo, its whole history and the actions my role may take on it now.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_domain::complaint::{ComplaintAction, ComplaintState, Outcome, next_state};
use quan_engine::Actor;
use quan_engine::complaints::{ActInput, QueueQuery};
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::shop::Choice;
use crate::tickets::{self, Line, Ticket};
use crate::zh::complaints as zh;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/complaints", get(queue))
        .route("/console/complaints/{id}", get(page))
        .route("/console/complaints/{id}/act", post(act))
        .route("/console/complaints/{id}/photo", get(photo))
}

fn ticket_id(raw: &str) -> Result<uuid::Uuid, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::NO_TICKET))
}

#[derive(Debug, Deserialize)]
struct Filter {
    /// `open` (default), `overdue` or `all`.
    view: Option<String>,
    state: Option<String>,
    merchant: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/complaints.html")]
struct Queue {
    c: Chrome,
    me: Me,
    view: String,
    state: String,
    states: Vec<Choice>,
    tickets: Vec<Ticket>,
}

async fn queue(State(state): State<AppState>, signed: Signed<Console>, Query(f): Query<Filter>) -> Result<Queue, Msg> {
    let view = f.view.unwrap_or_else(|| "open".into());
    let st = f.state.unwrap_or_default();
    let q = QueueQuery {
        state: ComplaintState::parse(&st),
        open_only: view == "open",
        overdue_only: view == "overdue",
        merchant: f.merchant.as_deref().and_then(|m| m.parse().ok()),
        before: None,
        limit: quan_engine::LIST_LEN_MAX,
    };
    let list = state.engine.complaint_queue(&signed.actor, &q).await.map_err(Msg::of)?;
    let now = state.engine.now();
    let states =
        ComplaintState::ALL.iter().map(|s| Choice { value: s.as_str().into(), label: s.zh().into() }).collect();
    Ok(Queue {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        view,
        state: st,
        states,
        tickets: list.iter().map(|c| Ticket::of(c, now)).collect(),
    })
}

/// An action my role may take now.
#[derive(Debug)]
struct Act {
    action: &'static str,
    label: &'static str,
    needs_text: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/complaint.html")]
struct Page {
    c: Chrome,
    me: Me,
    t: Ticket,
    lines: Vec<Line>,
    acts: Vec<Act>,
    outcomes: Vec<Choice>,
    merchant: String,
}

fn acts(actor: &Actor, s: ComplaintState, has_merchant: bool) -> Vec<Act> {
    let role = actor.role();
    ComplaintAction::ALL
        .iter()
        .filter(|a| a.allowed(role, s) && next_state(s, **a, has_merchant).is_ok())
        .map(|a| Act { action: a.as_str(), label: a.zh(), needs_text: a.needs_text() })
        .collect()
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Path(id): Path<String>) -> Result<Page, Msg> {
    let v = state.engine.complaint(&signed.actor, ticket_id(&id)?).await.map_err(Msg::of)?;
    let (t, lines) = tickets::detail(&v, state.engine.now());
    let outcomes = Outcome::ALL.iter().map(|o| Choice { value: o.as_str().into(), label: o.zh().into() }).collect();
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        acts: acts(&signed.actor, v.complaint.state, v.complaint.merchant.is_some()),
        merchant: v.complaint.merchant.map(|m| m.to_string()).unwrap_or_default(),
        t,
        lines,
        outcomes,
    })
}

#[derive(Debug, Deserialize)]
struct ActForm {
    action: String,
    text: Option<String>,
    outcome: Option<String>,
    version: Option<i64>,
}

async fn act(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ActForm>,
) -> Result<Response, Msg> {
    let action = ComplaintAction::parse(&f.action);
    let input = ActInput {
        action: f.action,
        text: f.text,
        // The outcome is read only when closing (the form always sends one).
        outcome: if action == Some(ComplaintAction::Close) { f.outcome } else { None },
        assignee: None,
        version: f.version,
    };
    state.engine.act_on_complaint(&signed.actor, ticket_id(&id)?, &input).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

async fn photo(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    let p = state.engine.complaint_photo(&signed.actor, ticket_id(&id)?).await.map_err(Msg::of)?;
    Ok(tickets::photo(p))
}
