//! After a batch opens, officials may only change what cannot hurt the
//! residents (the domain's rule): more stock of a kind, a later close.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use chrono::DateTime;
use quan_domain::BatchId;
use quan_domain::batch::{BatchAmendment, StockIncrease};
use quan_engine::campaigns::CampaignError;
use quan_http::AppState;
use serde::Deserialize;

use super::campaigns::field_error;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/batches/{id}/amend", post(amend))
}

#[derive(Debug, Deserialize)]
struct AmendForm {
    kind: Option<String>,
    add_stock: Option<String>,
    closing_at: Option<String>,
}

/// A Beijing local time from the form (`2026-12-05T22:00`) as an instant.
fn local(raw: &str) -> Option<DateTime<chrono::Utc>> {
    let t = raw.trim();
    let t = if t.len() == 16 { format!("{t}:00+08:00") } else { t.to_owned() };
    DateTime::parse_from_rfc3339(&t).ok().map(|d| d.to_utc())
}

async fn amend(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AmendForm>,
) -> Result<Response, Msg> {
    let id: BatchId = id.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::console::NO_BATCH))?;
    let mut a = BatchAmendment::default();
    let added = f.add_stock.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(n) = added {
        let stock = n.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| Msg::field(zh::console::ADD_STOCK))?;
        a.add_stock.push(StockIncrease { kind: f.kind.unwrap_or_default(), stock });
    }
    if let Some(t) = f.closing_at.as_deref().filter(|t| !t.trim().is_empty()) {
        a.closing_at = Some(local(t).ok_or_else(|| Msg::field(zh::console::CLOSING_AT))?);
    }
    if a == BatchAmendment::default() {
        return Err(Msg::field(zh::console::NOTHING_TO_AMEND));
    }
    match state.engine.amend_batch(&signed.actor, id, &a).await {
        Ok(_) => Ok(refreshed(StatusCode::OK)),
        Err(CampaignError::Invalid(i)) => Ok(field_error(&i.field, i.rule, &i.message)),
        Err(e) => Err(Msg::of(e)),
    }
}
