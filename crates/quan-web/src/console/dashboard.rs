//! The grab dashboard of a batch: claims per second, stock left per kind,
//! answers by outcome and the p99 of the answers, every node summed,
//! pushed each second over server-sent events and drawn with ECharts.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use quan_domain::BatchId;
use quan_engine::Actor;
use quan_http::AppState;

use super::Me;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{Console, Signed};
use crate::zh;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/batches/{id}/dashboard", get(page))
        .route("/console/batches/{id}/dashboard/events", get(events))
        .route("/console/campaigns/{id}/today", get(today))
}

/// One industry's redemptions today.
#[derive(Debug)]
struct IndustryToday {
    name: String,
    redemptions: u64,
    order: String,
    subsidy: String,
}

#[derive(Template)]
#[template(path = "console/_today.html")]
struct Today {
    redemptions: u64,
    order: String,
    subsidy: String,
    refunds: u64,
    industries: Vec<IndustryToday>,
    at: String,
}

/// Today's redemptions so far (polled by the campaign page every few seconds).
async fn today(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<axum::response::Response, Msg> {
    use axum::response::IntoResponse;
    let cid = super::campaigns::campaign_id(&id)?;
    let r = state.engine.today_report(&signed.actor, cid).await.map_err(Msg::of)?;
    let d = &r.total.day;
    let page = Today {
        redemptions: d.redemptions,
        order: zh::yuan(d.order_fen),
        subsidy: zh::yuan(d.subsidy_fen),
        refunds: d.refunds,
        industries: r
            .industries
            .iter()
            .filter(|i| i.day.redemptions > 0)
            .map(|i| IndustryToday {
                name: i.industry_name.clone().unwrap_or_default(),
                redemptions: i.day.redemptions,
                order: zh::yuan(i.day.order_fen),
                subsidy: zh::yuan(i.day.subsidy_fen),
            })
            .collect(),
        at: zh::beijing_s(state.engine.now()),
    };
    Ok(axum::response::Html(page.render().map_err(|e| Msg::internal(&e))?).into_response())
}

fn batch_id(raw: &str) -> Result<BatchId, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::console::NO_BATCH))
}

#[derive(Template, WebTemplate)]
#[template(path = "console/dashboard.html")]
struct Page {
    c: Chrome,
    me: Me,
    id: String,
    name: String,
    campaign_id: String,
    campaign: String,
    opening: String,
    closing: String,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Path(id): Path<String>) -> Result<Page, Msg> {
    let (b, c) = state.engine.get_batch(&signed.actor, batch_id(&id)?).await.map_err(Msg::of)?;
    Ok(Page {
        c: Chrome::signed(&signed.csrf).charting(),
        me: Me::of(&signed.actor),
        id,
        name: b.spec.name.clone(),
        campaign_id: c.id.to_string(),
        campaign: c.spec.name.clone(),
        opening: zh::beijing(b.spec.opening_at),
        closing: zh::beijing(b.spec.closing_at),
    })
}

/// The dashboard's figures as JSON, each second, until the page goes or
/// the server closes.
async fn events(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Msg> {
    let id = batch_id(&id)?;
    // Refused at once when the batch is not the caller's to see.
    state.engine.get_batch(&signed.actor, id).await.map_err(Msg::of)?;
    let closing = state.closing.subscribe();
    let tick = tokio::time::interval(Duration::from_secs(1));
    let start = (state.engine.clone(), signed.actor, tick, closing);
    let events = stream::unfold(Some(start), move |running| async move {
        let (engine, actor, mut tick, mut closing): (quan_engine::Engine, Actor, _, _) = running?;
        tokio::select! {
            _ = closing.wait_for(|c| *c) => return None,
            _ = tick.tick() => {}
        }
        match engine.grab_dashboard(&actor, id).await {
            Ok(d) => {
                let event = Event::default().event("figures").json_data(&d).unwrap_or_else(|_| Event::default());
                Some((Ok(event), Some((engine, actor, tick, closing))))
            }
            Err(e) => {
                tracing::error!(error = %e, "a dashboard's stream failed; the page reconnects");
                None
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
