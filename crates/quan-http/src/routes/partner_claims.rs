//! Claims through a partner's app (`/partner/v1/claims`): the partner
//! claims for a resident bound to it, under the batch's rules and limits,
//! from its share of the stock.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use quan_domain::BatchId;
use quan_domain::partner::Scope;
use quan_engine::claims::Claimed;
use quan_engine::partners::PartnerClaimInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::claims::position;
use super::partner::post;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(partner_claim))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    /// The resident's id for you, from their binding.
    resident_openid: String,
    batch_id: Uuid,
    /// The voucher kind's code; may be left out when the batch has one kind.
    #[serde(default)]
    kind: Option<String>,
    /// Your own request number, unique among your claims: 1–64 of `A–Z a–z 0–9 _ - | *`.
    #[schema(pattern = "^[A-Za-z0-9_|*-]{1,64}$")]
    out_request_no: String,
    /// Where the resident's phone is, when the batch names districts.
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lng: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    crs: Option<String>,
    #[serde(default)]
    accuracy_m: Option<f64>,
}

/// One voucher of a claim.
#[derive(Debug, Serialize, ToSchema)]
struct ClaimedVoucherDoc {
    voucher_id: Uuid,
    /// 0 for a single voucher; the tier's position in a pack.
    tier: u32,
    face_fen: i64,
}

/// A claim made through the partner.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerClaimDoc {
    claim_id: Uuid,
    out_request_no: String,
    resident_openid: String,
    campaign_id: Uuid,
    batch_id: Uuid,
    kind: String,
    vouchers: Vec<ClaimedVoucherDoc>,
    claimed_at: chrono::DateTime<chrono::Utc>,
}

fn doc(c: Claimed, b: &ClaimBody) -> PartnerClaimDoc {
    PartnerClaimDoc {
        claim_id: c.claim_id,
        out_request_no: b.out_request_no.clone(),
        resident_openid: b.resident_openid.trim().to_owned(),
        campaign_id: c.campaign_id.as_uuid(),
        batch_id: c.batch_id.as_uuid(),
        kind: c.kind_code,
        vouchers: c
            .vouchers
            .iter()
            .map(|v| ClaimedVoucherDoc { voucher_id: v.id, tier: v.tier, face_fen: v.face.as_i64() })
            .collect(),
        claimed_at: c.claimed_at,
    }
}

/// Claims a voucher of a batch for a resident bound to you (your app as a claim channel):
/// the batch's eligibility, time and limits as in quan's own H5, from your share of its stock
/// (`sold_out` when your share is gone, whatever is left elsewhere). The same
/// `out_request_no` again answers the same claim; for another resident, batch or kind it is
/// `out_request_no_reused`. A `voucher.claimed` event follows. Scope: claim. Roles: partner
/// (signed request).
#[utoipa::path(post, path = "/partner/v1/claims", tag = "partner", request_body = ClaimBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 201, body = PartnerClaimDoc), (status = 401, body = ErrorBody),
        (status = 403, description = "`partner_suspended`, `scope_missing`, `test_mode`, `paused`", body = ErrorBody),
        (status = 404, description = "`resident_not_bound`, `not_found`", body = ErrorBody),
        (status = 409, description = "`sold_out`, `limit_reached`, `out_request_no_reused`, `not_open`, `closed`", body = ErrorBody),
        (status = 422, description = "`not_eligible` with every rule failed, and malformed fields", body = ErrorBody),
        (status = 503, description = "`busy`", body = ErrorBody)))]
async fn partner_claim(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Claim, |p, b: ClaimBody| async move {
        let input = PartnerClaimInput {
            resident_openid: b.resident_openid.clone(),
            batch_id: BatchId::from_uuid(b.batch_id),
            kind_code: b.kind.clone(),
            out_request_no: b.out_request_no.clone(),
            position: position(b.lat, b.lng, b.crs.as_deref(), b.accuracy_m)?,
        };
        let c = p.engine.partner_claim(&p, input).await?;
        Ok((StatusCode::CREATED, Json(doc(c, &b))))
    })
    .await
}
