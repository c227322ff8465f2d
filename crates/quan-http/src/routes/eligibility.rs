//! Eligibility: a resident's identity, the decision for a batch, and the
//! imported lists of people.

use axum::Json;
use axum::extract::{Path, Query, State};
use quan_domain::{BatchId, Role};
use quan_store::MemberKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::routes::districts::{LocatedView, PositionQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(identity, my_identity))
        .routes(routes!(change_identity))
        .routes(routes!(eligibility))
        .routes(routes!(add_members))
        .routes(routes!(get_list))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityRequest {
    /// The 18-character resident ID number.
    pub id_number: String,
}

/// What quan keeps of an ID number: never the number itself.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityView {
    /// `4****************X`.
    pub id_masked: String,
    pub household_region: String,
}

/// Records the caller's ID number (kept as a keyed hash and a masked form).
/// Once recorded it stays: the same number again answers 200; another is
/// `identity_already_recorded` (an operator changes it, with a reason).
/// Roles: resident.
#[utoipa::path(post, path = "/api/v1/me/identity", tag = "eligibility", security(("bearer" = [])), request_body = IdentityRequest,
    responses((status = 200, body = IdentityView),
        (status = 409, description = "`identity_already_recorded`: another number is recorded", body = ErrorBody),
        (status = 422, description = "`id_number_check_digit`, `id_number_legacy_15`, `id_number_unknown_region`, …", body = ErrorBody)))]
async fn identity(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(r): ApiJson<IdentityRequest>,
) -> ApiResult<Json<IdentityView>> {
    let i = state.engine.verify_identity(&auth.0, &r.id_number).await?;
    Ok(Json(IdentityView { id_masked: i.id_masked, household_region: i.household_region }))
}

/// The caller's recorded identity, masked. Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/identity", tag = "eligibility", security(("bearer" = [])),
    responses((status = 200, body = IdentityView), (status = 404, description = "no ID number recorded yet", body = ErrorBody)))]
async fn my_identity(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<IdentityView>> {
    let i = state.engine.my_identity(&auth.0).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(IdentityView { id_masked: i.id_masked, household_region: i.household_region }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityChangeRequest {
    /// The resident's phone number (their account).
    pub phone: String,
    /// The new 18-character ID number, from the papers seen.
    pub id_number: String,
    /// Why it changes; kept with the change.
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityChangeView {
    pub old_masked: String,
    pub new_masked: String,
    pub old_region: String,
    pub new_region: String,
    pub reason: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

/// Changes the ID number recorded for a resident (at the service desk),
/// keeping the old and new masked forms, the operator and the reason.
/// Roles: operator (whose region holds the old or new household region).
#[utoipa::path(post, path = "/api/v1/residents/identity-changes", tag = "eligibility", security(("bearer" = [])), request_body = IdentityChangeRequest,
    responses((status = 200, body = IdentityChangeView),
        (status = 403, body = ErrorBody), (status = 404, description = "no resident with this phone in your region", body = ErrorBody),
        (status = 422, description = "`invalid_field`, `no_identity_recorded`, `unchanged`, an ID number rule", body = ErrorBody)))]
async fn change_identity(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(r): ApiJson<IdentityChangeRequest>,
) -> ApiResult<Json<IdentityChangeView>> {
    auth.require(&[Role::Operator])?;
    let phone = quan_domain::PhoneNumber::parse(&r.phone).map_err(|e| ApiError::invalid_field("phone", e))?;
    let (_, c) = state.engine.change_identity(&auth.0, &phone, &r.id_number, &r.reason).await?;
    Ok(Json(IdentityChangeView {
        old_masked: c.old_masked,
        new_masked: c.new_masked,
        old_region: c.old_region,
        new_region: c.new_region,
        reason: c.reason,
        changed_at: c.changed_at,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FailureView {
    /// `position_required`, `outside_districts`, `position_uncertain`,
    /// `identity_required`, `household_prefix_mismatch`, `not_on_list`, `age_out_of_range`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EligibilityView {
    pub eligible: bool,
    /// Every condition not met, so the resident knows why.
    pub failures: Vec<FailureView>,
    pub position: Option<LocatedView>,
}

/// Whether the calling resident may claim from this batch, at this position.
/// Roles: resident.
#[utoipa::path(get, path = "/api/v1/batches/{id}/eligibility", tag = "eligibility", security(("bearer" = [])),
    params(("id" = String, Path), PositionQuery),
    responses((status = 200, body = EligibilityView), (status = 422, description = "a position that cannot be used", body = ErrorBody)))]
async fn eligibility(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<PositionQuery>,
) -> ApiResult<Json<EligibilityView>> {
    auth.require(&[Role::Resident])?;
    let batch: BatchId = id.parse().map_err(|_| ApiError::not_found())?;
    let d = state.engine.eligibility(&auth.0, batch, q.position()?).await?;
    Ok(Json(EligibilityView {
        eligible: d.failures.is_empty(),
        failures: d.failures.into_iter().map(|f| FailureView { code: f.code.into(), message: f.message }).collect(),
        position: d.located.map(LocatedView::from),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersRequest {
    /// `id_number` or `phone`.
    pub kind: String,
    /// The people to add; stored only as keyed hashes.
    pub values: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvalidValue {
    /// Position in `values`, from 0.
    pub index: usize,
    pub rule: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembersAdded {
    pub rows: usize,
    pub added: u64,
    pub duplicates: u64,
    pub invalid: Vec<InvalidValue>,
}

/// Adds people to a list (created on first use, owned by the caller's
/// region). Roles: official, operator.
#[utoipa::path(post, path = "/api/v1/lists/{name}/members", tag = "eligibility", security(("bearer" = [])), params(("name" = String, Path)),
    request_body = MembersRequest, responses((status = 200, body = MembersAdded), (status = 422, body = ErrorBody)))]
async fn add_members(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiJson(r): ApiJson<MembersRequest>,
) -> ApiResult<Json<MembersAdded>> {
    let kind = match r.kind.as_str() {
        "id_number" => MemberKind::IdNumber,
        "phone" => MemberKind::Phone,
        _ => return Err(ApiError::invalid_field("kind", "id_number or phone")),
    };
    let values: Vec<(usize, String)> = r.values.into_iter().enumerate().collect();
    let rep = state.engine.import_list(&auth.0, &name, kind, &values).await?;
    Ok(Json(MembersAdded {
        rows: rep.rows,
        added: rep.added,
        duplicates: rep.duplicates,
        invalid: rep
            .invalid
            .into_iter()
            .map(|e| InvalidValue { index: e.line, rule: e.rule, message: e.message })
            .collect(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListView {
    pub name: String,
    pub region: String,
    pub members: u64,
}

/// A list's name, region and size (never its members). Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/lists/{name}", tag = "eligibility", security(("bearer" = [])), params(("name" = String, Path)),
    responses((status = 200, body = ListView), (status = 404, body = ErrorBody)))]
async fn get_list(State(state): State<AppState>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<ListView>> {
    auth.require(&[Role::Official, Role::Auditor, Role::Operator])?;
    let l = state.engine.list_summary(&auth.0, &name).await?;
    Ok(Json(ListView { name: l.name, region: l.region.to_string(), members: l.members }))
}
