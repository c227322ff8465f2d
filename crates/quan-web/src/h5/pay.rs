//! 商家出示、用户扫码: the resident scans (or types) the till's code, enters
//! the amount, picks a voucher, sees the discount, then confirms.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use quan_domain::Fen;
use quan_engine::redemptions::OrderInput;
use quan_http::AppState;
use serde::Deserialize;

use super::views::VoucherCard;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{H5, Signed};
use crate::zh::{self, parse_yuan, yuan};

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

struct Checked {
    code: String,
    voucher: uuid::Uuid,
    order: OrderInput,
}

fn check(f: &PayForm) -> Result<Checked, Msg> {
    let code: String = f.till_code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() {
        return Err(Msg::field(zh::h5::TILL_CODE));
    }
    let amount = parse_yuan(&f.amount).filter(|a| *a > 0).ok_or_else(|| Msg::field(zh::till::ORDER_AMOUNT))?;
    let voucher = f.voucher.trim().parse().map_err(|_| Msg::field(zh::h5::PICK_VOUCHER))?;
    let order = OrderInput {
        amount: Fen::new(amount),
        order_ref: String::new(),
        items: Vec::new(),
        platform_match: Fen::ZERO,
        merchant_match: Fen::ZERO,
    };
    Ok(Checked { code, voucher, order })
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/_pay_preview.html")]
struct Preview {
    shop: String,
    kind: String,
    order: String,
    discount: String,
    pays: String,
}

async fn preview(
    State(state): State<AppState>,
    signed: Signed<H5>,
    axum::Form(f): axum::Form<PayForm>,
) -> Result<Preview, Msg> {
    let c = check(&f)?;
    let shop = state.engine.scanned_till_name(&signed.actor, &c.code).await.map_err(Msg::of)?;
    let p = state.engine.preview_at_scanned_till(&signed.actor, &c.code, c.voucher, &c.order).await.map_err(Msg::of)?;
    Ok(Preview {
        shop,
        kind: p.kind_name,
        order: yuan(p.order.as_i64()),
        discount: yuan(p.discount.as_i64()),
        pays: yuan(p.pays.as_i64()),
    })
}

async fn confirm(
    State(state): State<AppState>,
    signed: Signed<H5>,
    axum::Form(f): axum::Form<PayForm>,
) -> Result<(StatusCode, Msg), Msg> {
    let c = check(&f)?;
    let r = state.engine.redeem_at_scanned_till(&signed.actor, &c.code, c.voucher, c.order).await.map_err(Msg::of)?;
    let text = zh::h5::paid(
        &yuan(r.order.as_i64()),
        &yuan(r.discount.as_i64()),
        &yuan(r.order.as_i64() - r.discount.as_i64()),
    );
    Ok((StatusCode::CREATED, Msg::ok(text)))
}
