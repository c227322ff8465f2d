//! The partner API (`/partner/v1`): banks, payment institutions and city
//! apps apply residents' vouchers at their payments (支付立减). Every request
//! is signed (`Authorization: QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …` over
//! method, path, timestamp, nonce and body); every answer is signed with the
//! deployment's SM2 key (`Quan-Timestamp`, `Quan-Nonce`, `Quan-Serial`,
//! `Quan-Signature`). `docs/PARTNERS.md` is the guide.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quan_domain::partner::Scope;
use quan_domain::{Fen, MerchantId, TillId};
use quan_engine::partners::{Authed, CheckoutInput, OrderView, QuoteView, VoucherBy};
use quan_engine::redemptions::OrderLine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::parse_json;
use crate::idempotency::idempotent;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkout_quote))
        .routes(routes!(checkout_lock))
        .routes(routes!(checkout_confirm))
        .routes(routes!(checkout_reverse))
        .routes(routes!(checkout_lookup))
        .routes(routes!(platform_certificate))
        .routes(routes!(set_endpoint))
        .routes(routes!(fire_test_event))
        .routes(routes!(webhook_events))
        .routes(routes!(partner_bill))
}

/// Signs every answer under `/partner/v1/` (errors too, unknown paths
/// included) with the platform key.
pub(crate) async fn sign_answers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let partner = req.uri().path().starts_with("/partner/v1/");
    let resp = next.run(req).await;
    if !partner {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the answer could not be read")
            .into_response();
    };
    let s = state.engine.sign_partner_response(&bytes);
    for (name, value) in [
        ("quan-timestamp", s.timestamp.to_string()),
        ("quan-nonce", s.nonce),
        ("quan-serial", s.serial),
        ("quan-signature", s.signature),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            parts.headers.insert(name, v);
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A partner whose signed request was checked, and the engine that answers
/// it: the sandbox's for a test partner, the live one otherwise.
pub(crate) struct Caller {
    pub(crate) engine: quan_engine::Engine,
    pub(crate) partner: Arc<Authed>,
}

impl std::ops::Deref for Caller {
    type Target = Authed;
    fn deref(&self) -> &Authed {
        &self.partner
    }
}

/// Checks the request's signature for `scope`; the partner it comes from.
pub(crate) async fn signed(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    scope: Scope,
) -> ApiResult<Caller> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let partner = state.engine.authenticate_partner(auth, method.as_str(), path, body, scope).await?;
    let engine = state.engine.for_partner(&partner).await?;
    Ok(Caller { engine, partner })
}

/// One line of the order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LineBody {
    #[schema(min_length = 1, max_length = 64)]
    sku: String,
    #[schema(minimum = 1)]
    quantity: u32,
    #[schema(minimum = 0)]
    unit_price_fen: i64,
}

/// The order and the voucher the resident showed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct QuoteBody {
    /// The resident's dynamic voucher code (the QR code's text), scanned at the checkout.
    #[schema(min_length = 1, max_length = 200)]
    voucher_code: String,
    merchant_id: Uuid,
    /// The till, when the payment is at one.
    #[serde(default)]
    till_id: Option<Uuid>,
    /// The order's amount in fen.
    #[schema(minimum = 1)]
    amount_fen: i64,
    /// The order's lines (needed when the voucher is limited to categories).
    #[serde(default)]
    items: Vec<LineBody>,
}

/// A lock: the order and the partner's order number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LockBody {
    /// The partner's own payment order number: 1–32 of `A–Z a–z 0–9 _ - | *`, unique per partner.
    #[schema(pattern = "^[A-Za-z0-9_|*-]{1,32}$")]
    out_trade_no: String,
    /// The code the resident showed — or `resident_openid` and `voucher_id` of a bound resident.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    voucher_code: Option<String>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    resident_openid: Option<String>,
    #[serde(default)]
    voucher_id: Option<Uuid>,
    merchant_id: Uuid,
    #[serde(default)]
    till_id: Option<Uuid>,
    #[schema(minimum = 1)]
    amount_fen: i64,
    #[serde(default)]
    items: Vec<LineBody>,
    /// How long the voucher is held: 10 to 600 seconds, 120 by default.
    #[serde(default)]
    #[schema(minimum = 10, maximum = 600)]
    lock_seconds: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    /// The channel's own transaction id: 1–64 of `A–Z a–z 0–9 _ - | *`.
    #[schema(pattern = "^[A-Za-z0-9_|*-]{1,64}$")]
    transaction_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReverseBody {}

/// What the voucher takes off the order.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteDoc {
    voucher_id: Uuid,
    kind_name: String,
    face_fen: i64,
    amount_fen: i64,
    discount_fen: i64,
    /// What the resident pays.
    payable_fen: i64,
}

/// A partner's order as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDoc {
    out_trade_no: String,
    /// `locked`, `expired` (the lock ended unconfirmed: the voucher is free again), `confirmed`, `reversed`.
    #[schema(pattern = "^(locked|expired|confirmed|reversed)$")]
    status: String,
    voucher_id: Uuid,
    merchant_id: Uuid,
    till_id: Option<Uuid>,
    amount_fen: i64,
    discount_fen: i64,
    payable_fen: i64,
    locked_until: chrono::DateTime<chrono::Utc>,
    transaction_id: Option<String>,
    redemption_id: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
    done_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<OrderView> for OrderDoc {
    fn from(o: OrderView) -> OrderDoc {
        OrderDoc {
            out_trade_no: o.out_trade_no,
            status: o.status.into(),
            voucher_id: o.voucher_id,
            merchant_id: o.merchant_id.as_uuid(),
            till_id: o.till_id.map(|t| t.as_uuid()),
            amount_fen: o.amount_fen,
            discount_fen: o.discount_fen,
            payable_fen: o.payable_fen,
            locked_until: o.locked_until,
            transaction_id: o.transaction_id,
            redemption_id: o.redemption_id,
            created_at: o.created_at,
            done_at: o.done_at,
        }
    }
}

impl From<QuoteView> for QuoteDoc {
    fn from(q: QuoteView) -> QuoteDoc {
        QuoteDoc {
            voucher_id: q.voucher_id,
            kind_name: q.kind_name,
            face_fen: q.face_fen,
            amount_fen: q.amount_fen,
            discount_fen: q.discount_fen,
            payable_fen: q.payable_fen,
        }
    }
}

pub(crate) fn input(
    voucher: VoucherBy,
    merchant: Uuid,
    till: Option<Uuid>,
    amount: i64,
    items: Vec<LineBody>,
) -> CheckoutInput {
    CheckoutInput {
        voucher,
        merchant_id: MerchantId::from_uuid(merchant),
        till_id: till.map(TillId::from_uuid),
        amount: Fen::new(amount),
        items: items
            .into_iter()
            .map(|l| OrderLine { sku: l.sku, quantity: l.quantity, unit_price: Fen::new(l.unit_price_fen) })
            .collect(),
    }
}

/// Signs and parses a POST, runs `work` once per `Idempotency-Key`.
pub(crate) async fn post<B, F, Fut, T>(
    state: &AppState,
    (method, uri, headers): (&Method, &Uri, &HeaderMap),
    body: &Bytes,
    scope: Scope,
    work: F,
) -> ApiResult<Response>
where
    B: serde::de::DeserializeOwned,
    F: FnOnce(Caller, B) -> Fut,
    Fut: std::future::Future<Output = ApiResult<(StatusCode, Json<T>)>>,
    T: Serialize,
{
    let caller = signed(state, method, uri, headers, body, scope).await?;
    let b: B = parse_json(body)?;
    let key_scope = format!("partner:{}", caller.partner.partner.id);
    // A test partner's answers are kept in the sandbox too.
    let keeper = AppState { engine: caller.engine.clone(), ..state.clone() };
    idempotent(&keeper, &key_scope, uri.path(), headers, body, || work(caller, b)).await
}

/// What the resident's voucher takes off an order; locks nothing. Scope: checkout.
/// Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/checkout/quotes", tag = "partner", request_body = QuoteBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = QuoteDoc), (status = 401, description = "`authorization_malformed`, `timestamp_skew`, `signature_invalid`, `nonce_reused`", body = ErrorBody),
        (status = 403, description = "`partner_suspended`, `scope_missing`, `merchant_suspended`", body = ErrorBody),
        (status = 409, description = "`already_redeemed`, `voucher_locked`, `voucher_frozen`, `code_expired`", body = ErrorBody),
        (status = 422, description = "the rule the order breaks", body = ErrorBody)))]
async fn checkout_quote(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: QuoteBody| async move {
        let q = p
            .engine
            .partner_quote(&p, input(VoucherBy::Code(b.voucher_code), b.merchant_id, b.till_id, b.amount_fen, b.items))
            .await?;
        Ok((StatusCode::OK, Json(QuoteDoc::from(q))))
    })
    .await
}

/// Locks the voucher for the partner's order `out_trade_no` (120 s unless asked): no till
/// or other order takes it meanwhile; the lock ends by itself. The same request again answers
/// the same order; the same number for another voucher, merchant or amount is
/// `out_trade_no_reused`. Scope: checkout. Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/checkout/orders", tag = "partner", request_body = LockBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = OrderDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`out_trade_no_reused`, `already_redeemed`, `voucher_locked`, `voucher_frozen`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn checkout_lock(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: LockBody| async move {
        let voucher = match (b.voucher_code, b.resident_openid, b.voucher_id) {
            (Some(code), None, None) => VoucherBy::Code(code),
            (None, Some(resident_openid), Some(voucher_id)) => VoucherBy::Bound { resident_openid, voucher_id },
            _ => {
                return Err(ApiError::invalid_field(
                    "voucher_code",
                    "either voucher_code, or resident_openid and voucher_id",
                ));
            }
        };
        let i = input(voucher, b.merchant_id, b.till_id, b.amount_fen, b.items);
        let o = p.engine.partner_lock(&p, &b.out_trade_no, i, b.lock_seconds).await?;
        Ok((StatusCode::OK, Json(OrderDoc::from(o))))
    })
    .await
}

/// Confirms the order with the channel's transaction id: the voucher is redeemed, with the
/// same ledger postings as at a till. After the lock ended it still succeeds while the voucher
/// is free (`lock_lost` otherwise). The same confirm again answers the same; after a reverse,
/// `order_reversed`. Scope: checkout. Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/checkout/orders/{out_trade_no}/confirm", tag = "partner", request_body = ConfirmBody,
    params(("out_trade_no" = String, Path), ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = OrderDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "`order_not_found`", body = ErrorBody),
        (status = 409, description = "`order_confirmed`, `order_reversed`, `lock_lost`, `quote_changed`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn checkout_confirm(
    State(state): State<AppState>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: ConfirmBody| async move {
        let o = p.engine.partner_confirm(&p, &no, &b.transaction_id).await?;
        Ok((StatusCode::OK, Json(OrderDoc::from(o))))
    })
    .await
}

/// Reverses the order (冲正): a lock is lifted; a confirmed payment is refunded in full (the
/// voucher back to the resident while valid). Reversing again answers the same.
/// Scope: checkout. Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/checkout/orders/{out_trade_no}/reverse", tag = "partner", request_body = ReverseBody,
    params(("out_trade_no" = String, Path), ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = OrderDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn checkout_reverse(
    State(state): State<AppState>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, _: ReverseBody| async move {
        let o = p.engine.partner_reverse(&p, &no).await?;
        Ok((StatusCode::OK, Json(OrderDoc::from(o))))
    })
    .await
}

/// The order by its number, as it stands now (after a lost answer). Scope: checkout.
/// Roles: partner (signed request; the body signed is empty).
#[utoipa::path(get, path = "/partner/v1/checkout/orders/{out_trade_no}", tag = "partner",
    params(("out_trade_no" = String, Path), ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = OrderDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn checkout_lookup(
    State(state): State<AppState>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<OrderDoc>> {
    let p = signed(&state, &method, &uri, &headers, b"", Scope::Checkout).await?;
    Ok(Json(p.engine.partner_lookup(&p, &no).await?.into()))
}

/// The platform's public key, which signs every answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateDoc {
    /// `Quan-Serial` of the answers it signs.
    serial_no: String,
    /// SM2 public key, SEC1 uncompressed (`04‖x‖y`), hex.
    public_key: String,
    /// `SM2-with-SM3`, signer ID `1234567812345678`, over `TIMESTAMP\nNONCE\nBODY\n`.
    algorithm: String,
}

/// The platform key that signs every answer (compare it with the one the deployment gave you
/// out of band: `quan partner platform-key`). No signature needed. Roles: anyone.
#[utoipa::path(get, path = "/partner/v1/platform-certificate", tag = "partner", responses((status = 200, body = CertificateDoc)))]
async fn platform_certificate(State(state): State<AppState>) -> Json<CertificateDoc> {
    let (serial_no, public_key) = state.engine.platform_certificate();
    Json(CertificateDoc { serial_no, public_key, algorithm: "SM2-with-SM3".into() })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EndpointBody {
    /// Where events are posted: `https://…` (or `http://…`), a public address.
    #[schema(min_length = 1, max_length = 500)]
    url: String,
}

/// The endpoint set, with its signing secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointDoc {
    url: String,
    /// `whsec_…`: verify `webhook-signature` with any Standard Webhooks library.
    secret: String,
}

/// Sets (or replaces) the partner's webhook endpoint; a replaced or disabled endpoint is active
/// again with a new secret. Events are posted with Standard Webhooks headers (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`) and quan's SM2 signature (`quan-serial`,
/// `quan-signature` over `id.timestamp.body`). Scope: checkout. Roles: partner (signed request).
#[utoipa::path(put, path = "/partner/v1/webhook-endpoint", tag = "partner", request_body = EndpointBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = EndpointDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "`url_invalid`, `url_private`", body = ErrorBody)))]
async fn set_endpoint(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: EndpointBody| async move {
        let set = p.engine.set_webhook_endpoint(&p, &b.url).await?;
        Ok((StatusCode::OK, Json(EndpointDoc { url: set.url, secret: set.secret })))
    })
    .await
}

/// An event just written.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiredDoc {
    pub(crate) event_id: Uuid,
}

/// Writes a `webhook.test` event, delivered like any other. Scope: checkout.
/// Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/webhooks/test", tag = "partner", request_body = ReverseBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 202, body = FiredDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn fire_test_event(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, _: ReverseBody| async move {
        Ok((StatusCode::ACCEPTED, Json(FiredDoc { event_id: p.engine.fire_test_event(&p).await? })))
    })
    .await
}

/// An event and how its delivery went.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDoc {
    id: Uuid,
    /// `redemption.confirmed`, `redemption.reversed`, `webhook.test`.
    r#type: String,
    /// `pending`, `delivered` or `dead` (given up: the endpoint was disabled).
    status: String,
    attempts: u32,
    last_status: Option<u16>,
    last_error: String,
    created_at: chrono::DateTime<chrono::Utc>,
    next_attempt_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

/// The partner's events, oldest first, with how their delivery went. Scope: checkout.
/// Roles: partner (signed request; the body signed is empty).
#[utoipa::path(get, path = "/partner/v1/webhooks/events", tag = "partner",
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = Vec<EventDoc>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn webhook_events(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<EventDoc>>> {
    let p = signed(&state, &method, &uri, &headers, b"", Scope::Checkout).await?;
    let list = p.engine.partner_webhook_events(&p).await?;
    Ok(Json(
        list.into_iter()
            .map(|e| EventDoc {
                id: e.id,
                r#type: e.kind,
                status: e.status,
                attempts: e.attempts,
                last_status: e.last_status,
                last_error: e.last_error,
                created_at: e.created_at,
                next_attempt_at: e.next_attempt_at,
                payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}

/// The partner's bill of a business day (UTC+8): its orders confirmed that day and not
/// reversed, as CSV with a byte-order mark — `order_id,amount,discount,time` (yuan, RFC 3339
/// in Beijing time; the columns `quan settle reconcile` reads, `order_id` being the order
/// reference quan keeps) and `out_trade_no,transaction_id,redemption_id`. Scope: bill.
/// Roles: partner (signed request; the body signed is empty).
#[utoipa::path(get, path = "/partner/v1/bills/{date}", tag = "partner",
    params(("date" = String, Path, description = "the business day, `2026-12-05`"),
        ("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "not a date", body = ErrorBody)))]
async fn partner_bill(
    State(state): State<AppState>,
    Path(date): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = signed(&state, &method, &uri, &headers, b"", Scope::Bill).await?;
    let day = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| ApiError::not_found())?;
    let csv = p.engine.partner_bill(&p, day).await?;
    let name = format!("attachment; filename=\"bill-{day}.csv\"");
    let mut r = (StatusCode::OK, csv).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
