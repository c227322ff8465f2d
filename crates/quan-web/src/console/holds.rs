//! Redemptions held by the cash-out rules (风控暂扣) in the console:
//! operators see the open holds of their region with the rules each met,
//! and release one (the next settlement pays it) or recover it (a confirmed
//! fraud: back to the budget), with a note.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_domain::cashout::Rule;
use quan_engine::risk::RiskError;
use quan_engine::risk::holds::{Held, HoldOutcome};
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use super::campaigns::field_error;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh::{beijing, yuan};

pub fn router() -> Router<AppState> {
    Router::new().route("/console/risk-holds", get(page)).route("/console/risk-holds/{id}/{outcome}", post(decide))
}

/// A hold as a line of the list.
#[derive(Debug)]
struct Line {
    id: String,
    merchant: String,
    order: String,
    held: String,
    rules: String,
    score: u32,
    at: String,
}

impl Line {
    fn of(h: &Held) -> Option<Line> {
        let r = &h.redemption;
        let mark = r.risk.as_ref()?;
        let rules: Vec<&str> = mark.rules.split(',').filter_map(Rule::parse).map(Rule::zh).collect();
        Some(Line {
            id: r.id.to_string(),
            merchant: h.merchant_name.clone(),
            order: yuan(r.order.as_i64()),
            held: yuan(mark.still_held.as_i64()),
            rules: rules.join("、"),
            score: mark.score,
            at: beijing(r.redeemed_at),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/holds.html")]
struct Page {
    c: Chrome,
    me: Me,
    holds: Vec<Line>,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>) -> Result<Page, Msg> {
    let list = state.engine.risk_holds(&signed.actor).await.map_err(Msg::of)?;
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        holds: list.iter().filter_map(Line::of).collect(),
    })
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    note: String,
}

async fn decide(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path((id, outcome)): Path<(String, String)>,
    axum::Form(f): axum::Form<DecisionForm>,
) -> Result<Response, Msg> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Msg::of(RiskError::NotFound))?;
    let outcome = match outcome.as_str() {
        "release" => HoldOutcome::Release,
        "recover" => HoldOutcome::Recover,
        _ => return Err(Msg::of(RiskError::NotFound)),
    };
    match state.engine.decide_risk_hold(&signed.actor, id, outcome, &f.note).await {
        Ok(_) => Ok(refreshed(StatusCode::OK)),
        Err(RiskError::Invalid(i)) => Ok(field_error(&i.field, i.rule, &i.message)),
        Err(e) => Err(Msg::of(e)),
    }
}
