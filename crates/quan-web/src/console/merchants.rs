//! Merchants in the console: the review queue (pending first; any status by
//! filter, with search), a merchant's application with its history, and the
//! decisions — approve, reject, suspend, reinstate — each with a reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use quan_domain::MerchantId;
use quan_domain::merchant::{MerchantStatus, ReviewAction, Scale};
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::shop::Choice;
use crate::zh::{self, beijing};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/merchants", get(queue))
        .route("/console/merchants/{id}", get(page))
        .route("/console/merchants/{id}/review", post(review))
        .route("/console/merchants/{id}/districts.geojson", get(city_map))
}

#[derive(Debug, Deserialize)]
struct Filter {
    status: Option<String>,
    q: Option<String>,
    district: Option<String>,
    industry: Option<String>,
    scale: Option<String>,
}

/// A merchant in the queue.
#[derive(Debug)]
struct Line {
    id: String,
    name: String,
    industry: &'static str,
    district: String,
    scale: &'static str,
    status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/merchants.html")]
struct Queue {
    c: Chrome,
    me: Me,
    status: String,
    q: String,
    district: String,
    industry: String,
    scale: String,
    districts: Vec<Choice>,
    industries: Vec<Choice>,
    scales: Vec<Choice>,
    lines: Vec<Line>,
}

async fn queue(State(state): State<AppState>, signed: Signed<Console>, Query(f): Query<Filter>) -> Result<Queue, Msg> {
    let status_raw = f.status.unwrap_or_else(|| "pending".to_owned());
    let status = MerchantStatus::parse(&status_raw);
    let q = f.q.unwrap_or_default();
    let pick = |v: &Option<String>| v.clone().unwrap_or_default();
    let (district, industry, scale) = (pick(&f.district), pick(&f.industry), pick(&f.scale));
    let query = quan_store::MerchantQuery {
        search: Some(q.trim()).filter(|s| !s.is_empty()),
        district: Some(district.as_str()).filter(|d| !d.is_empty()),
        industry: quan_domain::Industry::parse(&industry),
        scale: Scale::parse(&scale),
    };
    let list = state
        .engine
        .list_merchants(&signed.actor, status, None, quan_engine::LIST_LEN_MAX, &query)
        .await
        .map_err(Msg::of)?;
    let lines = list
        .iter()
        .map(|m| Line {
            id: m.id.to_string(),
            name: m.app.legal_name.clone(),
            industry: m.app.industry.zh(),
            district: m.app.district.to_string(),
            scale: zh::console::scale(m.app.scale),
            status: zh::shop::status(m.status),
        })
        .collect();
    let me = Me::of(&signed.actor);
    let districts = state
        .engine
        .districts()
        .await
        .map_err(|e| Msg::internal(&e))?
        .into_iter()
        .filter(|d| signed.actor.region().is_some_and(|r| r.contains_district(&d.code)))
        .map(|d| Choice { value: d.code.to_string(), label: d.name })
        .collect();
    let industries =
        quan_domain::Industry::ALL.iter().map(|i| Choice { value: i.as_str().into(), label: i.zh().into() }).collect();
    let scales = [Scale::Large, Scale::Medium, Scale::Small, Scale::Micro]
        .iter()
        .map(|s| Choice { value: s.as_str().into(), label: zh::console::scale(*s).into() })
        .collect();
    Ok(Queue {
        c: Chrome::signed(&signed.csrf),
        me,
        status: status_raw,
        q,
        district,
        industry,
        scale,
        districts,
        industries,
        scales,
        lines,
    })
}

/// A decision in the merchant's history.
#[derive(Debug)]
struct Decision {
    at: String,
    action: &'static str,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/merchant.html")]
struct Page {
    c: Chrome,
    me: Me,
    id: String,
    name: String,
    credit_code: String,
    industry: &'static str,
    scale: &'static str,
    address: String,
    district: String,
    position: String,
    contact: String,
    account: String,
    status: &'static str,
    reason: String,
    actions: Vec<Act>,
    /// Tickets naming the merchant.
    complaints: u64,
    /// Other merchants sharing its account, phone or address: (id, name, what they share).
    alike: Vec<(String, String, String)>,
    /// How many more lie outside my region.
    alike_elsewhere: usize,
    /// GCJ-02 `lng,lat`, for the map.
    point: String,
    history: Vec<Decision>,
}

fn merchant_id(raw: &str) -> Result<MerchantId, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::console::NO_MERCHANT))
}

/// A decision the merchant's status allows.
#[derive(Debug)]
struct Act {
    action: &'static str,
    label: &'static str,
    /// Approving and reinstating open the merchant; the others close it.
    opens: bool,
}

/// The decisions `me` may take on a merchant in status `s`: operators all
/// the status allows, officials only a suspension, auditors none.
fn actions(s: MerchantStatus, me: &Me) -> Vec<Act> {
    let act = |action, opens| Act { action, label: zh::console::action_named(action), opens };
    if !me.operator {
        let suspend = me.official && s == MerchantStatus::Approved;
        return if suspend { vec![act("suspend", false)] } else { Vec::new() };
    }
    match s {
        MerchantStatus::Pending => vec![act("approve", true), act("reject", false)],
        MerchantStatus::Approved => vec![act("suspend", false)],
        MerchantStatus::Suspended => vec![act("reinstate", true)],
        MerchantStatus::Rejected => Vec::new(),
    }
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Path(id): Path<String>) -> Result<Page, Msg> {
    let id = merchant_id(&id)?;
    let m = state.engine.get_merchant(&signed.actor, id).await.map_err(Msg::of)?;
    let history = state.engine.merchant_reviews(&signed.actor, id).await.map_err(Msg::of)?;
    let complaints = state.engine.merchant_complaint_count(&signed.actor, id).await.map_err(Msg::of)?;
    let (alike, alike_elsewhere) = state.engine.merchants_alike(&signed.actor, id).await.map_err(Msg::of)?;
    let alike = alike
        .iter()
        .map(|a| {
            let shared = [
                (a.same_account, zh::console::SAME_ACCOUNT),
                (a.same_phone, zh::console::SAME_PHONE),
                (a.same_address, zh::console::SAME_ADDRESS),
            ];
            let why: Vec<&str> = shared.iter().filter(|(yes, _)| *yes).map(|(_, w)| *w).collect();
            (a.merchant.id.to_string(), a.merchant.app.legal_name.clone(), why.join("、"))
        })
        .collect();
    let a = &m.app;
    let me = Me::of(&signed.actor);
    Ok(Page {
        c: Chrome::signed(&signed.csrf).charting(),
        actions: actions(m.status, &me),
        me,
        complaints,
        alike,
        alike_elsewhere,
        point: m.app.location.map_or_else(String::new, |l| format!("{},{}", l.lng, l.lat)),
        id: m.id.to_string(),
        name: a.legal_name.clone(),
        credit_code: a.credit_code.as_str().to_owned(),
        industry: a.industry.zh(),
        scale: zh::console::scale(a.scale),
        address: a.address.clone(),
        district: a.district.to_string(),
        position: a.location.map_or_else(String::new, |l| format!("{:.5}, {:.5}", l.lat, l.lng)),
        contact: format!("{} {}", a.contact_name, a.contact_phone.masked()),
        account: format!(
            "{} {} {}",
            a.settlement_account.bank_name,
            a.settlement_account.account_name,
            a.settlement_account.masked_number()
        ),
        status: zh::shop::status(m.status),
        reason: m.status_reason.clone(),
        history: history
            .iter()
            .map(|r| Decision { at: beijing(r.at), action: zh::console::action(r.action), reason: r.reason.clone() })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    action: String,
    reason: Option<String>,
}

async fn review(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ReviewForm>,
) -> Result<Response, Msg> {
    let action = match f.action.as_str() {
        "approve" => ReviewAction::Approve,
        "reject" => ReviewAction::Reject,
        "suspend" => ReviewAction::Suspend,
        "reinstate" => ReviewAction::Reinstate,
        _ => return Err(Msg::field(zh::console::ACTION)),
    };
    let reason = f.reason.unwrap_or_default();
    state.engine.review_merchant(&signed.actor, merchant_id(&id)?, action, reason.trim()).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

/// The boundaries of the merchant's city, for the map beside its position.
async fn city_map(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    let m = state.engine.get_merchant(&signed.actor, merchant_id(&id)?).await.map_err(Msg::of)?;
    let city = quan_domain::Region::parse(&m.app.district.as_str()[..4]).map_err(|e| Msg::internal(&e))?;
    super::reports::geojson_of(&state, &city).await
}
