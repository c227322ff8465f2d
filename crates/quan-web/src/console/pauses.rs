//! The kill switch (熔断) in the console: officials pause claims,
//! redemptions or both for a batch, a campaign, a merchant, a partner
//! channel or a region, and lift a pause; everyone on staff sees what is
//! stopped now and what was in the last thirty days, with who and why.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_domain::pause::{Stops, Target};
use quan_engine::risk::RiskError;
use quan_engine::risk::pauses::PauseRequest;
use quan_http::AppState;
use quan_store::PauseRecord;
use serde::Deserialize;

use super::Me;
use super::campaigns::field_error;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh::{beijing, console as zc};

pub fn router() -> Router<AppState> {
    Router::new().route("/console/pauses", get(page).post(pause)).route("/console/pauses/{id}/resume", post(resume))
}

/// A pause as a line of the list.
#[derive(Debug)]
struct Line {
    id: String,
    target: &'static str,
    target_id: String,
    stops: &'static str,
    by: String,
    reason: String,
    at: String,
    active: bool,
    resumed: String,
}

impl Line {
    fn of(p: &PauseRecord) -> Line {
        Line {
            id: p.id.to_string(),
            target: Target::parse(&p.target_kind, &p.target_id).map_or("", |t| t.kind_zh()),
            target_id: p.target_id.clone(),
            stops: Stops::parse(&p.stops).map_or("", Stops::zh),
            by: p.by_name.clone(),
            reason: p.reason.clone(),
            at: beijing(p.at),
            active: p.resumed.is_none(),
            resumed: p
                .resumed
                .as_ref()
                .map_or_else(String::new, |r| format!("{} {}：{}", beijing(r.at), r.by_name, r.reason)),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/pauses.html")]
struct Page {
    c: Chrome,
    me: Me,
    active: Vec<Line>,
    ended: Vec<Line>,
    /// The target kinds to choose from: value, name, chosen.
    targets: Vec<(&'static str, &'static str, bool)>,
    target_id: String,
}

const TARGETS: [(&str, &str); 5] =
    [("campaign", "活动"), ("batch", "批次"), ("merchant", "商户"), ("region", "地区"), ("channel", "合作渠道")];

#[derive(Debug, Deserialize)]
struct Prefill {
    target: Option<String>,
    id: Option<String>,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Query(q): Query<Prefill>) -> Result<Page, Msg> {
    let list = state.engine.pauses(&signed.actor, 30).await.map_err(Msg::of)?;
    let (active, ended): (Vec<Line>, Vec<Line>) = list.iter().map(Line::of).partition(|l| l.active);
    let chosen = q.target.filter(|t| TARGETS.iter().any(|(v, _)| v == t)).unwrap_or_else(|| "campaign".into());
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        active,
        ended,
        targets: TARGETS.iter().map(|(v, t)| (*v, *t, chosen == *v)).collect(),
        target_id: q.id.unwrap_or_default().chars().take(64).collect(),
    })
}

#[derive(Debug, Deserialize)]
struct PauseForm {
    target: String,
    target_id: String,
    stops: String,
    reason: String,
}

/// A refusal of the form, beside its field when it names one.
fn refused(e: RiskError) -> Result<Response, Msg> {
    match e {
        RiskError::Invalid(i) => Ok(field_error(&i.field, i.rule, &i.message)),
        RiskError::NotFound => Err(Msg::warn(StatusCode::NOT_FOUND, "not_found", zc::PAUSE_TARGET_UNKNOWN)),
        e => Err(Msg::of(e)),
    }
}

async fn pause(
    State(state): State<AppState>,
    signed: Signed<Console>,
    axum::Form(f): axum::Form<PauseForm>,
) -> Result<Response, Msg> {
    let target = match Target::parse(&f.target, f.target_id.trim()) {
        Ok(t) => t,
        Err(i) => return Ok(field_error(&i.field, i.rule, &i.message)),
    };
    let stops = Stops::parse(&f.stops).unwrap_or(Stops::Both);
    match state.engine.pause(&signed.actor, PauseRequest { target, stops, reason: f.reason }).await {
        Ok(_) => Ok(refreshed(StatusCode::CREATED)),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct ResumeForm {
    reason: String,
}

async fn resume(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ResumeForm>,
) -> Result<Response, Msg> {
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zc::PAUSE_TARGET_UNKNOWN))?;
    match state.engine.resume(&signed.actor, id, &f.reason).await {
        Ok(_) => Ok(refreshed(StatusCode::OK)),
        Err(e) => refused(e),
    }
}
