//! A till's live stream of redemptions as server-sent events: the cashier's
//! screen shows the resident's payment (they scanned the till's code) the
//! moment it commits, before the goods are handed over.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream, StreamExt};
use quan_domain::{Role, TillId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::redemptions::{RedemptionView, uuid_path};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

/// A stream ends after this long; the client reconnects with
/// `Last-Event-ID` (and is authenticated again) and misses nothing.
pub const TILL_STREAM_S_MAX: u64 = 3_600;
/// A comment line this often keeps proxies from closing a quiet stream.
pub const TILL_STREAM_KEEP_ALIVE_S: u64 = 15;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(till_events))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Also deliver redemptions from this instant on (RFC 3339); default: from
    /// the moment the stream opens. Ignored when `Last-Event-ID` names one of
    /// the till's redemptions.
    pub since: Option<DateTime<Utc>>,
}

/// The till's redemptions, live, as `text/event-stream`: one event
/// `redemption` per redemption at the till (either direction), its `data`
/// the redemption as JSON (as `GET /api/v1/redemptions/{id}`), its `id` the
/// redemption's id. Send that id back as `Last-Event-ID` when reconnecting
/// to get exactly the ones after it. Redemptions made through another server
/// node arrive within a second. The stream ends after an hour or when the
/// server shuts down. Roles: cashier of the till, merchant owner.
#[utoipa::path(get, path = "/api/v1/tills/{id}/events", tag = "redemptions", security(("bearer" = [])),
    params(("id" = String, Path), EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "id of the last redemption received")),
    responses((status = 200, content_type = "text/event-stream", body = String,
            description = "events `redemption` (data: a redemption as JSON) and, on a failure, `error` (data: `{code, message}`) before the stream ends"),
        (status = 404, description = "no such till, or not yours", body = ErrorBody)))]
async fn till_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    auth.require(&[Role::Cashier, Role::MerchantOwner])?;
    let till = TillId::from_uuid(uuid_path(&id)?);
    let after =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|s| uuid::Uuid::parse_str(s.trim()).ok());
    let since = q.since.unwrap_or_else(|| state.engine.now());
    let feed = state.engine.till_feed(&auth.0, till, since, after).await?;
    let closing = state.closing.subscribe();
    let ends = tokio::time::Instant::now() + Duration::from_secs(TILL_STREAM_S_MAX);
    let events = stream::unfold(Some((feed, closing)), move |running| async move {
        let (mut feed, mut closing) = running?;
        let got = tokio::select! {
            got = feed.next() => got,
            _ = closing.wait_for(|c| *c) => return None,
            () = tokio::time::sleep_until(ends) => return None,
        };
        match got {
            Ok(list) => {
                let events: Vec<Result<Event, Infallible>> = list.iter().map(|r| Ok(redemption_event(r))).collect();
                Some((stream::iter(events), Some((feed, closing))))
            }
            Err(e) => {
                tracing::error!(till_id = %till, error = %e, "a till's event stream failed");
                let data = serde_json::json!({"code": "internal", "message": "the stream failed; reconnect with Last-Event-ID"});
                Some((stream::iter(vec![Ok(Event::default().event("error").data(data.to_string()))]), None))
            }
        }
    })
    .flatten();
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(TILL_STREAM_KEEP_ALIVE_S))))
}

fn redemption_event(r: &quan_store::Redemption) -> Event {
    let data = serde_json::to_string(&RedemptionView::from(r)).unwrap_or_else(|_| "{}".into());
    Event::default().event("redemption").id(r.id.to_string()).data(data)
}
