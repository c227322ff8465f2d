//! Redemption at the till in both directions, the dynamic codes (JSON, SVG,
//! PNG), the till's live list, and refunds.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{Fen, Role, TillId};
use quan_engine::redemptions::{IssuedCode, OrderInput, OrderLine};
use quan_store::{Redemption, Refund};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, parse_json};
use crate::idempotency::{idempotent, require_json};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(voucher_code))
        .routes(routes!(till_code))
        .routes(routes!(redeem_scanned))
        .routes(routes!(redeem_at_till))
        .routes(routes!(redemption))
        .routes(routes!(till_redemptions))
        .routes(routes!(refund, refunds))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CodeFormat {
    /// `json` (default), `svg` or `png`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CodeView {
    /// The code as text (56 characters); the QR image encodes exactly this.
    pub code: String,
    /// When this code's window ends: fetch the next one then.
    pub expires_at: DateTime<Utc>,
    pub refresh_s: u32,
}

fn code_response(c: IssuedCode, format: Option<&str>) -> ApiResult<Response> {
    let mut r = match format.unwrap_or("json") {
        "json" => {
            Json(CodeView { code: c.code.clone(), expires_at: c.expires_at, refresh_s: c.refresh_s }).into_response()
        }
        "svg" => {
            let svg = crate::qr::svg(&c.code).map_err(|e| ApiError::internal_message(&e))?;
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        "png" => {
            let png = crate::qr::png(&c.code).map_err(|e| ApiError::internal_message(&e))?;
            ([(header::CONTENT_TYPE, "image/png")], png).into_response()
        }
        _ => return Err(ApiError::invalid_field("format", "json, svg or png")),
    };
    // Never cached: a code is only good for its window.
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&c.code) {
        h.insert("x-quan-code", v);
    }
    if let Ok(v) = HeaderValue::from_str(&c.expires_at.to_rfc3339()) {
        h.insert("x-quan-code-expires-at", v);
    }
    Ok(r)
}

pub(crate) fn uuid_path(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// The current dynamic code of one of the caller's vouchers, for the
/// cashier to scan. `?format=svg` or `png` returns the QR image (the code
/// text is also in the `x-quan-code` header). Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/vouchers/{id}/code", tag = "redemptions", security(("bearer" = [])), params(("id" = String, Path), CodeFormat),
    responses((status = 200, body = CodeView, description = "JSON, or an image/svg+xml or image/png QR code"),
        (status = 409, description = "`already_redeemed`, `voucher_expired`, `voucher_frozen`, `paused`", body = ErrorBody)))]
async fn voucher_code(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<CodeFormat>,
) -> ApiResult<Response> {
    auth.require(&[Role::Resident])?;
    let c = state.engine.voucher_code(&auth.0, uuid_path(&id)?).await?;
    code_response(c, q.format.as_deref())
}

/// The current dynamic code of a till, for residents to scan.
/// `?format=svg` or `png` returns the QR image. Roles: cashier of the till,
/// merchant owner.
#[utoipa::path(get, path = "/api/v1/tills/{id}/code", tag = "redemptions", security(("bearer" = [])), params(("id" = String, Path), CodeFormat),
    responses((status = 200, body = CodeView, description = "JSON, or an image/svg+xml or image/png QR code")))]
async fn till_code(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<CodeFormat>,
) -> ApiResult<Response> {
    auth.require(&[Role::Cashier, Role::MerchantOwner])?;
    let c = state.engine.till_code(&auth.0, TillId::from_uuid(uuid_path(&id)?)).await?;
    code_response(c, q.format.as_deref())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    pub sku: String,
    pub quantity: u32,
    pub unit_price_fen: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// The scanned code.
    pub code: String,
    pub order_amount_fen: i64,
    /// The merchant's own order number (optional).
    #[serde(default)]
    pub order_ref: String,
    /// For vouchers limited to catalogue categories: the order's lines.
    #[serde(default)]
    pub items: Vec<LineBody>,
    /// When the resident scans a till's code: which of their vouchers to use.
    #[serde(default)]
    pub voucher_id: Option<Uuid>,
    /// A discount the payment platform adds on top of the voucher (平台配套优惠), in fen.
    #[serde(default)]
    pub platform_match_fen: i64,
    /// A discount the merchant adds on top of the voucher (商户让利), in fen.
    #[serde(default)]
    pub merchant_match_fen: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RedemptionView {
    pub id: Uuid,
    pub voucher_id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Uuid,
    pub till_id: Option<Uuid>,
    /// `resident_shows` or `merchant_shows`.
    pub direction: String,
    pub order_ref: String,
    pub order_amount_fen: i64,
    /// What the discount was computed on (the order, or its eligible items).
    pub basis_fen: i64,
    pub discount_fen: i64,
    /// Matching discounts on top of the voucher, as given (not from the budget).
    pub platform_match_fen: i64,
    pub merchant_match_fen: i64,
    /// What the resident pays: order − discount − matching discounts.
    pub resident_pays_fen: i64,
    /// What the budget pays the merchant, after refunds.
    pub subsidy_fen: i64,
    pub refunded_fen: i64,
    /// `standing`, or `reversed` after a full refund returned the voucher.
    pub state: String,
    pub business_day: NaiveDate,
    pub redeemed_at: DateTime<Utc>,
    /// The `reference` of the ledger transfers that posted it, shared by the
    /// redemptions committed together (`redemptions:<id>`; one transfer per
    /// merchant account for all of them).
    pub ledger_ref: String,
}

impl From<&Redemption> for RedemptionView {
    fn from(r: &Redemption) -> Self {
        RedemptionView {
            id: r.id,
            voucher_id: r.voucher_id,
            campaign_id: r.campaign_id.as_uuid(),
            merchant_id: r.merchant_id.as_uuid(),
            till_id: r.till_id.map(|t| t.as_uuid()),
            direction: r.direction.as_str().into(),
            order_ref: r.order_ref.clone(),
            order_amount_fen: r.order.as_i64(),
            basis_fen: r.basis.as_i64(),
            discount_fen: r.discount.as_i64(),
            platform_match_fen: r.platform_match.as_i64(),
            merchant_match_fen: r.merchant_match.as_i64(),
            resident_pays_fen: r.order.as_i64()
                - r.discount.as_i64()
                - r.platform_match.as_i64()
                - r.merchant_match.as_i64(),
            subsidy_fen: r.subsidy.as_i64(),
            refunded_fen: r.refunded.as_i64(),
            state: r.state.as_str().into(),
            business_day: r.business_day,
            redeemed_at: r.redeemed_at,
            ledger_ref: r.ledger_ref.clone(),
        }
    }
}

fn order(b: &RedeemBody) -> OrderInput {
    OrderInput {
        amount: Fen::new(b.order_amount_fen),
        order_ref: b.order_ref.trim().to_owned(),
        platform_match: Fen::new(b.platform_match_fen),
        merchant_match: Fen::new(b.merchant_match_fen),
        items: b
            .items
            .iter()
            .map(|l| OrderLine {
                sku: l.sku.trim().to_owned(),
                quantity: l.quantity,
                unit_price: Fen::new(l.unit_price_fen),
            })
            .collect(),
    }
}

/// 用户出示、商家扫码: the cashier submits the resident's scanned voucher
/// code with the order. At most once per voucher, even when two tills send
/// the same code at the same moment. Refusals name the rule broken
/// (`code_expired`, `code_not_genuine`, `already_redeemed`,
/// `threshold_not_met`, `industry_out_of_scope`, …). Roles: cashier.
#[utoipa::path(post, path = "/api/v1/redemptions", tag = "redemptions", security(("bearer" = [])), request_body = RedeemBody,
    responses((status = 201, body = RedemptionView),
        (status = 409, description = "`already_redeemed`, `code_expired`, `voucher_expired`, `voucher_frozen`, `paused`", body = ErrorBody),
        (status = 422, description = "the rule the order breaks", body = ErrorBody)))]
async fn redeem_scanned(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<RedemptionView>)> {
    auth.require(&[Role::Cashier])?;
    require_json(&headers)?;
    let b: RedeemBody = parse_json(&body)?;
    let r = state.engine.redeem_scanned(&auth.0, &b.code, order(&b)).await?;
    Ok((StatusCode::CREATED, Json((&r).into())))
}

/// 商家出示、用户扫码: the resident submits the till's scanned code, the
/// order amount and the voucher to use; the till sees the result at
/// `GET /api/v1/tills/{id}/redemptions`. Roles: resident.
#[utoipa::path(post, path = "/api/v1/me/redemptions", tag = "redemptions", security(("bearer" = [])), request_body = RedeemBody,
    responses((status = 201, body = RedemptionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn redeem_at_till(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<RedemptionView>)> {
    auth.require(&[Role::Resident])?;
    require_json(&headers)?;
    let b: RedeemBody = parse_json(&body)?;
    let voucher = b.voucher_id.ok_or_else(|| ApiError::invalid_field("voucher_id", "say which voucher to use"))?;
    let r = state.engine.redeem_at_scanned_till(&auth.0, &b.code, voucher, order(&b)).await?;
    Ok((StatusCode::CREATED, Json((&r).into())))
}

/// One redemption. Roles: the merchant's cashiers and owner, the resident,
/// officials, auditors and operators of the campaign's region.
#[utoipa::path(get, path = "/api/v1/redemptions/{id}", tag = "redemptions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RedemptionView), (status = 404, body = ErrorBody)))]
async fn redemption(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RedemptionView>> {
    let r = state.engine.redemption(&auth.0, uuid_path(&id)?).await?;
    Ok(Json((&r).into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SinceQuery {
    /// Only redemptions at or after this instant (RFC 3339); default: the last five minutes.
    pub since: Option<DateTime<Utc>>,
}

/// A till's redemptions since an instant, oldest first (at most 200): the
/// till polls this to see, before handing over the goods, a redemption the
/// resident made by scanning its code. Roles: cashier of the till, merchant owner.
#[utoipa::path(get, path = "/api/v1/tills/{id}/redemptions", tag = "redemptions", security(("bearer" = [])), params(("id" = String, Path), SinceQuery),
    responses((status = 200, body = Vec<RedemptionView>)))]
async fn till_redemptions(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SinceQuery>,
) -> ApiResult<Json<Vec<RedemptionView>>> {
    auth.require(&[Role::Cashier, Role::MerchantOwner])?;
    let since = q.since.unwrap_or_else(|| state.engine.now() - chrono::Duration::minutes(5));
    let list = state.engine.till_redemptions(&auth.0, TillId::from_uuid(uuid_path(&id)?), since).await?;
    Ok(Json(list.iter().map(RedemptionView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// How much of the order is refunded (all of what is left for a full refund).
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefundView {
    pub id: Uuid,
    pub redemption_id: Uuid,
    pub amount_fen: i64,
    /// Subsidy taken back from the merchant by this refund.
    pub subsidy_returned_fen: i64,
    /// Whether the voucher went back to the resident's wallet.
    pub voucher_back: bool,
    pub business_day: NaiveDate,
    pub at: DateTime<Utc>,
}

impl From<&Refund> for RefundView {
    fn from(f: &Refund) -> Self {
        RefundView {
            id: f.id,
            redemption_id: f.redemption_id,
            amount_fen: f.amount.as_i64(),
            subsidy_returned_fen: f.subsidy_returned.as_i64(),
            voucher_back: f.voucher_back,
            business_day: f.business_day,
            at: f.at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefundedView {
    pub refund: RefundView,
    pub redemption: RedemptionView,
}

/// Refunds (part of) a redeemed order (核销退款). A full refund inside the
/// voucher's validity returns it to the wallet; otherwise the subsidy shrinks
/// to what the remaining order earns. Send an `Idempotency-Key` so a retry
/// never refunds twice. Roles: cashier, merchant owner.
#[utoipa::path(post, path = "/api/v1/redemptions/{id}/refunds", tag = "redemptions", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = RefundBody,
    responses((status = 201, body = RefundedView),
        (status = 403, description = "`forbidden`, `risk_refused` (a refund soon after its redemption, with the rule `quick_refund` set to refuse)", body = ErrorBody),
        (status = 409, description = "`redemption_reversed`, `redemption_recovered`, `refund_raced`", body = ErrorBody),
        (status = 422, description = "`bad_refund_amount`", body = ErrorBody)))]
async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    auth.require(&[Role::Cashier, Role::MerchantOwner])?;
    require_json(&headers)?;
    let rid = uuid_path(&id)?;
    let quan_engine::Actor::Staff { user, .. } = &auth.0 else { return Err(ApiError::forbidden_role()) };
    let scope = format!("user:{}", user.id);
    let path = format!("/api/v1/redemptions/{id}/refunds");
    idempotent(&state, &scope, &path, &headers, &body, || async {
        let b: RefundBody = parse_json(&body)?;
        let (r, f) = state.engine.refund(&auth.0, rid, Fen::new(b.amount_fen)).await?;
        Ok((StatusCode::CREATED, Json(RefundedView { refund: (&f).into(), redemption: (&r).into() })))
    })
    .await
}

/// The refunds of a redemption, oldest first. Roles: as for the redemption.
#[utoipa::path(get, path = "/api/v1/redemptions/{id}/refunds", tag = "redemptions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<RefundView>)))]
async fn refunds(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<RefundView>>> {
    let list = state.engine.refunds(&auth.0, uuid_path(&id)?).await?;
    Ok(Json(list.iter().map(RefundView::from).collect()))
}
