//! Campaigns: created with their batches, funded, started, closed.
//! Officials act; auditors and operators read. All inside their region.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::campaign::CampaignCommand;
use quan_domain::{CampaignId, Fen, Role};
use quan_engine::campaigns::CampaignFile;
use quan_store::{Campaign, CampaignEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, parse_json};
use crate::idempotency::{idempotent, require_json};
use crate::routes::batches::BatchView;
use crate::routes::campaign_id;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;

const READERS: &[Role] = &[Role::Official, Role::Auditor, Role::Operator];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign, list_campaigns))
        .routes(routes!(get_campaign, edit_draft, delete_draft))
        .routes(routes!(fund_campaign))
        .routes(routes!(start_campaign))
        .routes(routes!(begin_closing))
        .routes(routes!(close_campaign))
        .routes(routes!(campaign_events))
        .routes(routes!(audit))
        .routes(routes!(close_out_report))
}

/// The close-out report's figures (final once the campaign is closed): budget,
/// vouchers by state, redemptions, refunds, paid per merchant, returned; amounts
/// in fen. `quan campaign report` writes the same as XLSX and HTML. Roles:
/// official, auditor.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/close-out-report", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "the report's figures"), (status = 404, body = ErrorBody)))]
async fn close_out_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<quan_engine::close_out::CloseOutReport>> {
    Ok(Json(state.engine.close_out_report(&auth.0, campaign_id(&id)?).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FindingView {
    pub check: String,
    pub detail: String,
}

/// A campaign's books: balances in fen and every difference found.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub clean: bool,
    pub funded_fen: String,
    pub available_fen: String,
    pub reserved_fen: String,
    pub payable_fen: String,
    pub paid_fen: String,
    pub returned_fen: String,
    /// Per-merchant accounts summed: held (suspended merchants) and
    /// recoverable (zero or below: refunded after payment, owed back).
    pub held_fen: String,
    pub recoverable_fen: String,
    /// Memo: matching discounts standing (not public money).
    pub platform_matching_fen: String,
    pub merchant_matching_fen: String,
    pub findings: Vec<FindingView>,
    pub not_checked: Vec<String>,
}

/// Checks the campaign's ledger as `quan audit verify` does. Balances are
/// strings of integer fen (they are summed in 128 bits). Roles: official, auditor.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/audit", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AuditView), (status = 404, body = ErrorBody)))]
async fn audit(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<AuditView>> {
    let r = state.engine.audit_campaign(&auth.0, campaign_id(&id)?).await?;
    let b = r.balances;
    Ok(Json(AuditView {
        clean: r.is_clean(),
        funded_fen: b.funded().to_string(),
        available_fen: b.available.to_string(),
        reserved_fen: b.reserved.to_string(),
        payable_fen: b.payable.to_string(),
        paid_fen: b.paid.to_string(),
        returned_fen: b.returned.to_string(),
        held_fen: b.held.to_string(),
        recoverable_fen: b.recoverable.to_string(),
        platform_matching_fen: b.platform_matching.to_string(),
        merchant_matching_fen: b.merchant_matching.to_string(),
        findings: r.findings.iter().map(|f| FindingView { check: f.check.into(), detail: f.detail.clone() }).collect(),
        not_checked: r.not_checked.iter().map(|s| (*s).to_owned()).collect(),
    }))
}

/// A campaign with its money: `committed_fen` is the batches' total face
/// value, `uncommitted_fen` what is left of the budget for more batches.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    pub status: String,
    pub budget_fen: i64,
    pub funded_fen: i64,
    pub committed_fen: i64,
    pub uncommitted_fen: i64,
    pub funding_source: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Campaign> for CampaignView {
    fn from(c: &Campaign) -> Self {
        CampaignView {
            id: c.id.as_uuid(),
            name: c.spec.name.clone(),
            region: c.spec.region.to_string(),
            status: c.status.as_str().into(),
            budget_fen: c.spec.budget_fen.as_i64(),
            funded_fen: c.funded.as_i64(),
            committed_fen: c.committed.as_i64(),
            uncommitted_fen: c.spec.budget_fen.as_i64() - c.committed.as_i64(),
            funding_source: c.spec.funding_source.clone(),
            starts_on: c.spec.starts_on,
            ends_on: c.spec.ends_on,
            created_by: c.created_by.as_uuid(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedCampaign {
    pub campaign: CampaignView,
    pub batches: Vec<BatchView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignView>,
    pub next_after: Option<Uuid>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub kind: String,
    pub amount_fen: Option<i64>,
    pub batch_id: Option<Uuid>,
    pub note: String,
    pub actor: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl From<&CampaignEvent> for EventView {
    fn from(e: &CampaignEvent) -> Self {
        EventView {
            id: e.id,
            kind: e.kind.clone(),
            amount_fen: e.amount.map(Fen::as_i64),
            batch_id: e.batch_id.map(|b| b.as_uuid()),
            note: e.note.clone(),
            actor: e.actor.map(|a| a.as_uuid()),
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingRequest {
    /// Money received from the treasury, in fen.
    pub amount_fen: i64,
    /// e.g. the treasury's transfer reference.
    #[serde(default)]
    pub note: String,
}

/// Creates a campaign and its batches, all or nothing. The body is the
/// same document as `quan campaign create --file` (see `examples/`):
/// `{"campaign": {...}, "batches": [...]}`. Refused with
/// `budget_exceeded` when the batches' face value exceeds the budget.
/// With an `Idempotency-Key` header a retry returns the first answer.
/// Roles: official.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    request_body(content = crate::routes::campaign_docs::CampaignFileDoc, description = "a campaign file: `campaign` and `batches`"),
    responses(
        (status = 201, body = CreatedCampaign),
        (status = 422, description = "the rule broken is the code, the field in `details.field`: `budget_exceeded`, `opening_time_in_past`, `region_outside_yours`, …", body = ErrorBody),
    ))]
async fn create_campaign(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_json(&headers)?;
    let scope = format!("user:{}", actor_id(&auth));
    idempotent(&state, &scope, "/api/v1/campaigns", &headers, &body, || async {
        let file: CampaignFile = parse_json(&body)?;
        let (c, batches) = state.engine.create_campaign(&auth.0, file).await?;
        let now = state.engine.now();
        let batches = batches.iter().map(|b| BatchView::new(b, now)).collect();
        Ok((StatusCode::CREATED, Json(CreatedCampaign { campaign: (&c).into(), batches })))
    })
    .await
}

/// Rewrites a draft: the same document as for creating one; its batches
/// are replaced whole. Only a draft holding no money (`not_a_draft`
/// otherwise); once funded, amend batches instead. Roles: official.
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = crate::routes::campaign_docs::CampaignFileDoc, description = "a campaign file: `campaign` and `batches`"),
    responses(
        (status = 200, body = CreatedCampaign),
        (status = 409, description = "`not_a_draft`", body = ErrorBody),
        (status = 422, description = "the rule broken is the code, the field in `details.field`", body = ErrorBody),
    ))]
async fn edit_draft(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CreatedCampaign>> {
    require_json(&headers)?;
    let id = campaign_id(&id)?;
    let file: CampaignFile = parse_json(&body)?;
    let (c, batches) = state.engine.edit_draft(&auth.0, id, file).await?;
    let now = state.engine.now();
    Ok(Json(CreatedCampaign {
        campaign: (&c).into(),
        batches: batches.iter().map(|b| BatchView::new(b, now)).collect(),
    }))
}

/// Deletes a draft holding no money (`not_a_draft` otherwise): it is no
/// longer listed or found; its events stay for the audit. Roles: official.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 409, description = "`not_a_draft`", body = ErrorBody)))]
async fn delete_draft(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.engine.delete_draft(&auth.0, campaign_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn actor_id(auth: &Auth) -> String {
    match &auth.0 {
        quan_engine::Actor::Staff { user, .. } => user.id.to_string(),
        quan_engine::Actor::Resident { resident, .. } => resident.id.to_string(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    after: Option<Uuid>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Only campaigns whose name contains this (any case).
    #[param(max_length = 64)]
    q: Option<String>,
}

/// Campaigns inside the caller's region. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = CampaignList)))]
async fn list_campaigns(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<CampaignList>> {
    auth.require(READERS)?;
    let limit = crate::views::page_limit(q.limit)?;
    let list = state
        .engine
        .list_campaigns(&auth.0, q.after.map(CampaignId::from_uuid), limit, crate::views::search(q.q.as_deref())?)
        .await?;
    let next_after = if list.len() == limit as usize { list.last().map(|c| c.id.as_uuid()) } else { None };
    Ok(Json(CampaignList { campaigns: list.iter().map(CampaignView::from).collect(), next_after }))
}

/// One campaign; outside the caller's region a 404. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody)))]
async fn get_campaign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    auth.require(READERS)?;
    let c = state.engine.get_campaign(&auth.0, campaign_id(&id)?).await?;
    Ok(Json((&c).into()))
}

async fn change(
    state: &AppState,
    auth: &Auth,
    id: &str,
    cmd: CampaignCommand,
    note: &str,
) -> ApiResult<Json<CampaignView>> {
    let c = state.engine.change_campaign(&auth.0, campaign_id(id)?, cmd, note).await?;
    Ok(Json((&c).into()))
}

/// Records money received from the treasury. The campaign becomes `funded`
/// when the whole budget has arrived; more than the budget is refused
/// (`overfunded`). Send an `Idempotency-Key` header so that a retry never
/// records the money twice. Roles: official.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/funding", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = FundingRequest,
    responses((status = 200, body = CampaignView), (status = 422, description = "`overfunded`, `amount_not_positive`, `invalid_transition`", body = ErrorBody)))]
async fn fund_campaign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_json(&headers)?;
    let scope = format!("user:{}", actor_id(&auth));
    let path = format!("/api/v1/campaigns/{id}/funding");
    idempotent(&state, &scope, &path, &headers, &body, || async {
        let r: FundingRequest = parse_json(&body)?;
        let Json(view) =
            change(&state, &auth, &id, CampaignCommand::Fund { amount: Fen::new(r.amount_fen) }, &r.note).await?;
        Ok((StatusCode::OK, Json(view)))
    })
    .await
}

/// funded → running: batches may open. Roles: official.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/start", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 422, description = "`invalid_transition`", body = ErrorBody)))]
async fn start_campaign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    change(&state, &auth, &id, CampaignCommand::Start, "").await
}

/// running → closing: no new claims. Roles: official.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/begin-closing", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 422, description = "`invalid_transition`", body = ErrorBody)))]
async fn begin_closing(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    change(&state, &auth, &id, CampaignCommand::BeginClosing, "").await
}

/// closing → closed: final. Roles: official.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/close", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 422, description = "`invalid_transition`", body = ErrorBody)))]
async fn close_campaign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    change(&state, &auth, &id, CampaignCommand::Close, "").await
}

/// The campaign's audit trail: creation, funding, status changes, batches.
/// Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/events", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<EventView>), (status = 404, body = ErrorBody)))]
async fn campaign_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<EventView>>> {
    auth.require(READERS)?;
    let events = state.engine.campaign_events(&auth.0, campaign_id(&id)?).await?;
    Ok(Json(events.iter().map(EventView::from).collect()))
}
