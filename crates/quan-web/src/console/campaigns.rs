//! Campaigns in the console: the form that mirrors the campaign file (one
//! batch of one kind; a file with more is uploaded through the API), each
//! error beside its field with the rule's name; a campaign's page with its
//! batches, funding and start.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quan_domain::campaign::{CampaignCommand, CampaignStatus};
use quan_domain::{CampaignId, Fen};
use quan_engine::campaigns::CampaignFile;
use quan_http::AppState;
use serde::Deserialize;
use serde_json::json;

use super::{Me, Row};
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh::{self, beijing, parse_yuan, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/campaigns/new", get(new_page).post(create))
        .route("/console/campaigns/{id}", get(page))
        .route("/console/campaigns/{id}/funding", post(fund))
        .route("/console/campaigns/{id}/start", post(start))
}

#[derive(Template, WebTemplate)]
#[template(path = "console/new.html")]
struct NewPage {
    c: Chrome,
    me: Me,
}

async fn new_page(signed: Signed<Console>) -> NewPage {
    NewPage { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor) }
}

/// The form's fields, as typed.
#[derive(Debug, Deserialize)]
struct Form {
    name: String,
    region: String,
    budget: String,
    funding_source: String,
    starts_on: String,
    ends_on: String,
    batch_name: String,
    opening_at: String,
    closing_at: String,
    kind_code: String,
    kind_name: String,
    min_order: String,
    off: String,
    stock: String,
    valid_days: String,
}

/// A field's error, said beside it: the field, its name and the rule.
#[derive(Template, WebTemplate)]
#[template(path = "console/_field_error.html")]
struct FieldError {
    field: String,
    name: &'static str,
    rule: String,
    message: String,
}

pub(super) fn field_error(field: &str, rule: &str, message: &str) -> Response {
    let e = FieldError {
        field: field.to_owned(),
        name: zh::console::field(field),
        rule: rule.to_owned(),
        message: message.to_owned(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, e).into_response()
}

/// A local time typed in the form (Beijing time, `2026-12-05T10:00`) as RFC 3339.
fn local(t: &str) -> String {
    let t = t.trim();
    if t.len() == 16 { format!("{t}:00+08:00") } else { t.to_owned() }
}

fn money(raw: &str) -> serde_json::Value {
    parse_yuan(raw).map_or_else(|| json!(raw), |f| json!(f))
}

fn number(raw: &str) -> serde_json::Value {
    raw.trim().parse::<u64>().map_or_else(|_| json!(raw), |n| json!(n))
}

/// The campaign file the form stands for.
fn file_of(f: &Form) -> serde_json::Value {
    json!({
        "campaign": {"name": f.name.trim(), "region": f.region.trim(), "budget_fen": money(&f.budget),
            "funding_source": f.funding_source.trim(), "starts_on": f.starts_on.trim(), "ends_on": f.ends_on.trim()},
        "batches": [{
            "name": f.batch_name.trim(), "opening_at": local(&f.opening_at), "closing_at": local(&f.closing_at),
            "kinds": [{"stock": number(&f.stock), "kind": {"code": f.kind_code.trim(), "name": f.kind_name.trim(),
                "discount": {"type": "threshold", "min_order_fen": money(&f.min_order), "off_fen": money(&f.off)},
                "validity": {"type": "days_after_claim", "days": number(&f.valid_days)}}}]
        }]
    })
}

async fn create(
    State(state): State<AppState>,
    signed: Signed<Console>,
    axum::Form(f): axum::Form<Form>,
) -> Result<Response, Msg> {
    let doc = file_of(&f);
    let file: CampaignFile = match serde_path_to_error::deserialize(doc) {
        Ok(file) => file,
        Err(e) => {
            let path = e.path().to_string();
            return Ok(field_error(&path, "format", &e.into_inner().to_string()));
        }
    };
    match state.engine.create_campaign(&signed.actor, file).await {
        Ok((c, _)) => {
            let mut r = StatusCode::CREATED.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/console/campaigns/{}", c.id)) {
                r.headers_mut().insert("hx-redirect", v);
            }
            Ok(r)
        }
        Err(quan_engine::campaigns::CampaignError::Invalid(i)) => Ok(field_error(&i.field, i.rule, &i.message)),
        Err(e) => Err(Msg::of(e)),
    }
}

/// A batch on the campaign's page.
#[derive(Debug)]
struct BatchLine {
    id: String,
    name: String,
    /// (code, name) of each kind, for adding stock.
    kinds: Vec<(String, String)>,
    /// The close as the form's local time.
    closing_local: String,
    opening: String,
    closing: String,
    face: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/campaign.html")]
struct Page {
    c: Chrome,
    me: Me,
    campaign: Row,
    batches: Vec<BatchLine>,
    may_fund: bool,
    may_start: bool,
    /// A draft holding no money: officials edit or delete it.
    may_edit: bool,
    /// Funded or running: officials add stock or close later.
    may_amend: bool,
    due: String,
    audit: Option<Audit>,
}

/// The campaign's audit, for officials and auditors: clean or not, what it
/// found, the ledger's balances and what it could not yet check.
#[derive(Debug)]
struct Audit {
    clean: bool,
    findings: Vec<String>,
    balances: Vec<(&'static str, String)>,
    not_checked: Vec<&'static str>,
}

impl Audit {
    fn of(r: &quan_engine::audit::AuditReport) -> Audit {
        let b = &r.balances;
        let money = |v: i128| yuan(i64::try_from(v).unwrap_or(i64::MAX));
        Audit {
            clean: r.is_clean(),
            findings: r.findings.iter().map(|f| format!("{}：{}", f.check, f.detail)).collect(),
            balances: vec![
                ("可用", money(b.available)),
                ("已预留（已领未用）", money(b.reserved)),
                ("应付商户", money(b.payable)),
                ("已付商户", money(b.paid)),
                ("暂缓", money(b.held)),
                ("已退回国库", money(b.returned)),
            ],
            not_checked: r.not_checked.clone(),
        }
    }
}

pub(super) fn campaign_id(raw: &str) -> Result<CampaignId, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::console::NO_CAMPAIGN))
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Path(id): Path<String>) -> Result<Page, Msg> {
    let id = campaign_id(&id)?;
    let c = state.engine.get_campaign(&signed.actor, id).await.map_err(Msg::of)?;
    let batches = state.engine.list_batches(&signed.actor, id).await.map_err(Msg::of)?;
    let me = Me::of(&signed.actor);
    let due = (c.spec.budget_fen.as_i64() - c.funded.as_i64()).max(0);
    // Operators have no audit; for them the section is left out.
    let audit = state.engine.audit_campaign(&signed.actor, id).await.ok().map(|r| Audit::of(&r));
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        may_fund: me.official && c.status == CampaignStatus::Draft,
        may_start: me.official && c.status == CampaignStatus::Funded,
        may_edit: me.official && c.status == CampaignStatus::Draft && c.funded == Fen::ZERO,
        may_amend: me.official && matches!(c.status, CampaignStatus::Funded | CampaignStatus::Running),
        me,
        campaign: Row::of(&c),
        batches: batches
            .iter()
            .map(|b| BatchLine {
                id: b.id.to_string(),
                name: b.spec.name.clone(),
                kinds: b
                    .spec
                    .kinds
                    .iter()
                    .map(|k| (k.kind.code.clone(), format!("{}（{}）", k.kind.name, k.stock)))
                    .collect(),
                closing_local: b.spec.closing_at.with_timezone(&quan_domain::UTC8).format("%Y-%m-%dT%H:%M").to_string(),
                opening: beijing(b.spec.opening_at),
                closing: beijing(b.spec.closing_at),
                face: yuan(b.face_total.as_i64()),
            })
            .collect(),
        due: yuan(due),
        audit,
    })
}

#[derive(Debug, Deserialize)]
struct FundForm {
    amount: String,
    note: Option<String>,
}

async fn fund(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FundForm>,
) -> Result<Response, Msg> {
    let amount = parse_yuan(&f.amount).filter(|a| *a > 0).ok_or_else(|| Msg::field(zh::console::FUND_AMOUNT))?;
    let cmd = CampaignCommand::Fund { amount: Fen::new(amount) };
    let note = f.note.unwrap_or_default();
    state.engine.change_campaign(&signed.actor, campaign_id(&id)?, cmd, note.trim()).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

async fn start(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    state
        .engine
        .change_campaign(&signed.actor, campaign_id(&id)?, CampaignCommand::Start, "")
        .await
        .map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}
