//! The wallet, a voucher's dynamic code (refreshing with its window, and
//! turning to "已核销" once a cashier takes it), the participating shops
//! near me, and my redemptions and refunds.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quan_domain::redemption::Refusal;
use quan_engine::redemptions::RedemptionError;
use quan_http::AppState;
use serde::Deserialize;

use super::batch::Where;
use super::views::VoucherCard;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{H5, Signed};
use crate::zh::{beijing, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/h5/wallet", get(wallet))
        .route("/h5/vouchers/{id}", get(voucher))
        .route("/h5/vouchers/{id}/code", get(code))
        .route("/h5/vouchers/{id}/shops", get(shops))
        .route("/h5/history", get(history))
}

fn no_voucher() -> Msg {
    Msg::warn(StatusCode::NOT_FOUND, "not_found", crate::zh::h5::NO_VOUCHER)
}

fn voucher_id(raw: &str) -> Result<uuid::Uuid, Msg> {
    raw.parse().map_err(|_| no_voucher())
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/wallet.html")]
struct Wallet {
    c: Chrome,
    groups: Vec<(&'static str, Vec<VoucherCard>)>,
}

async fn wallet(State(state): State<AppState>, signed: Signed<H5>) -> Result<Wallet, Msg> {
    let list = state.engine.wallet(&signed.actor).await.map_err(Msg::of)?;
    let cards: Vec<VoucherCard> = list.iter().map(VoucherCard::of).collect();
    let mut groups: Vec<(&'static str, Vec<VoucherCard>)> =
        [crate::zh::h5::USABLE, crate::zh::h5::USED, crate::zh::h5::EXPIRED]
            .into_iter()
            .map(|s| (s, Vec::new()))
            .collect();
    for c in cards {
        if let Some(g) = groups.iter_mut().find(|(s, _)| *s == c.state) {
            g.1.push(c);
        }
    }
    Ok(Wallet { c: Chrome::signed(&signed.csrf), groups })
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/voucher.html")]
struct VoucherPage {
    c: Chrome,
    v: VoucherCard,
}

async fn voucher(
    State(state): State<AppState>,
    signed: Signed<H5>,
    Path(id): Path<String>,
) -> Result<VoucherPage, Msg> {
    let id = voucher_id(&id)?;
    let list = state.engine.wallet(&signed.actor).await.map_err(Msg::of)?;
    let w = list.iter().find(|w| w.voucher.id == id).ok_or_else(no_voucher)?;
    Ok(VoucherPage { c: Chrome::signed(&signed.csrf), v: VoucherCard::of(w) })
}

#[derive(Debug, Deserialize)]
struct Shown {
    shown: Option<String>,
}

/// The code fragment, polled every second: nothing new (204) while the
/// shown code is still the current one; the next code when its window
/// turns; "已核销" (and 286, which stops htmx's polling) once it is used.
async fn code(
    State(state): State<AppState>,
    signed: Signed<H5>,
    Path(id): Path<String>,
    Query(q): Query<Shown>,
) -> Result<Response, Msg> {
    let id = voucher_id(&id)?;
    let c = match state.engine.voucher_code(&signed.actor, id).await {
        Ok(c) => c,
        Err(RedemptionError::Refused(Refusal::AlreadyRedeemed)) => {
            let done = format!("<div class=\"msg msg_ok done\" id=\"redeemed\">{}</div>", crate::zh::h5::REDEEMED);
            return Ok(
                (StatusCode::from_u16(286).unwrap_or(StatusCode::OK), axum::response::Html(done)).into_response()
            );
        }
        Err(e) => return Err(Msg::of(e)),
    };
    crate::qr::fragment(&c, q.shown.as_deref())
}

/// A shop where a voucher can be used.
#[derive(Debug)]
struct Shop {
    name: String,
    industry: &'static str,
    address: String,
    distance: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/_shops.html")]
struct Shops {
    shops: Vec<Shop>,
}

async fn shops(
    State(state): State<AppState>,
    signed: Signed<H5>,
    Path(id): Path<String>,
    Query(q): Query<Where>,
) -> Result<Shops, Msg> {
    let near = q.position()?;
    let found = state
        .engine
        .merchants_for_voucher(&signed.actor, voucher_id(&id)?, near.as_ref(), 20)
        .await
        .map_err(Msg::of)?;
    let shops = found
        .into_iter()
        .map(|(m, d)| Shop {
            name: m.app.legal_name.clone(),
            industry: m.app.industry.zh(),
            address: m.app.address.clone(),
            distance: d.map_or_else(String::new, distance),
        })
        .collect();
    Ok(Shops { shops })
}

#[allow(clippy::cast_possible_truncation, clippy::float_arithmetic)]
fn distance(m: f64) -> String {
    if m < 1000.0 {
        crate::zh::h5::metres(m.round() as i64)
    } else {
        crate::zh::h5::kilometres(&format!("{:.1}", m / 1000.0))
    }
}

/// A redemption or refund in my history.
#[derive(Debug)]
struct Line {
    at: String,
    what: String,
    order: String,
    discount: String,
    refunded: String,
    state: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/history.html")]
struct History {
    c: Chrome,
    lines: Vec<Line>,
}

async fn history(State(state): State<AppState>, signed: Signed<H5>) -> Result<History, Msg> {
    let list = state.engine.my_redemptions(&signed.actor, quan_engine::LIST_LEN_MAX).await.map_err(Msg::of)?;
    let lines = list
        .iter()
        .map(|r| Line {
            at: beijing(r.redeemed_at),
            what: r.kind_code.clone(),
            order: yuan(r.order.as_i64()),
            discount: yuan(r.discount.as_i64()),
            refunded: if r.refunded.as_i64() > 0 { yuan(r.refunded.as_i64()) } else { String::new() },
            state: if r.state == quan_domain::redemption::RedemptionState::Standing {
                crate::zh::h5::REDEEMED
            } else {
                crate::zh::h5::REFUNDED
            },
        })
        .collect();
    Ok(History { c: Chrome::signed(&signed.csrf), lines })
}
