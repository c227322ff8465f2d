//! Test mode (`/partner/v1/sandbox`): a test partner's calls go to the
//! sandbox, a deployment's second store with a campaign, a shop and a till
//! of its own. These endpoints show it, mint test residents and vouchers,
//! give a test voucher's current dynamic code and fire sample events. A
//! live partner is refused them (`live_mode`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use quan_domain::partner::Scope;
use quan_engine::partners::{SandboxResident, SandboxVoucher, SandboxWorld};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::partner::{FiredDoc, post, signed};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sandbox_world))
        .routes(routes!(sandbox_resident))
        .routes(routes!(sandbox_voucher))
        .routes(routes!(sandbox_voucher_code))
        .routes(routes!(sandbox_event))
}

/// A kind of voucher in the sandbox batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxKindDoc {
    code: String,
    name: String,
    min_order_fen: i64,
    off_fen: i64,
}

/// What a test partner finds in the sandbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxDoc {
    campaign_id: Uuid,
    /// The batch minted vouchers come from (also open to `POST /partner/v1/claims`).
    batch_id: Uuid,
    /// The shop to quote, lock and confirm at.
    merchant_id: Uuid,
    till_id: Uuid,
    kinds: Vec<SandboxKindDoc>,
    opens_at: chrono::DateTime<chrono::Utc>,
    closes_at: chrono::DateTime<chrono::Utc>,
}

impl From<SandboxWorld> for SandboxDoc {
    fn from(w: SandboxWorld) -> SandboxDoc {
        SandboxDoc {
            campaign_id: w.campaign_id.as_uuid(),
            batch_id: w.batch_id.as_uuid(),
            merchant_id: w.merchant_id.as_uuid(),
            till_id: w.till_id.as_uuid(),
            kinds: w
                .kinds
                .into_iter()
                .map(|k| SandboxKindDoc {
                    code: k.code,
                    name: k.name,
                    min_order_fen: k.min_order_fen,
                    off_fen: k.off_fen,
                })
                .collect(),
            opens_at: w.opens_at,
            closes_at: w.closes_at,
        }
    }
}

/// A test resident's one-time binding code: redeem it at `POST /partner/v1/bindings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxResidentDoc {
    binding_code: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// The made-up phone number, masked.
    phone_masked: String,
}

impl From<SandboxResident> for SandboxResidentDoc {
    fn from(r: SandboxResident) -> Self {
        SandboxResidentDoc { binding_code: r.binding_code, expires_at: r.expires_at, phone_masked: r.phone_masked }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MintVoucherBody {
    #[schema(min_length = 1, max_length = 64)]
    resident_openid: String,
    /// One of the sandbox batch's kinds (as in `POST /partner/v1/claims`); its first kind when left out.
    #[serde(default)]
    kind: Option<String>,
}

/// A test voucher, and the code the resident's phone would show now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxVoucherDoc {
    voucher_id: Uuid,
    claim_id: Uuid,
    kind_code: String,
    face_fen: i64,
    /// The dynamic code's text (what the QR code holds): use it as `voucher_code`.
    voucher_code: String,
    code_expires_at: chrono::DateTime<chrono::Utc>,
}

impl From<SandboxVoucher> for SandboxVoucherDoc {
    fn from(v: SandboxVoucher) -> Self {
        SandboxVoucherDoc {
            voucher_id: v.voucher_id,
            claim_id: v.claim_id,
            kind_code: v.kind_code,
            face_fen: v.face_fen,
            voucher_code: v.voucher_code,
            code_expires_at: v.code_expires_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    #[schema(min_length = 1, max_length = 64)]
    resident_openid: String,
}

/// A test voucher's current dynamic code.
#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxCodeDoc {
    voucher_code: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EventBody {
    /// `voucher.claimed`, `voucher.expired`, `redemption.confirmed`, `redemption.reversed`,
    /// `refund.succeeded`, `campaign.paused`, `campaign.resumed`, `settlement.ready` or `webhook.test`.
    #[schema(min_length = 1, max_length = 64)]
    r#type: String,
}

/// The sandbox: its campaign, batch, kinds, shop and till (made on a test partner's first
/// call; the partner's channel gets a share of each kind). Scope: checkout.
/// Roles: test partner (signed request; the body signed is empty).
#[utoipa::path(get, path = "/partner/v1/sandbox", tag = "partner",
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = SandboxDoc), (status = 401, body = ErrorBody),
        (status = 403, description = "`live_mode`: a live partner has no sandbox", body = ErrorBody),
        (status = 503, description = "`sandbox_unavailable`", body = ErrorBody)))]
async fn sandbox_world(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<SandboxDoc>> {
    let p = signed(&state, &method, &uri, &headers, b"", Scope::Checkout).await?;
    Ok(Json(p.engine.sandbox_view(&p).await?.into()))
}

/// Mints a test resident (a made-up phone number) and a one-time binding code for this
/// partner, as the resident would make in quan's H5: redeem it at `POST /partner/v1/bindings`.
/// Scope: checkout. Roles: test partner (signed request).
#[utoipa::path(post, path = "/partner/v1/sandbox/residents", tag = "partner", request_body = super::partner::ReverseBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 201, body = SandboxResidentDoc), (status = 401, body = ErrorBody),
        (status = 403, description = "`live_mode`", body = ErrorBody)))]
async fn sandbox_resident(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, _: super::partner::ReverseBody| async move {
        Ok((StatusCode::CREATED, Json(SandboxResidentDoc::from(p.engine.sandbox_resident(&p).await?))))
    })
    .await
}

/// Mints a voucher for a test resident bound to this partner: a claim through the partner's
/// channel from the sandbox batch, under its rules (up to 100 vouchers a resident), with its
/// `voucher.claimed` event. Answers the voucher's current dynamic code too.
/// Scope: checkout. Roles: test partner (signed request).
#[utoipa::path(post, path = "/partner/v1/sandbox/vouchers", tag = "partner", request_body = MintVoucherBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 201, body = SandboxVoucherDoc), (status = 401, body = ErrorBody),
        (status = 403, description = "`live_mode`", body = ErrorBody),
        (status = 404, description = "`resident_not_bound`", body = ErrorBody),
        (status = 409, description = "`not_open`, `limit_reached`, `sold_out`", body = ErrorBody)))]
async fn sandbox_voucher(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: MintVoucherBody| async move {
        let v = p.engine.sandbox_voucher(&p, &b.resident_openid, b.kind).await?;
        Ok((StatusCode::CREATED, Json(SandboxVoucherDoc::from(v))))
    })
    .await
}

/// A test voucher's current dynamic code (what the resident's phone shows now; a new one
/// every refresh). Scope: checkout. Roles: test partner (signed request).
#[utoipa::path(post, path = "/partner/v1/sandbox/vouchers/{voucher_id}/code", tag = "partner", request_body = CodeBody,
    params(("voucher_id" = Uuid, Path), ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = SandboxCodeDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`resident_not_bound`, `not_found`", body = ErrorBody)))]
async fn sandbox_voucher_code(
    State(state): State<AppState>,
    Path(voucher): Path<Uuid>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: CodeBody| async move {
        let c = p.engine.sandbox_voucher_code(&p, &b.resident_openid, voucher).await?;
        Ok((StatusCode::OK, Json(SandboxCodeDoc { voucher_code: c.code, expires_at: c.expires_at })))
    })
    .await
}

/// Fires a sample event of a type (its data in the real event's shape, with
/// `"sandbox": true`), delivered to the partner's endpoint like any other.
/// Scope: checkout. Roles: test partner (signed request).
#[utoipa::path(post, path = "/partner/v1/sandbox/events", tag = "partner", request_body = EventBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 202, body = FiredDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "`unknown_event_type`", body = ErrorBody)))]
async fn sandbox_event(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: EventBody| async move {
        let event_id = p.engine.sandbox_event(&p, b.r#type.trim()).await?;
        Ok((StatusCode::ACCEPTED, Json(FiredDoc { event_id })))
    })
    .await
}
