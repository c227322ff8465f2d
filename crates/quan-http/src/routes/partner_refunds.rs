//! Refunds a partner asks for by its own number (`out_refund_no`): part or
//! all of a confirmed payment (`/partner/v1/checkout/orders/{no}/refunds`),
//! looked up by that number after a lost answer.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use quan_domain::Fen;
use quan_domain::partner::Scope;
use quan_engine::partners::RefundView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::partner::{post, signed};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(refund_order)).routes(routes!(refund_lookup))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    /// The partner's own refund number, unique per partner: 1–64 of `A–Z a–z 0–9 _ - | *`.
    #[schema(pattern = "^[A-Za-z0-9_|*-]{1,64}$")]
    out_refund_no: String,
    /// What is refunded of the order's amount, in fen (at most what is left of it).
    #[schema(minimum = 1)]
    amount_fen: i64,
}

/// A partner's refund, recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundDoc {
    out_refund_no: String,
    out_trade_no: String,
    /// `succeeded`: a refund is recorded whole or not at all.
    status: String,
    amount_fen: i64,
    /// What the voucher's subsidy shrank by (back to the campaign's budget).
    subsidy_returned_fen: i64,
    /// Whether the voucher went back to the resident (a full refund while it is valid).
    voucher_back: bool,
    refund_id: Uuid,
    redemption_id: Uuid,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<RefundView> for RefundDoc {
    fn from(r: RefundView) -> RefundDoc {
        RefundDoc {
            out_refund_no: r.out_refund_no,
            out_trade_no: r.out_trade_no,
            status: r.status.into(),
            amount_fen: r.amount_fen,
            subsidy_returned_fen: r.subsidy_returned_fen,
            voucher_back: r.voucher_back,
            refund_id: r.refund_id,
            redemption_id: r.redemption_id,
            created_at: r.created_at,
        }
    }
}

/// Refunds part or all of a confirmed payment under the partner's `out_refund_no`: the
/// voucher's subsidy shrinks to what the rest of the order earns (a full refund while the
/// voucher is valid gives it back to the resident), with the ledger postings of a till's
/// refund and a `refund.succeeded` event. The same number, order and amount again answers
/// the same refund; another order or amount is `out_refund_no_reused`. Scope: checkout.
/// Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/checkout/orders/{out_trade_no}/refunds", tag = "partner", request_body = RefundBody,
    params(("out_trade_no" = String, Path), ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = RefundDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`order_not_found`", body = ErrorBody),
        (status = 409, description = "`out_refund_no_reused`, `order_not_confirmed`, `order_reversed`, `redemption_reversed`, `refund_raced`", body = ErrorBody),
        (status = 422, description = "`bad_refund_amount`: more than what is left of the order", body = ErrorBody)))]
async fn refund_order(
    State(state): State<AppState>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: RefundBody| async move {
        let r = p.engine.partner_refund(&p, &no, &b.out_refund_no, Fen::new(b.amount_fen)).await?;
        Ok((StatusCode::OK, Json(RefundDoc::from(r))))
    })
    .await
}

/// The partner's refund by its number, as recorded (after a lost answer). Scope: checkout.
/// Roles: partner (signed request; the body signed is empty).
#[utoipa::path(get, path = "/partner/v1/checkout/refunds/{out_refund_no}", tag = "partner",
    params(("out_refund_no" = String, Path), ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = RefundDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`refund_not_found`", body = ErrorBody)))]
async fn refund_lookup(
    State(state): State<AppState>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<RefundDoc>> {
    let p = signed(&state, &method, &uri, &headers, b"", Scope::Checkout).await?;
    Ok(Json(p.engine.partner_refund_lookup(&p, &no).await?.into()))
}
