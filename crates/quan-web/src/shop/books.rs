//! The shop's books: redemptions by day and till (a table, and the same as
//! CSV for a spreadsheet), and its settlement lines (what was paid, held,
//! recovered, confirmed by the bank).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use quan_domain::TillId;
use quan_domain::redemption::RedemptionState;
use quan_http::AppState;
use quan_store::Redemption;
use serde::Deserialize;

use super::{Choice, merchant_of};
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{Shop, Signed};
use crate::zh::{self, beijing, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/redemptions", get(redemptions))
        .route("/merchant/redemptions.csv", get(redemptions_csv))
        .route("/merchant/settlements", get(settlements))
}

/// Redemptions shown or downloaded at most.
const ROWS_MAX: u32 = 500;

#[derive(Debug, Default, Deserialize)]
struct Filter {
    from: Option<String>,
    to: Option<String>,
    till: Option<String>,
}

/// The filter read: days (today by default, Beijing time) and a till or all.
struct Chosen {
    from: NaiveDate,
    to: NaiveDate,
    till: Option<TillId>,
}

fn chosen(f: &Filter, today: NaiveDate) -> Result<Chosen, Msg> {
    let day = |s: &Option<String>, what: &str| -> Result<NaiveDate, Msg> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(today),
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| Msg::field(zh::shop::bad_date(what))),
        }
    };
    let till = match f.till.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => Some(t.parse().map_err(|_| Msg::field(zh::shop::BAD_TILL))?),
    };
    Ok(Chosen { from: day(&f.from, zh::shop::FROM)?, to: day(&f.to, zh::shop::TO)?, till })
}

/// A redemption as a row of the table and of the CSV.
#[derive(Debug)]
struct Row {
    at: String,
    day: String,
    till: String,
    kind: String,
    order: String,
    discount: String,
    subsidy: String,
    refunded: String,
    state: &'static str,
}

fn row(r: &Redemption, tills: &[Choice]) -> Row {
    let till =
        r.till_id.map(|t| t.to_string()).and_then(|t| tills.iter().find(|c| c.value == t)).map(|c| c.label.clone());
    Row {
        at: beijing(r.redeemed_at),
        day: r.business_day.to_string(),
        till: till.unwrap_or_default(),
        kind: r.kind_code.clone(),
        order: yuan(r.order.as_i64()),
        discount: yuan(r.discount.as_i64()),
        subsidy: yuan(r.subsidy.as_i64()),
        refunded: yuan(r.refunded.as_i64()),
        state: if r.state == RedemptionState::Standing { zh::shop::STANDING } else { zh::shop::REVERSED },
    }
}

async fn read(state: &AppState, signed: &Signed<Shop>, f: &Filter) -> Result<(Chosen, Vec<Row>, Vec<Choice>), Msg> {
    let merchant = merchant_of(&signed.actor)?;
    let today = state.engine.now().with_timezone(&quan_domain::UTC8).date_naive();
    let c = chosen(f, today)?;
    let tills = state.engine.tills(&signed.actor, merchant).await.map_err(Msg::of)?;
    let tills: Vec<Choice> =
        tills.iter().map(|t| Choice { value: t.id.to_string(), label: format!("{} {}", t.code, t.name) }).collect();
    let list = state
        .engine
        .merchant_redemptions(&signed.actor, merchant, (c.from, c.to), c.till, ROWS_MAX)
        .await
        .map_err(Msg::of)?;
    let rows = list.iter().map(|r| row(r, &tills)).collect();
    Ok((c, rows, tills))
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/redemptions.html")]
struct Redemptions {
    c: Chrome,
    from: String,
    to: String,
    till: String,
    tills: Vec<Choice>,
    rows: Vec<Row>,
    csv: String,
    total_subsidy: String,
}

async fn redemptions(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    Query(f): Query<Filter>,
) -> Result<Redemptions, Msg> {
    let (c, rows, tills) = read(&state, &signed, &f).await?;
    let till = c.till.map(|t| t.to_string()).unwrap_or_default();
    let csv = format!("/merchant/redemptions.csv?from={}&to={}&till={till}", c.from, c.to);
    let total: i64 = rows.iter().filter_map(|r| crate::zh::parse_yuan(&r.subsidy)).sum();
    Ok(Redemptions {
        c: Chrome::signed(&signed.csrf),
        from: c.from.to_string(),
        to: c.to.to_string(),
        till,
        tills,
        rows,
        csv,
        total_subsidy: yuan(total),
    })
}

/// The same rows as CSV (UTF-8 with a BOM, so a spreadsheet reads the
/// Chinese right; no cell can start a formula).
async fn redemptions_csv(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    Query(f): Query<Filter>,
) -> Result<Response, Msg> {
    let (c, rows, _) = read(&state, &signed, &f).await?;
    let mut out = format!("\u{feff}{}\r\n", zh::shop::CSV_HEADER);
    for r in &rows {
        let cells =
            [&r.at, &r.day, &r.till, &r.kind, &r.order, &r.discount, &r.subsidy, &r.refunded, &r.state.to_owned()];
        let line: Vec<String> = cells.iter().map(|v| quan_engine::csv_cell::field(v)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let name = format!("attachment; filename=\"redemptions-{}-{}.csv\"", c.from, c.to);
    let mut resp = (StatusCode::OK, out).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// A settlement line as shown.
#[derive(Debug)]
struct Line {
    day: String,
    amount: String,
    status: &'static str,
    reason: String,
    confirmed: String,
    recovered: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/settlements.html")]
struct Settlements {
    c: Chrome,
    lines: Vec<Line>,
}

async fn settlements(State(state): State<AppState>, signed: Signed<Shop>) -> Result<Settlements, Msg> {
    let merchant = merchant_of(&signed.actor)?;
    let list = state.engine.merchant_settlements(&signed.actor, merchant, ROWS_MAX).await.map_err(Msg::of)?;
    let lines = list
        .iter()
        .map(|s| Line {
            day: s.business_day.to_string(),
            amount: yuan(s.amount.as_i64()),
            status: zh::shop::settlement(&s.status),
            reason: s.hold_reason.clone(),
            confirmed: s.confirmed.map(|f| yuan(f.as_i64())).unwrap_or_default(),
            recovered: yuan(s.recovered.as_i64()),
        })
        .collect();
    Ok(Settlements { c: Chrome::signed(&signed.csrf), lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_defaults_to_today_and_names_a_bad_date() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        let c = chosen(&Filter::default(), today).ok().map(|c| (c.from, c.to, c.till));
        assert_eq!(c, Some((today, today, None)));
        let bad = Filter { from: Some("5/12/2026".into()), ..Filter::default() };
        assert!(chosen(&bad, today).is_err());
    }
}
