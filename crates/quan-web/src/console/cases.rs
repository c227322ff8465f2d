//! Risk cases (风险案件) in the console: the cases the nightly analysis
//! opened in the operator's or official's region, each with its finding in
//! Chinese, the merchants and residents it names, the resident–merchant
//! graph, the money it holds and every action; operators work a case (hold
//! or release settlement, suspend the merchants, freeze or release the
//! residents' unused vouchers, a note, close it) and anyone who may read it
//! downloads its signed evidence package.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quan_engine::risk::RiskError;
use quan_engine::risk::cases::{CaseCommand, CaseOutcome};
use quan_http::AppState;
use quan_store::RiskCase;
use serde::Deserialize;

use super::Me;
use super::campaigns::field_error;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh::console::{case_action, case_kind, case_source, case_status};
use crate::zh::{beijing, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/risk-cases", get(list))
        .route("/console/risk-cases/{id}", get(detail))
        .route("/console/risk-cases/{id}/evidence.zip", get(evidence))
        .route("/console/risk-cases/{id}/act/{action}", post(act))
}

/// A case as a line of the list.
#[derive(Debug)]
struct Line {
    id: String,
    number: i64,
    kind: &'static str,
    source: &'static str,
    summary: String,
    amount: String,
    status: &'static str,
    held: usize,
    opened: String,
}

impl Line {
    fn of(c: &RiskCase) -> Line {
        Line {
            id: c.id.to_string(),
            number: c.number,
            kind: case_kind(&c.kind),
            source: case_source(&c.source),
            summary: c.summary.clone(),
            amount: yuan(c.amount.as_i64()),
            status: case_status(&c.status, c.outcome.as_deref()),
            held: c.settlement_held.len(),
            opened: beijing(c.opened_at),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/cases.html")]
struct ListPage {
    c: Chrome,
    me: Me,
    all: bool,
    cases: Vec<Line>,
    figures: Figures,
}

/// The region's cases in figures (all of them, whatever the list shows).
#[derive(Debug, Default)]
struct Figures {
    open: usize,
    fraud: usize,
    false_alarms: usize,
    held_merchants: usize,
    frozen: u32,
    frozen_fen: String,
    amount_open: String,
}

impl Figures {
    fn of(cases: &[RiskCase]) -> Figures {
        let open: Vec<&RiskCase> = cases.iter().filter(|c| c.status == "open").collect();
        let mut held: Vec<_> = open.iter().flat_map(|c| c.settlement_held.iter()).collect();
        held.sort();
        held.dedup();
        Figures {
            open: open.len(),
            fraud: cases.iter().filter(|c| c.outcome.as_deref() == Some("fraud_confirmed")).count(),
            false_alarms: cases.iter().filter(|c| c.outcome.as_deref() == Some("false_alarm")).count(),
            held_merchants: held.len(),
            frozen: cases.iter().map(|c| c.frozen_vouchers).sum(),
            frozen_fen: yuan(cases.iter().map(|c| c.frozen_fen.as_i64()).sum()),
            amount_open: yuan(open.iter().map(|c| c.amount.as_i64()).sum()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, Msg> {
    let all = q.status.as_deref() == Some("all");
    let every = state.engine.risk_cases(&signed.actor, false).await.map_err(Msg::of)?;
    let figures = Figures::of(&every);
    let cases = every.iter().filter(|c| all || c.status == "open").map(Line::of).collect();
    Ok(ListPage { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), all, cases, figures })
}

/// One recorded action as the timeline shows it.
#[derive(Debug)]
struct Step {
    at: String,
    who: String,
    action: &'static str,
    note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/case.html")]
struct DetailPage {
    c: Chrome,
    me: Me,
    case: Line,
    open: bool,
    /// The merchants it names: (name, id, settlement held by this case).
    merchants: Vec<(String, String, bool)>,
    residents: Vec<String>,
    products: Vec<String>,
    frozen: String,
    frozen_n: u32,
    steps: Vec<Step>,
    /// The resident–merchant graph (generated, names escaped).
    graph_svg: String,
}

fn merchant_names(evidence: &serde_json::Value) -> std::collections::HashMap<String, String> {
    evidence["merchants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["id"].as_str()?.to_owned(), m["name"].as_str().unwrap_or("").to_owned())))
        .collect()
}

async fn detail(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<DetailPage, Msg> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Msg::of(RiskError::NotFound))?;
    let c = state.engine.risk_case(&signed.actor, id).await.map_err(Msg::of)?;
    let evidence: serde_json::Value = serde_json::from_str(&c.evidence).unwrap_or_default();
    let names = merchant_names(&evidence);
    let held: Vec<String> = c.settlement_held.iter().map(|m| m.to_string()).collect();
    let of_kind = |k: &str| c.members.iter().filter(|m| m.kind == k).map(|m| m.id.clone()).collect::<Vec<_>>();
    let merchants = of_kind("merchant")
        .into_iter()
        .map(|m| (names.get(&m).cloned().unwrap_or_default(), m.clone(), held.contains(&m)))
        .collect();
    let steps = c
        .actions
        .iter()
        .map(|a| Step {
            at: beijing(a.at),
            who: a.by.map_or_else(|| "系统分析".to_owned(), |u| quan_domain::ids::short(&u.to_string())),
            action: case_action(&a.action),
            note: a.note.clone(),
        })
        .collect();
    Ok(DetailPage {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        open: c.status == "open",
        residents: of_kind("resident").iter().map(|r| quan_domain::ids::short(r)).collect(),
        products: of_kind("product"),
        frozen: yuan(c.frozen_fen.as_i64()),
        frozen_n: c.frozen_vouchers,
        graph_svg: if c.kind == "ring" { quan_engine::risk::evidence::graph_svg_of(&evidence) } else { String::new() },
        merchants,
        steps,
        case: Line::of(&c),
    })
}

async fn evidence(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Msg::of(RiskError::NotFound))?;
    let c = state.engine.risk_case(&signed.actor, id).await.map_err(Msg::of)?;
    let p = state.engine.case_package(&signed.actor, id).await.map_err(Msg::of)?;
    let folder = format!("case-{}", c.number);
    let body = p.zip(&folder).map_err(|e| Msg::of(RiskError::Store(quan_store::StoreError::message(e.to_string()))))?;
    let mut r = ([(header::CONTENT_TYPE, "application/zip")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{folder}.zip\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
struct ActForm {
    note: String,
}

async fn act(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path((id, action)): Path<(String, String)>,
    axum::Form(f): axum::Form<ActForm>,
) -> Result<Response, Msg> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Msg::of(RiskError::NotFound))?;
    let cmd = match action.as_str() {
        "hold_settlement" => CaseCommand::HoldSettlement,
        "release_settlement" => CaseCommand::ReleaseSettlement,
        "suspend_merchants" => CaseCommand::SuspendMerchants,
        "freeze_vouchers" => CaseCommand::FreezeVouchers,
        "release_vouchers" => CaseCommand::ReleaseVouchers,
        "note" => CaseCommand::Note,
        "fraud_confirmed" => CaseCommand::Close(CaseOutcome::FraudConfirmed),
        "false_alarm" => CaseCommand::Close(CaseOutcome::FalseAlarm),
        _ => return Err(Msg::of(RiskError::NotFound)),
    };
    match state.engine.act_on_case(&signed.actor, id, cmd, &f.note).await {
        Ok(_) => Ok(refreshed(StatusCode::OK)),
        Err(RiskError::Invalid(i)) => Ok(field_error(&i.field, i.rule, &i.message)),
        Err(e) => Err(Msg::of(e)),
    }
}
