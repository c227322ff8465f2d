//! Identity conflicts (身份冲突) in the console: an ID number recorded by a
//! second account after its holder passed a real-name check. Operators see
//! the open ones and resolve each for the verified holder; the page says
//! what resolving does (the other account's unused vouchers under the
//! number frozen, the person's slots given back) and what each did.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_engine::risk::real_name::RealNameError;
use quan_http::AppState;
use quan_store::IdentityConflict;
use serde::Deserialize;

use super::Me;
use super::campaigns::field_error;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh::beijing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/identity-conflicts", get(page))
        .route("/console/identity-conflicts/{id}/resolve", post(resolve))
}

/// A conflict as a line of the list (accounts by their last twelve characters:
/// time-ordered ids share their first ones).
#[derive(Debug)]
struct Line {
    id: String,
    id_masked: String,
    holder: String,
    other: String,
    opened: String,
    resolved: String,
    outcome: String,
}

impl Line {
    fn of(c: &IdentityConflict) -> Line {
        let short = |u: uuid::Uuid| quan_domain::ids::short(&u.to_string());
        Line {
            id: c.id.to_string(),
            id_masked: c.id_masked.clone(),
            holder: short(c.holder.as_uuid()),
            other: short(c.other.as_uuid()),
            opened: beijing(c.opened_at),
            resolved: c.resolved.as_ref().map_or_else(String::new, |(_, at, note)| format!("{} {note}", beijing(*at))),
            outcome: format!(
                "冻结 {} 张（¥{}），释放名额 {} 个",
                c.outcome.frozen_vouchers,
                crate::zh::yuan(c.outcome.frozen_fen.as_i64()),
                c.outcome.slots_released
            ),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/identities.html")]
struct Page {
    c: Chrome,
    me: Me,
    open: Vec<Line>,
    resolved: Vec<Line>,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>) -> Result<Page, Msg> {
    let list = state.engine.identity_conflicts(&signed.actor, false).await.map_err(Msg::of)?;
    let (resolved, open): (Vec<&IdentityConflict>, Vec<&IdentityConflict>) =
        list.iter().partition(|c| c.resolved.is_some());
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        open: open.into_iter().map(Line::of).collect(),
        resolved: resolved.into_iter().map(Line::of).collect(),
    })
}

#[derive(Debug, Deserialize)]
struct ResolveForm {
    note: String,
}

async fn resolve(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ResolveForm>,
) -> Result<Response, Msg> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Msg::of(RealNameError::NotFound))?;
    match state.engine.resolve_identity_conflict(&signed.actor, id, &f.note).await {
        Ok(_) => Ok(refreshed(StatusCode::OK)),
        Err(RealNameError::Invalid(i)) => Ok(field_error(&i.field, i.rule, &i.message)),
        Err(e) => Err(Msg::of(e)),
    }
}
