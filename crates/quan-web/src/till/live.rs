//! The till's live list: today's redemptions, newest first, new ones pushed
//! over server-sent events as ready rows (htmx's SSE extension puts them on
//! top); a refund from a row, with a confirmation step; today's totals.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream, StreamExt};
use quan_domain::Fen;
use quan_domain::redemption::RedemptionState;
use quan_http::AppState;
use quan_store::Redemption;
use serde::Deserialize;

use super::{redemption_id, refund_form, till_of};
use crate::msg::Msg;
use crate::session::{Signed, Till};
use crate::zh::{self, beijing_s, parse_yuan, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/till/events", get(events))
        .route("/till/totals", get(totals))
        .route("/till/redemptions/{id}/refund", get(refund_form).post(refund))
}

/// The start of today's business day in Beijing (midnight UTC+8).
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&quan_domain::UTC8).date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    local.and_local_timezone(quan_domain::UTC8).single().map_or(now, |t| t.with_timezone(&Utc))
}

/// One redemption in the list.
#[derive(Debug, Template)]
#[template(path = "till/_row.html")]
pub struct Row {
    pub id: String,
    pub at: String,
    pub kind: String,
    pub order: String,
    pub discount: String,
    pub refunded: String,
    pub direction: &'static str,
    pub reversed: bool,
}

impl Row {
    pub fn of(r: &Redemption) -> Row {
        Row {
            id: r.id.to_string(),
            at: beijing_s(r.redeemed_at),
            kind: r.kind_code.clone(),
            order: yuan(r.order.as_i64()),
            discount: yuan(r.discount.as_i64()),
            refunded: if r.refunded > Fen::ZERO { yuan(r.refunded.as_i64()) } else { String::new() },
            direction: match r.direction {
                quan_store::Direction::ResidentShows => zh::till::SCANNED_VOUCHER,
                quan_store::Direction::MerchantShows => zh::till::SCANNED_TILL,
            },
            reversed: r.state == RedemptionState::Reversed,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Since {
    since_ms: Option<i64>,
}

/// New redemptions at this till as rows (`event: redemption`), from the
/// page's own instant; they arrive within a second on any node.
async fn events(
    State(state): State<AppState>,
    signed: Signed<Till>,
    Query(q): Query<Since>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Msg> {
    let till = till_of(&signed.actor)?;
    let now = state.engine.now();
    let since = q.since_ms.and_then(DateTime::<Utc>::from_timestamp_millis).filter(|s| *s <= now).unwrap_or(now);
    let feed = state.engine.till_feed(&signed.actor, till, since, None).await.map_err(Msg::of)?;
    let closing = state.closing.subscribe();
    let events = stream::unfold(Some((feed, closing)), |running| async move {
        let (mut feed, mut closing) = running?;
        let got = tokio::select! {
            got = feed.next() => got,
            _ = closing.wait_for(|c| *c) => return None,
        };
        match got {
            Ok(list) => {
                let rows: Vec<Result<Event, Infallible>> = list.iter().map(|r| Ok(row_event(r))).collect();
                Some((stream::iter(rows), Some((feed, closing))))
            }
            Err(e) => {
                tracing::error!(error = %e, "a till page's stream failed; the page reconnects");
                None
            }
        }
    })
    .flatten();
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn row_event(r: &Redemption) -> Event {
    let html = Row::of(r).render().unwrap_or_default().replace('\n', "");
    Event::default().event("redemption").id(r.id.to_string()).data(html)
}

#[derive(Template, WebTemplate)]
#[template(path = "till/_totals.html")]
struct Totals {
    count: usize,
    order: String,
    discount: String,
    refunded: String,
}

async fn totals(State(state): State<AppState>, signed: Signed<Till>) -> Result<Totals, Msg> {
    let till = till_of(&signed.actor)?;
    let list =
        state.engine.till_redemptions(&signed.actor, till, day_start(state.engine.now())).await.map_err(Msg::of)?;
    let sum = |f: fn(&Redemption) -> Fen| yuan(list.iter().map(|r| f(r).as_i64()).sum());
    Ok(Totals {
        count: list.iter().filter(|r| r.state == RedemptionState::Standing).count(),
        order: sum(|r| r.order),
        discount: sum(|r| r.discount),
        refunded: sum(|r| r.refunded),
    })
}

/// The confirmation step of a refund, in place of the row's buttons.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "till/_refund.html")]
pub struct RefundForm {
    id: String,
    left: String,
}

impl RefundForm {
    pub fn of(r: &Redemption) -> RefundForm {
        RefundForm { id: r.id.to_string(), left: yuan(r.order.as_i64() - r.refunded.as_i64()) }
    }
}

#[derive(Debug, Deserialize)]
struct RefundBody {
    amount: String,
}

async fn refund(
    State(state): State<AppState>,
    signed: Signed<Till>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RefundBody>,
) -> Result<(StatusCode, Msg), Msg> {
    let amount = parse_yuan(&f.amount).filter(|a| *a > 0).ok_or_else(|| Msg::field(zh::till::REFUND_AMOUNT))?;
    let (r, _) = state.engine.refund(&signed.actor, redemption_id(&id)?, Fen::new(amount)).await.map_err(Msg::of)?;
    let text = zh::till::refunded(&yuan(amount), &yuan(r.refunded.as_i64()));
    Ok((StatusCode::CREATED, Msg::ok(text)))
}
