//! Risk cases through the API: operators and officials of a region read
//! the cases the nightly analysis opened, with their evidence and every
//! action; operators work them; the evidence package downloads as a ZIP.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use quan_engine::risk::cases::{CaseCommand, CaseOutcome};
use quan_store::RiskCase;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::redemptions::uuid_path;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cases))
        .routes(routes!(case))
        .routes(routes!(act_on_case))
        .routes(routes!(evidence))
}

/// A merchant, resident or product a case names (residents by their opaque id).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// `merchant`, `resident` or `product`.
    pub kind: String,
    pub id: String,
}

/// One recorded action.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionView {
    pub seq: i64,
    /// `opened`, `found_again`, `hold_settlement`, `release_settlement`, `suspend_merchants`,
    /// `freeze_vouchers`, `release_vouchers`, `note`, `closed`.
    pub action: String,
    /// The staff member; absent for the analysis.
    pub by: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub note: String,
    /// What it did (JSON).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A risk case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub number: i64,
    /// `merchant`, `resident`, `product` or `ring`.
    pub kind: String,
    /// The finding: `graph_ring`, `threshold_hugging`, `hoarding`, `price_raise`, `quick_refund`.
    pub source: String,
    pub district: String,
    pub campaign_id: Option<Uuid>,
    pub score: i64,
    /// In Chinese, for people.
    pub summary: String,
    /// The subsidy the finding counts.
    pub amount_fen: i64,
    /// `open` or `closed`.
    pub status: String,
    /// `fraud_confirmed` or `false_alarm` once closed.
    pub outcome: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Merchants whose settlement the case holds now.
    pub settlement_held: Vec<Uuid>,
    /// Vouchers the case keeps frozen now, and their face.
    pub frozen_vouchers: u32,
    pub frozen_fen: i64,
    /// In the single view: members, actions and the evidence (JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberView>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub evidence: Option<serde_json::Value>,
}

impl CaseView {
    fn of(c: &RiskCase, full: bool) -> CaseView {
        CaseView {
            id: c.id,
            number: c.number,
            kind: c.kind.clone(),
            source: c.source.clone(),
            district: c.district.clone(),
            campaign_id: c.campaign.map(|x| x.as_uuid()),
            score: c.score,
            summary: c.summary.clone(),
            amount_fen: c.amount.as_i64(),
            status: c.status.clone(),
            outcome: c.outcome.clone(),
            opened_at: c.opened_at,
            closed_at: c.closed_at,
            settlement_held: c.settlement_held.iter().map(|m| m.as_uuid()).collect(),
            frozen_vouchers: c.frozen_vouchers,
            frozen_fen: c.frozen_fen.as_i64(),
            members: c.members.iter().map(|m| MemberView { kind: m.kind.into(), id: m.id.clone() }).collect(),
            actions: c
                .actions
                .iter()
                .map(|a| ActionView {
                    seq: a.seq,
                    action: a.action.clone(),
                    by: a.by.map(|u| u.as_uuid()),
                    at: a.at,
                    note: a.note.clone(),
                    detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::String(a.detail.clone())),
                })
                .collect(),
            evidence: full.then(|| serde_json::from_str(&c.evidence).unwrap_or(serde_json::Value::Null)),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CasesQuery {
    /// `open` (default) or `all`.
    status: Option<String>,
}

/// The cases of the caller's region, newest first. Roles: operator, official.
#[utoipa::path(get, path = "/api/v1/risk-cases", tag = "risk", security(("bearer" = [])), params(CasesQuery),
    responses((status = 200, body = Vec<CaseView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn cases(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<CasesQuery>,
) -> ApiResult<Json<Vec<CaseView>>> {
    let open_only = match q.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => return Err(ApiError::invalid_field("status", "`open` or `all`")),
    };
    let list = state.engine.risk_cases(&auth.0, open_only).await?;
    Ok(Json(list.iter().map(|c| CaseView::of(c, false)).collect()))
}

/// One case with its members, every action and its evidence. Roles: operator, official.
#[utoipa::path(get, path = "/api/v1/risk-cases/{id}", tag = "risk", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn case(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<CaseView>> {
    let c = state.engine.risk_case(&auth.0, uuid_path(&id)?).await?;
    Ok(Json(CaseView::of(&c, true)))
}

/// What to do to a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    /// `hold_settlement`, `release_settlement`, `suspend_merchants`, `freeze_vouchers`,
    /// `release_vouchers`, `note` or `close`.
    #[schema(
        pattern = "^(hold_settlement|release_settlement|suspend_merchants|freeze_vouchers|release_vouchers|note|close)$"
    )]
    action: String,
    /// With `close`: `fraud_confirmed` or `false_alarm` (a false alarm also releases what
    /// the case holds and freezes).
    #[serde(default)]
    #[schema(pattern = "^(fraud_confirmed|false_alarm)$")]
    outcome: Option<String>,
    /// Why: 1 to 500 characters.
    note: String,
}

fn command(b: &ActionBody) -> Result<CaseCommand, ApiError> {
    let outcome = || {
        b.outcome
            .as_deref()
            .and_then(CaseOutcome::parse)
            .ok_or_else(|| ApiError::invalid_field("outcome", "`fraud_confirmed` or `false_alarm` to close a case"))
    };
    Ok(match b.action.as_str() {
        "hold_settlement" => CaseCommand::HoldSettlement,
        "release_settlement" => CaseCommand::ReleaseSettlement,
        "suspend_merchants" => CaseCommand::SuspendMerchants,
        "freeze_vouchers" => CaseCommand::FreezeVouchers,
        "release_vouchers" => CaseCommand::ReleaseVouchers,
        "note" => CaseCommand::Note,
        "close" => CaseCommand::Close(outcome()?),
        _ => return Err(ApiError::invalid_field("action", "one of the actions listed")),
    })
}

/// Works a case: hold or release its merchants' settlement, suspend them, freeze or release
/// its residents' unused vouchers, add a note, or close it with an outcome. Recorded with who,
/// when and the note. Roles: operator.
#[utoipa::path(post, path = "/api/v1/risk-cases/{id}/actions", tag = "risk", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ActionBody,
    responses((status = 200, body = CaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`case_closed`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn act_on_case(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<Json<CaseView>> {
    let cmd = command(&b)?;
    let (c, _) = state.engine.act_on_case(&auth.0, uuid_path(&id)?, cmd, &b.note).await?;
    Ok(Json(CaseView::of(&c, true)))
}

/// The case's evidence package as a ZIP: summary.txt (Chinese), case.json, redemptions.csv,
/// graph.json, graph.svg, and manifest.json (every file's SHA-256) signed with the
/// deployment's SM2 key in manifest.sig (`quan risk verify` checks it). Roles: operator, official.
#[utoipa::path(get, path = "/api/v1/risk-cases/{id}/evidence", tag = "risk", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "application/zip", content_type = "application/zip", body = Vec<u8>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn evidence(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let id = uuid_path(&id)?;
    let c = state.engine.risk_case(&auth.0, id).await?;
    let folder = format!("case-{}", c.number);
    let p = state.engine.case_package(&auth.0, id).await?;
    let body = p.zip(&folder).map_err(|e| ApiError::internal(&e))?;
    let mut r = ([(header::CONTENT_TYPE, "application/zip")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{folder}.zip\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
