//! 商家出示、用户扫码: the resident scans (or types) the till's code, enters
//! the amount, picks a voucher, sees the discount, then confirms.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use quan_engine::redemptions::OrderInput;
use quan_http::AppState;
use serde::Deserialize;

use super::views::VoucherCard;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{H5, Signed};
use crate::{typed, zh};

pub fn router() -> Router<AppState> {
    Router::new().route("/h5/pay", get(page).post(confirm)).route("/h5/pay/preview", post(preview))
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/pay.html")]
struct Page {
    c: Chrome,
    vouchers: Vec<VoucherCard>,
}

async fn page(State(state): State<AppState>, signed: Signed<H5>) -> Result<Page, Msg> {
    let list = state.engine.wallet(&signed.actor).await.map_err(Msg::of)?;
    let vouchers = list.iter().map(VoucherCard::of).filter(|v| v.usable).collect();
    Ok(Page { c: Chrome::signed(&signed.csrf).scanning(), vouchers })
}

#[derive(Debug, Deserialize)]
struct PayForm {
    till_code: String,
    amount: String,
    voucher: String,
}

/// The till's code, the order and the chosen voucher, as typed.
fn check(f: &PayForm) -> Result<(String, uuid::Uuid, OrderInput), Msg> {
    let (code, order) = typed::order(&f.till_code, &f.amount, zh::h5::TILL_CODE)?;
    let voucher = f.voucher.trim().parse().map_err(|_| Msg::field(zh::h5::PICK_VOUCHER))?;
    Ok((code, voucher, order))
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/_pay_preview.html")]
struct Preview {
    p: typed::Shown,
}

async fn preview(
    State(state): State<AppState>,
    signed: Signed<H5>,
    axum::Form(f): axum::Form<PayForm>,
) -> Result<Preview, Msg> {
    let (code, voucher, order) = check(&f)?;
    let p = state.engine.preview_at_scanned_till(&signed.actor, &code, voucher, &order).await.map_err(Msg::of)?;
    Ok(Preview { p: typed::Shown::of(p) })
}

async fn confirm(
    State(state): State<AppState>,
    signed: Signed<H5>,
    axum::Form(f): axum::Form<PayForm>,
) -> Result<(StatusCode, Msg), Msg> {
    let (code, voucher, order) = check(&f)?;
    let r = state.engine.redeem_at_scanned_till(&signed.actor, &code, voucher, order).await.map_err(Msg::of)?;
    let (order, discount, pays) = typed::settled(&r);
    let text = zh::h5::paid(&order, &discount, &pays);
    Ok((StatusCode::CREATED, Msg::ok(text)))
}
