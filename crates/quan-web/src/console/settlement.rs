//! Settlement in the console: a business day's lines in my region (paid,
//! held and why, confirmed by the bank, mismatched) with totals; the bank's
//! confirmation file (operators) and a payment channel's bill, each answered
//! line by line with every mismatch.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use quan_domain::BusinessDay;
use quan_engine::settlement::{Confirmation, Mismatch};
use quan_engine::settlement_files::{read_bill, read_confirmation};
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{Console, Signed};
use crate::tickets::Form;
use crate::zh::{console as zc, yuan};

pub fn router() -> Router<AppState> {
    let big = DefaultBodyLimit::max(16 * 1024 * 1024);
    Router::new()
        .route("/console/settlement", get(page))
        .route("/console/settlement/confirmation", post(confirmation).layer(big))
        .route("/console/settlement/bill", post(bill).layer(big))
        .route("/console/settlement/{day}/payout.csv", get(payout))
}

/// The payout file of a day (paid lines of my region), as the bank takes it.
async fn payout(
    State(state): State<AppState>,
    signed: Signed<Console>,
    axum::extract::Path(day): axum::extract::Path<String>,
) -> Result<Response, Msg> {
    let d = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| Msg::field(zc::REPORT_DAY))?;
    let rows = state.engine.payout_of_day_as(&signed.actor, d).await.map_err(Msg::of)?;
    let mut out = String::from(quan_engine::csv_cell::BOM);
    out.push_str(&quan_engine::csv_cell::line(&quan_engine::settlement_files::PAYOUT_HEADER));
    for r in rows {
        out.push_str(&quan_engine::csv_cell::line(&r));
    }
    let mut r = out.into_response();
    let h = r.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("attachment; filename=\"payout-{d}.csv\"")) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
struct DayPick {
    day: Option<String>,
}

/// A line as shown.
#[derive(Debug)]
struct Line {
    merchant: String,
    district: String,
    amount: String,
    status: &'static str,
    reason: String,
    confirmed: String,
    mismatch: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/settlement.html")]
struct Page {
    c: Chrome,
    me: Me,
    day: String,
    lines: Vec<Line>,
    /// (label, count, yuan) per status.
    totals: Vec<(&'static str, usize, String)>,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Query(q): Query<DayPick>) -> Result<Page, Msg> {
    let yesterday = BusinessDay::of(state.engine.now(), state.engine.config().business_day_cutoff).date().pred_opt();
    let day = q
        .day
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .or(yesterday)
        .ok_or_else(|| Msg::field(zc::REPORT_DAY))?;
    let rows = state.engine.settlement_day_as(&signed.actor, day).await.map_err(Msg::of)?;
    let lines: Vec<Line> = rows
        .iter()
        .map(|l| {
            let s = &l.settlement;
            Line {
                merchant: l.merchant.clone(),
                district: l.district.clone(),
                amount: yuan(s.amount.as_i64()),
                status: zc::settlement_status(&s.status),
                reason: s.hold_reason.clone(),
                confirmed: s.confirmed.map_or_else(String::new, |f| yuan(f.as_i64())),
                mismatch: s.status == "mismatch",
            }
        })
        .collect();
    let mut totals = Vec::new();
    for status in ["paid", "held", "recovered", "confirmed", "mismatch"] {
        let of: Vec<_> = rows.iter().filter(|l| l.settlement.status == status).collect();
        if !of.is_empty() {
            let sum: i64 = of.iter().map(|l| l.settlement.amount.as_i64()).sum();
            totals.push((zc::settlement_status(status), of.len(), yuan(sum)));
        }
    }
    Ok(Page { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), day: day.to_string(), lines, totals })
}

#[derive(Template)]
#[template(path = "console/_file_result.html")]
struct FileResult {
    ok: bool,
    summary: String,
    lines: Vec<String>,
}

fn text_of(f: &Form) -> Result<String, Msg> {
    let bytes = f.photo.as_ref().ok_or_else(|| Msg::field(zc::CSV_FILE))?;
    String::from_utf8(bytes.clone()).map_err(|_| Msg::field(zc::CSV_FILE))
}

fn answer(r: FileResult) -> Result<Response, Msg> {
    Ok(axum::response::Html(r.render().map_err(|e| Msg::internal(&e))?).into_response())
}

async fn confirmation(State(state): State<AppState>, signed: Signed<Console>, m: Multipart) -> Result<Response, Msg> {
    let f = Form::read_file(m, "file").await?;
    let (lines, bad) = read_confirmation(&text_of(&f)?).map_err(|e| Msg::field(format!("{}：{e}", zc::CSV_FILE)))?;
    let results = state.engine.confirm_payouts_as(&signed.actor, &lines).await.map_err(Msg::of)?;
    let mut said: Vec<String> = bad.iter().map(|b| zc::unreadable(b.line, &b.message)).collect();
    let mut matched = 0;
    for c in &results {
        match c {
            Confirmation::Matched { .. } => matched += 1,
            Confirmation::AmountDiffers { id, instructed, paid } => {
                said.push(zc::paid_differs(&id.to_string(), &yuan(instructed.as_i64()), &yuan(paid.as_i64())));
            }
            Confirmation::UnknownSettlement { id } => said.push(zc::unknown_settlement(&id.to_string())),
            Confirmation::NotAwaitingPayment { id, status } => {
                said.push(zc::not_awaiting(&id.to_string(), zc::settlement_status(status)));
            }
        }
    }
    let summary = zc::confirmation_summary(lines.len() + bad.len(), matched, said.len());
    answer(FileResult { ok: said.is_empty(), summary, lines: said })
}

async fn bill(State(state): State<AppState>, signed: Signed<Console>, m: Multipart) -> Result<Response, Msg> {
    let f = Form::read_file(m, "file").await?;
    let (bill, bad) = read_bill(&text_of(&f)?).map_err(|e| Msg::field(format!("{}：{e}", zc::CSV_FILE)))?;
    let (matched, diffs) = state.engine.reconcile_as(&signed.actor, &bill).await.map_err(Msg::of)?;
    let mut said: Vec<String> = bad.iter().map(|b| zc::unreadable(b.line, &b.message)).collect();
    for d in &diffs {
        said.push(match d {
            Mismatch::NotInQuan { line, order_id } => zc::not_in_quan(*line, order_id),
            Mismatch::NotInBill { order_id, .. } => zc::not_in_bill(order_id),
            Mismatch::AmountDiffers { line, order_id, bill, quan } => {
                zc::differs(*line, order_id, zc::AMOUNT, &yuan(bill.as_i64()), &yuan(quan.as_i64()))
            }
            Mismatch::DiscountDiffers { line, order_id, bill, quan } => {
                zc::differs(*line, order_id, zc::DISCOUNT, &yuan(bill.as_i64()), &yuan(quan.as_i64()))
            }
            Mismatch::Ambiguous { line, order_id, redemptions } => zc::ambiguous(*line, order_id, *redemptions),
        });
    }
    let summary = zc::bill_summary(bill.len() + bad.len(), matched, said.len());
    answer(FileResult { ok: said.is_empty(), summary, lines: said })
}
