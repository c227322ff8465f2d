//! An auditor's search of a campaign's ledger: the transfers whose reference
//! starts with what was typed (a redemption, a funding, a settlement).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use quan_domain::ledger::Account;
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use super::campaigns::campaign_id;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{Console, Signed};
use crate::zh::{beijing, console as zc, yuan};

pub fn router() -> Router<AppState> {
    Router::new().route("/console/campaigns/{id}/transfers", get(search))
}

#[derive(Debug, Deserialize)]
struct Find {
    reference: Option<String>,
}

/// A transfer as shown.
#[derive(Debug)]
struct Line {
    at: String,
    from: String,
    to: String,
    amount: String,
    reason: &'static str,
    reference: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/transfers.html")]
struct Page {
    c: Chrome,
    me: Me,
    id: String,
    name: String,
    reference: String,
    lines: Vec<Line>,
}

fn account(a: &Account) -> String {
    let kind = zc::account(a.kind.as_str());
    match a.merchant {
        Some(m) => format!("{kind}（商户 {}）", quan_domain::ids::short(&m.to_string())),
        None => kind.to_owned(),
    }
}

async fn search(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    Query(f): Query<Find>,
) -> Result<Page, Msg> {
    let cid = campaign_id(&id)?;
    let c = state.engine.get_campaign(&signed.actor, cid).await.map_err(Msg::of)?;
    let reference = f.reference.unwrap_or_default();
    let found = state.engine.search_transfers(&signed.actor, cid, &reference).await.map_err(Msg::of)?;
    let lines = found
        .iter()
        .map(|t| Line {
            at: beijing(t.at),
            from: account(&t.debit),
            to: account(&t.credit),
            amount: yuan(t.amount.as_i64()),
            reason: zc::reason(t.reason.as_str()),
            reference: t.reference.clone(),
        })
        .collect();
    Ok(Page { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), id, name: c.spec.name, reference, lines })
}
