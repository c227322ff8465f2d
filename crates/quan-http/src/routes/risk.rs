//! Risk control at the grab through the API: the admission window's public
//! record, and the kill switch (熔断) with its history.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use quan_domain::pause::{Stops, Target};
use quan_engine::risk::admission::AdmissionRecord;
use quan_engine::risk::pauses::PauseRequest;
use quan_store::PauseRecord;
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
        .routes(routes!(admission))
        .routes(routes!(pause, pauses))
        .routes(routes!(resume))
        .routes(routes!(real_name))
        .routes(routes!(conflicts))
        .routes(routes!(resolve))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One claim of a node's draw.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DrawnClaim {
    /// Its place in the order the node offered the claims to the stock.
    pub rank: u32,
    /// The resident's opaque id (no personal data).
    pub resident_id: Uuid,
    pub kind: String,
    /// Arrived inside the window (drawn by ticket) or after it (by arrival).
    pub in_window: bool,
    /// `SHA-256(seed ‖ resident id bytes)`, hex, for a claim of the window.
    pub ticket: Option<String>,
    /// `claimed`, `sold_out`, `limit_reached`, `busy` or `failed`.
    pub outcome: String,
}

/// One node's draw.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DrawView {
    pub draw_id: Uuid,
    pub at: DateTime<Utc>,
    pub claims: Vec<DrawnClaim>,
}

/// Everything needed to check a grab's admission window.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdmissionView {
    pub batch_id: Uuid,
    pub window_s: u32,
    pub opening_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `SHA-256("quan-lottery-seed:" ‖ seed)`, hex, published from creation on.
    pub commitment: String,
    /// Revealed once the window is over; absent before.
    pub seed: Option<String>,
    pub draws: Vec<DrawView>,
}

impl From<&AdmissionRecord> for AdmissionView {
    fn from(r: &AdmissionRecord) -> Self {
        let mut draws: Vec<DrawView> = Vec::new();
        for e in &r.entries {
            if draws.last().is_none_or(|d| d.draw_id != e.draw_id) {
                draws.push(DrawView { draw_id: e.draw_id, at: e.at, claims: Vec::new() });
            }
            let ticket = r
                .seed
                .filter(|_| e.in_window)
                .map(|s| hex(&quan_domain::lottery::ticket(&s, e.resident_id.as_uuid().as_bytes())));
            if let Some(d) = draws.last_mut() {
                d.claims.push(DrawnClaim {
                    rank: e.rank,
                    resident_id: e.resident_id.as_uuid(),
                    kind: e.kind_code.clone(),
                    in_window: e.in_window,
                    ticket,
                    outcome: e.outcome.clone(),
                });
            }
        }
        AdmissionView {
            batch_id: r.batch_id.as_uuid(),
            window_s: r.window_s,
            opening_at: r.opening_at,
            ends_at: r.ends_at,
            commitment: hex(&r.commitment),
            seed: r.seed.map(|s| hex(&s)),
            draws,
        }
    }
}

/// The public record of a grab batch's fair admission window: the seed's
/// commitment from creation on; once the window is over the seed and every
/// node's draw (each claim's rank, ticket and outcome), so anyone can
/// recompute the tickets and check the order. Roles: none (public).
#[utoipa::path(get, path = "/api/v1/batches/{id}/admission", tag = "risk", params(("id" = String, Path)),
    responses((status = 200, body = AdmissionView), (status = 404, body = ErrorBody),
        (status = 422, description = "`no_admission_window`", body = ErrorBody)))]
async fn admission(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<AdmissionView>> {
    let id = id.parse().map_err(|_| ApiError::not_found())?;
    let r = state.engine.admission_record(id).await?;
    Ok(Json((&r).into()))
}

/// A pause, and its end once lifted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PauseView {
    pub id: Uuid,
    /// `batch`, `campaign`, `merchant`, `channel` or `region`.
    pub target: String,
    pub target_id: String,
    /// `claims`, `redemptions` or `both`.
    pub stops: String,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub active: bool,
    pub resumed_by: Option<String>,
    pub resumed_at: Option<DateTime<Utc>>,
    pub resume_reason: Option<String>,
}

impl From<&PauseRecord> for PauseView {
    fn from(p: &PauseRecord) -> Self {
        PauseView {
            id: p.id,
            target: p.target_kind.clone(),
            target_id: p.target_id.clone(),
            stops: p.stops.clone(),
            reason: p.reason.clone(),
            by: p.by_name.clone(),
            at: p.at,
            active: p.resumed.is_none(),
            resumed_by: p.resumed.as_ref().map(|r| r.by_name.clone()),
            resumed_at: p.resumed.as_ref().map(|r| r.at),
            resume_reason: p.resumed.as_ref().map(|r| r.reason.clone()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    /// `batch`, `campaign`, `merchant`, `channel` or `region`.
    target: String,
    /// The batch's, campaign's or merchant's id, the channel's name or the region's code.
    target_id: String,
    /// `claims`, `redemptions` or `both` (default `both`).
    stops: Option<String>,
    /// Why (shown to everyone refused): 1 to 500 characters.
    reason: String,
}

/// Pauses claims, redemptions or both for a batch, a campaign, a merchant,
/// a partner channel or a region (熔断). Every node refuses what it covers
/// with `paused` (naming who and why) within a second; refunds go on.
/// Roles: official (of a region containing the target).
#[utoipa::path(post, path = "/api/v1/pauses", tag = "risk", security(("bearer" = [])), request_body = PauseBody,
    responses((status = 201, body = PauseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid` (target, target_id, stops), `required`, `too_long`", body = ErrorBody)))]
async fn pause(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PauseBody>,
) -> ApiResult<(StatusCode, Json<PauseView>)> {
    let target = Target::parse(&b.target, &b.target_id).map_err(quan_engine::risk::RiskError::from)?;
    let stops = match b.stops.as_deref() {
        None => Stops::Both,
        Some(s) => Stops::parse(s).ok_or_else(|| ApiError::invalid_field("stops", "claims, redemptions or both"))?,
    };
    let p = state.engine.pause(&auth.0, PauseRequest { target, stops, reason: b.reason }).await?;
    Ok((StatusCode::CREATED, Json((&p).into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PausesQuery {
    /// The pauses on now and those of the last `days` days (1–366, default 30).
    #[param(minimum = 1, maximum = 366)]
    days: Option<i64>,
}

/// The pauses on now and those of recent days, newest first. Roles:
/// official, operator, auditor.
#[utoipa::path(get, path = "/api/v1/pauses", tag = "risk", security(("bearer" = [])), params(PausesQuery),
    responses((status = 200, body = Vec<PauseView>), (status = 403, body = ErrorBody)))]
async fn pauses(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<PausesQuery>,
) -> ApiResult<Json<Vec<PauseView>>> {
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(
            ApiError::bad_request("days_out_of_range", format!("days must be 1 to 366, not {days}")).on_field("days")
        );
    }
    let list = state.engine.pauses(&auth.0, days).await?;
    Ok(Json(list.iter().map(PauseView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    /// Why it may go on: 1 to 500 characters.
    reason: String,
}

/// Lifts a pause. Roles: official (of a region containing the target).
#[utoipa::path(post, path = "/api/v1/pauses/{id}/resume", tag = "risk", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ResumeBody,
    responses((status = 200, body = PauseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_resumed`", body = ErrorBody)))]
async fn resume(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ResumeBody>,
) -> ApiResult<Json<PauseView>> {
    let p = state.engine.resume(&auth.0, uuid_path(&id)?, &b.reason).await?;
    Ok(Json((&p).into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RealNameBody {
    /// As on the ID card, 1 to 32 characters.
    name: String,
    id_number: String,
    /// The phone number the resident logs in with.
    phone: String,
}

/// What a real-name check recorded (masked).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RealNameView {
    pub id_masked: String,
    pub household_region: String,
    pub checked_at: DateTime<Utc>,
}

/// A real-name check (三要素: name, ID number and the phone the resident
/// logs in with) against the configured verifier. On a match the number is
/// recorded (if it was not) and marked the resident's; other accounts that
/// recorded the same number meet a conflict an operator resolves for this
/// holder. Five checks an hour per account. Batches with
/// `require_real_name` admit only checked residents. Roles: resident.
#[utoipa::path(post, path = "/api/v1/me/identity/real-name", tag = "risk", security(("bearer" = [])), request_body = RealNameBody,
    responses((status = 200, body = RealNameView),
        (status = 409, description = "`identity_already_recorded` (another number is recorded)", body = ErrorBody),
        (status = 422, description = "`real_name_mismatch`, `phone_not_yours`, an ID number's rule, `required`, `too_long`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
        (status = 503, description = "`real_name_unavailable`", body = ErrorBody)))]
async fn real_name(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<RealNameBody>,
) -> ApiResult<Json<RealNameView>> {
    let i = state.engine.check_real_name(&auth.0, &b.name, &b.id_number, &b.phone).await?;
    Ok(Json(RealNameView {
        id_masked: i.id_masked,
        household_region: i.household_region,
        checked_at: i.real_name_checked_at.unwrap_or(i.verified_at),
    }))
}

/// An ID number recorded by two accounts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConflictView {
    pub id: Uuid,
    pub id_masked: String,
    /// The account whose real-name check matched the number.
    pub holder: Uuid,
    /// The account that recorded it on its word.
    pub other: Uuid,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// Once resolved: the other account's unused vouchers under the number
    /// now frozen, their face in fen, and the per-person slots its claims
    /// gave back to the holder.
    pub frozen_vouchers: u32,
    pub frozen_fen: i64,
    pub slots_released: u32,
}

impl From<&quan_store::IdentityConflict> for ConflictView {
    fn from(c: &quan_store::IdentityConflict) -> Self {
        ConflictView {
            id: c.id,
            id_masked: c.id_masked.clone(),
            holder: c.holder.as_uuid(),
            other: c.other.as_uuid(),
            opened_at: c.opened_at,
            resolved_at: c.resolved.as_ref().map(|r| r.1),
            note: c.resolved.as_ref().map(|r| r.2.clone()),
            frozen_vouchers: c.outcome.frozen_vouchers,
            frozen_fen: c.outcome.frozen_fen.as_i64(),
            slots_released: c.outcome.slots_released,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConflictsQuery {
    /// Also the resolved ones (default: open only).
    all: Option<bool>,
}

/// Identity conflicts, newest first. Roles: operator.
#[utoipa::path(get, path = "/api/v1/identity-conflicts", tag = "risk", security(("bearer" = [])), params(ConflictsQuery),
    responses((status = 200, body = Vec<ConflictView>), (status = 403, body = ErrorBody)))]
async fn conflicts(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ConflictsQuery>,
) -> ApiResult<Json<Vec<ConflictView>>> {
    let list = state.engine.identity_conflicts(&auth.0, !q.all.unwrap_or(false)).await?;
    Ok(Json(list.iter().map(ConflictView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    /// What the operator saw (papers, calls): 1 to 500 characters.
    note: String,
}

/// Resolves a conflict for the checked holder: the other account no longer
/// counts as that person; its claims made under the number give their
/// per-person slots back (the holder may claim), and its unused vouchers
/// from them are frozen (a till refuses them with `voucher_frozen`; they
/// still expire and return to the budget). Roles: operator.
#[utoipa::path(post, path = "/api/v1/identity-conflicts/{id}/resolve", tag = "risk", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ResolveBody,
    responses((status = 200, body = ConflictView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_resolved`", body = ErrorBody)))]
async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ResolveBody>,
) -> ApiResult<Json<ConflictView>> {
    let c = state.engine.resolve_identity_conflict(&auth.0, uuid_path(&id)?, &b.note).await?;
    Ok(Json((&c).into()))
}
