//! Claims at the opening second, and the resident's wallet.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use quan_domain::geo::Crs;
use quan_domain::{BatchId, Role};
use quan_engine::claims::{ClaimContext, ClaimKeying, ClaimRejection, Claimed, KeyedAnswer, PowSolution};
use quan_engine::districts::Position;
use quan_engine::resident_reads::WalletVoucher;
use quan_store::IdempotencyBegin;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, ClientAddr, parse_json};
use crate::idempotency::{answer_found, fingerprint, key_of, require_json};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(claim)).routes(routes!(challenge)).routes(routes!(wallet))
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The voucher kind's code; may be left out when the batch has one kind.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub crs: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    /// For a batch with `proof_of_work`: the challenge from
    /// `POST /api/v1/batches/{id}/challenge`, and the nonce that solves it.
    #[serde(default)]
    pub pow_challenge: Option<String>,
    #[serde(default)]
    pub pow_nonce: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VoucherView {
    pub id: Uuid,
    pub batch_id: Uuid,
    pub campaign_id: Uuid,
    pub kind: String,
    /// 0 for a single voucher; the tier's position in a pack.
    pub tier: u32,
    pub face_fen: i64,
    /// `claimed`, `redeemed` or `expired`.
    pub state: String,
    pub claimed_at: DateTime<Utc>,
    /// Why an unused voucher is held back from use (`identity_conflict`, `risk_case`):
    /// a till refuses it with `voucher_frozen`. Absent when usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<String>,
    /// The kind's display name (in the wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_name: Option<String>,
    /// This voucher's own rule (its tier's, for a pack), as in the campaign file (in the wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub discount: Option<serde_json::Value>,
    /// Where it may be used: industries, districts, merchants, categories (in the wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub scope: Option<serde_json::Value>,
    /// First and last local day (UTC+8) it may be used (in the wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::NaiveDate>,
    /// ISO weekdays (1 = Monday) and local hours it may be used; empty / absent: any (in the wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub hours: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimedView {
    pub claim_id: Uuid,
    pub kind: String,
    pub vouchers: Vec<VoucherView>,
}

/// Claims one voucher (or pack) from a batch. A 201 means the voucher is on
/// disk. Send an `Idempotency-Key` so a retry never claims twice: the key is
/// stored with the granted claim, in its transaction, and a retry with it
/// (on any node) gets that answer again (`idempotent-replayed: true`); the
/// key with another body is a 422 `idempotency_key_reused`. A refused claim
/// created nothing and keeps no key, so its retry is decided again. Refusals:
/// `not_open` (with `details.server_time` for the countdown), `closed`,
/// `sold_out`, `limit_reached`, `not_eligible` (with every failed rule in
/// `details.failures`), `paused` (the bureau's kill switch: who, why and
/// since when in `details`), `busy` (429, `Retry-After`), `rate_limited`
/// (429, `Retry-After`, the rule in `details.rule`: per account, device
/// token (`Quan-Device` header), address or address block), and for a
/// batch with `proof_of_work` `challenge_required`, `challenge_failed`,
/// `challenge_expired`, `challenge_used`, `challenge_not_yours`,
/// `challenge_not_genuine`, `challenge_too_easy` (fetch a new challenge:
/// `details.bits`, `details.signals`). In a grab batch's
/// first `admission_window_s` seconds the answer comes when the window's
/// draw is made (`GET /api/v1/batches/{id}/admission`). Roles: resident.
#[utoipa::path(post, path = "/api/v1/batches/{id}/claims", tag = "claims", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ClaimBody,
    responses(
        (status = 201, body = ClaimedView),
        (status = 403, description = "`not_eligible`, `not_a_winner`, `challenge_required`, `challenge_failed`, `challenge_expired`, `challenge_used`, `challenge_not_yours`, `challenge_not_genuine`, `challenge_too_easy`", body = ErrorBody),
        (status = 409, description = "`not_open`, `closed`, `sold_out`, `limit_reached`, `paused`, `idempotency_key_in_flight`", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`", body = ErrorBody),
        (status = 429, description = "`busy`, `rate_limited`", body = ErrorBody),
    ))]
async fn claim(
    State(state): State<AppState>,
    auth: Auth,
    client: ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    auth.require(&[Role::Resident])?;
    let batch: BatchId = id.parse().map_err(|_| ApiError::not_found())?;
    if !body.is_empty() {
        require_json(&headers)?;
    }
    let quan_engine::Actor::Resident { resident, .. } = &auth.0 else { return Err(ApiError::forbidden_role()) };
    // A keyed claim's answer is stored in the claim's own transaction when
    // it is granted (no write of its own); a refused claim created nothing,
    // so its retry is decided again. The stored answer is looked up only
    // when the claim is not granted now: a grant proves the key was new
    // (the commit refuses a stored key), so a grab's keyed claims read
    // nothing before they are decided.
    // Without a key (most of a grab) nothing is hashed or named for it.
    let keyed = key_of(&headers)?.map(|key| ClaimKeying {
        scope: format!("resident:{}", resident.id),
        request_hash: fingerprint(&format!("/api/v1/batches/{id}/claims"), &body),
        key,
    });
    let ctx = client.claim_context(&headers)?;
    let decided = decide(&state, &auth, batch, &body, keyed.as_ref(), ctx).await;
    match (decided, &keyed) {
        (Err(e), Some(k)) if e.status.is_client_error() => match state.engine.claim_answer(k).await? {
            Some(found) => replay(batch, found),
            None => Err(e),
        },
        (decided, _) => decided,
    }
}

/// The answer a claim's `Idempotency-Key` already stands for.
fn replay(batch: BatchId, found: KeyedAnswer) -> ApiResult<Response> {
    answer_found(match found {
        KeyedAnswer::Claimed(c) => IdempotencyBegin::Replay {
            status: StatusCode::CREATED.as_u16(),
            body: serde_json::to_string(&claimed_view(batch, &c)).map_err(|e| ApiError::internal(&e))?,
        },
        KeyedAnswer::Stored { status, body } => IdempotencyBegin::Replay { status, body },
        KeyedAnswer::InFlight => IdempotencyBegin::InFlight,
        KeyedAnswer::Mismatch => IdempotencyBegin::Mismatch,
    })
}

/// A claim decided as if its key (if any) were new: 201, or the refusal.
async fn decide(
    state: &AppState,
    auth: &Auth,
    batch: BatchId,
    body: &[u8],
    keyed: Option<&ClaimKeying>,
    mut ctx: ClaimContext,
) -> ApiResult<Response> {
    let b: ClaimBody = if body.is_empty() { ClaimBody::default() } else { parse_json(body)? };
    let position = position(b.lat, b.lng, b.crs.as_deref(), b.accuracy_m)?;
    ctx.pow = match (b.pow_challenge, b.pow_nonce) {
        (Some(challenge), Some(nonce)) => Some(PowSolution { challenge, nonce }),
        (None, None) => None,
        _ => return Err(ApiError::invalid_field("pow_nonce", "give both pow_challenge and pow_nonce")),
    };
    match state.engine.claim_keyed(&auth.0, batch, b.kind.as_deref(), position, keyed.cloned(), &ctx).await {
        Ok(c) => Ok((StatusCode::CREATED, Json(claimed_view(batch, &c))).into_response()),
        // Another request holds the key: the caller looks its answer up.
        Err(ClaimRejection::KeyTaken) => answer_found(IdempotencyBegin::InFlight),
        Err(e) => Err(e.into()),
    }
}

/// The 201 body of a granted claim.
fn claimed_view(batch: BatchId, c: &Claimed) -> ClaimedView {
    let vouchers = c
        .vouchers
        .iter()
        .map(|v| VoucherView {
            id: v.id,
            batch_id: batch.as_uuid(),
            campaign_id: c.campaign_id.as_uuid(),
            kind: c.kind_code.clone(),
            tier: v.tier,
            face_fen: v.face.as_i64(),
            state: "claimed".into(),
            claimed_at: c.claimed_at,
            frozen: None,
            kind_name: None,
            discount: None,
            scope: None,
            valid_from: None,
            valid_until: None,
            weekdays: None,
            hours: None,
        })
        .collect();
    ClaimedView { claim_id: c.claim_id, kind: c.kind_code.clone(), vouchers }
}

/// A proof-of-work challenge for a batch that asks for one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChallengeView {
    /// Send it back with the claim as `pow_challenge`.
    pub challenge: String,
    /// Find a decimal `nonce` such that SHA-256(challenge ‖ ":" ‖ nonce)
    /// begins with this many zero bits; send it as `pow_nonce`.
    pub bits: u8,
    pub expires_at: DateTime<Utc>,
    /// The signals that raised `bits` above the deployment's base (codes).
    pub signals: Vec<String>,
}

/// A proof-of-work challenge bound to the caller, the batch and an expiry,
/// handed out from `risk.pow_lead_s` before the opening; each is taken once.
/// Risk signals (a shared device, a virtual-operator number with a new
/// account…) raise its bits; a claim whose challenge is easier than its
/// signals now ask for is refused `challenge_too_easy` and fetches another.
/// Send the page's `Quan-Device` token. Roles: resident.
#[utoipa::path(post, path = "/api/v1/batches/{id}/challenge", tag = "claims", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, body = ChallengeView),
        (status = 409, description = "`challenge_too_early` (with `details.from`), `closed`", body = ErrorBody),
        (status = 422, description = "`no_challenge_needed`, `invalid_field` (Quan-Device)", body = ErrorBody),
        (status = 429, description = "`rate_limited` (with `details.rule`)", body = ErrorBody),
    ))]
async fn challenge(
    State(state): State<AppState>,
    auth: Auth,
    client: ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<ChallengeView>> {
    auth.require(&[Role::Resident])?;
    let batch: BatchId = id.parse().map_err(|_| ApiError::not_found())?;
    let ctx = client.claim_context(&headers)?;
    let c = state.engine.claim_challenge(&auth.0, batch, &ctx).await?;
    Ok(Json(ChallengeView {
        challenge: c.challenge,
        bits: c.bits,
        expires_at: c.expires_at,
        signals: c.signals.iter().map(|s| s.code().to_owned()).collect(),
    }))
}

/// The caller's vouchers, with each one's rule, scope and validity. Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/vouchers", tag = "claims", security(("bearer" = [])), responses((status = 200, body = Vec<VoucherView>)))]
async fn wallet(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<VoucherView>>> {
    let quan_engine::Actor::Resident { .. } = &auth.0 else { return Err(ApiError::forbidden_role()) };
    let list = state.engine.wallet(&auth.0).await?;
    let mut out = Vec::with_capacity(list.len());
    for WalletVoucher { voucher: v, kind } in &list {
        let kind = kind.as_ref();
        let (from, until) = kind
            .map(|k| quan_domain::redemption::valid_days(&k.kind.validity, v.created_at))
            .map_or((None, None), |(f, u)| (Some(f), Some(u)));
        out.push(VoucherView {
            id: v.id,
            batch_id: v.batch_id.as_uuid(),
            campaign_id: v.campaign_id.as_uuid(),
            kind: v.kind_code.clone(),
            tier: v.tier,
            face_fen: v.face.as_i64(),
            state: v.state.as_str().into(),
            claimed_at: v.created_at,
            frozen: v.frozen.map(|(_, why)| why.as_str().to_owned()),
            kind_name: kind.map(|k| k.kind.name.clone()),
            discount: kind
                .and_then(|k| k.kind.discount.pack().get(v.tier as usize).cloned())
                .and_then(|d| serde_json::to_value(d).ok()),
            scope: kind.and_then(|k| serde_json::to_value(&k.kind.scope).ok()),
            valid_from: from,
            valid_until: until,
            weekdays: kind.map(|k| k.kind.weekdays.clone()),
            hours: kind.and_then(|k| k.kind.hours).and_then(|h| serde_json::to_value(h).ok()),
        });
    }
    Ok(Json(out))
}

/// A position from a request's optional `lat`, `lng`, `crs` (`wgs84` by
/// default) and `accuracy_m`; none when both coordinates are left out.
pub fn position(
    lat: Option<f64>,
    lng: Option<f64>,
    crs: Option<&str>,
    accuracy_m: Option<f64>,
) -> Result<Option<Position>, ApiError> {
    let crs = match crs {
        None => Crs::Wgs84,
        Some(c) => Crs::parse(c).ok_or_else(|| ApiError::invalid_field("crs", "wgs84, gcj02 or bd09"))?,
    };
    match (lat, lng) {
        (Some(lat), Some(lng)) => Ok(Some(Position { lng, lat, crs, accuracy_m })),
        (None, None) => Ok(None),
        _ => Err(ApiError::invalid_field("lat", "give both lat and lng")),
    }
}
