//! Batches inside campaigns, and the lottery of lottery batches.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use quan_domain::batch::{BatchAmendment, BatchMode, BatchSpec};
use quan_domain::{BatchId, Role};
use quan_engine::campaigns::LotteryRecord;
use quan_store::Batch;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::routes::campaign_id;

const READERS: &[Role] = &[Role::Official, Role::Auditor, Role::Operator];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_batch, list_batches))
        .routes(routes!(get_batch, amend_batch))
        .routes(routes!(register))
        .routes(routes!(draw))
        .routes(routes!(lottery))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A batch. `phase` is `scheduled`, `registering` (lottery), `open` or `ended`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchView {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub opening_at: DateTime<Utc>,
    pub closing_at: DateTime<Utc>,
    pub phase: String,
    pub face_total_fen: i64,
    pub version: i64,
    /// For lottery batches: SHA-256 of the seed, published from creation on.
    pub lottery_commitment: Option<String>,
    pub lottery_drawn_at: Option<DateTime<Utc>>,
    /// The batch as submitted (kinds, eligibility, limits, mode).
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl BatchView {
    pub fn new(b: &Batch, now: DateTime<Utc>) -> BatchView {
        let lottery = matches!(b.spec.mode, BatchMode::Lottery { .. });
        let phase = match &b.spec.mode {
            _ if now >= b.spec.closing_at => "ended",
            _ if now >= b.spec.opening_at => "open",
            BatchMode::Lottery { registration_opens_at, registration_closes_at }
                if now >= *registration_opens_at && now < *registration_closes_at =>
            {
                "registering"
            }
            _ => "scheduled",
        };
        BatchView {
            id: b.id.as_uuid(),
            campaign_id: b.campaign_id.as_uuid(),
            name: b.spec.name.clone(),
            opening_at: b.spec.opening_at,
            closing_at: b.spec.closing_at,
            phase: phase.into(),
            face_total_fen: b.face_total.as_i64(),
            version: b.version,
            lottery_commitment: b.lottery.as_ref().filter(|_| lottery).map(|l| hex(&l.commitment)),
            lottery_drawn_at: b.lottery.as_ref().and_then(|l| l.drawn_at),
            spec: serde_json::to_value(&b.spec).unwrap_or_default(),
            created_at: b.created_at,
        }
    }
}

/// Everything needed to re-run a draw: `quan lottery verify` does it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LotteryView {
    pub batch_id: Uuid,
    pub commitment: String,
    /// Revealed after the draw; absent before.
    pub seed: Option<String>,
    pub drawn_at: Option<DateTime<Utc>>,
    pub winners_max: usize,
    /// Registrant ids (opaque; no personal data).
    pub registrants: Vec<Uuid>,
    /// Winner ids in ticket order.
    pub winners: Vec<Uuid>,
    /// Claims made in the batch: after the draw, the winners' vouchers (one
    /// of every kind each), issued at the draw.
    #[serde(default)]
    pub issued_claims: u64,
}

impl From<&LotteryRecord> for LotteryView {
    fn from(r: &LotteryRecord) -> Self {
        let state = r.batch.lottery.as_ref();
        let drawn_at = state.and_then(|l| l.drawn_at);
        LotteryView {
            batch_id: r.batch.id.as_uuid(),
            commitment: state.map(|l| hex(&l.commitment)).unwrap_or_default(),
            seed: state.filter(|l| l.drawn_at.is_some()).map(|l| hex(&l.seed)),
            drawn_at,
            winners_max: r.winners_max,
            registrants: r.registrants.iter().map(|x| x.as_uuid()).collect(),
            winners: r.winners.iter().map(|x| x.as_uuid()).collect(),
            issued_claims: r.issued_claims,
        }
    }
}

pub(crate) fn batch_id(raw: &str) -> Result<BatchId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// Adds a batch to a campaign; refused with `budget_exceeded` when all
/// batches together would exceed the budget. Roles: official.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/batches", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = crate::routes::campaign_docs::BatchSpecDoc, description = "a batch: name, opening_at, closing_at, kinds, eligibility, limits, mode"),
    responses((status = 201, body = BatchView), (status = 422, description = "the rule broken, with `details.field`", body = ErrorBody)))]
async fn add_batch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<BatchSpec>,
) -> ApiResult<(StatusCode, Json<BatchView>)> {
    let b = state.engine.add_batch(&auth.0, campaign_id(&id)?, spec).await?;
    Ok((StatusCode::CREATED, Json(BatchView::new(&b, state.engine.now()))))
}

/// The batches of a campaign. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/batches", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<BatchView>), (status = 404, body = ErrorBody)))]
async fn list_batches(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<BatchView>>> {
    auth.require(READERS)?;
    let now = state.engine.now();
    let list = state.engine.list_batches(&auth.0, campaign_id(&id)?).await?;
    Ok(Json(list.iter().map(|b| BatchView::new(b, now)).collect()))
}

/// One batch. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = BatchView), (status = 404, body = ErrorBody)))]
async fn get_batch(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<BatchView>> {
    auth.require(READERS)?;
    let (b, _) = state.engine.get_batch(&auth.0, batch_id(&id)?).await?;
    Ok(Json(BatchView::new(&b, state.engine.now())))
}

/// Amends a batch. Before it opens anything may change; after, only a
/// later `closing_at` and `add_stock` within the budget (else
/// `locked_after_opening`, `closing_time_shortened`). Roles: official.
#[utoipa::path(patch, path = "/api/v1/batches/{id}", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = crate::routes::campaign_docs::BatchAmendmentDoc, description = "any of: name, opening_at, closing_at, add_stock [{kind, stock}], limits, eligibility"),
    responses((status = 200, body = BatchView), (status = 422, body = ErrorBody), (status = 409, description = "`concurrent_change`", body = ErrorBody)))]
async fn amend_batch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<BatchAmendment>,
) -> ApiResult<Json<BatchView>> {
    let b = state.engine.amend_batch(&auth.0, batch_id(&id)?, &a).await?;
    Ok(Json(BatchView::new(&b, state.engine.now())))
}

/// Where the resident is, for a batch whose rule names districts.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub crs: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

/// Registers the calling resident for a lottery batch, inside its
/// registration window, if the batch's eligibility rule admits them
/// (`not_eligible` lists every rule failed; the position is needed when the
/// rule names districts). Roles: resident.
#[utoipa::path(post, path = "/api/v1/batches/{id}/registrations", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = RegistrationBody, description = "optional: the position"),
    responses((status = 201, description = "registered"), (status = 403, description = "`not_eligible`", body = ErrorBody),
        (status = 409, description = "`registration_closed`, `already_registered`", body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    auth.require(&[Role::Resident])?;
    let b: RegistrationBody = if body.is_empty() {
        RegistrationBody::default()
    } else {
        crate::idempotency::require_json(&headers)?;
        crate::extract::parse_json(&body)?
    };
    let position = crate::routes::claims::position(b.lat, b.lng, b.crs.as_deref(), b.accuracy_m)?;
    state.engine.register_for_lottery(&auth.0, batch_id(&id)?, position).await?;
    Ok(StatusCode::CREATED)
}

/// Runs the draw of a lottery batch once registration has closed, and
/// reveals the seed. Roles: official.
#[utoipa::path(post, path = "/api/v1/batches/{id}/draw", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = LotteryView), (status = 409, description = "`draw_too_early`, `already_drawn`", body = ErrorBody)))]
async fn draw(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<LotteryView>> {
    let r = state.engine.draw_lottery(&auth.0, batch_id(&id)?).await?;
    Ok(Json((&r).into()))
}

/// The public record of a lottery: commitment, and after the draw the seed,
/// registrants and winners, so anyone can re-run it. Roles: none (public).
#[utoipa::path(get, path = "/api/v1/batches/{id}/lottery", tag = "batches", params(("id" = String, Path)),
    responses((status = 200, body = LotteryView), (status = 404, body = ErrorBody)))]
async fn lottery(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<LotteryView>> {
    let r = state.engine.lottery_record(batch_id(&id)?).await?;
    Ok(Json((&r).into()))
}
