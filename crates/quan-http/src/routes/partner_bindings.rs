//! Residents bound to partners: a resident lists the partners, makes a
//! one-time code for one (and lists and ends bindings); the partner's app
//! redeems the code for a pairwise `resident_openid` and quotes over the
//! resident's vouchers. No phone number, ID number or position goes to a partner.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use quan_domain::partner::Scope;
use quan_engine::partners::VoucherBy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::partner::{LineBody, QuoteDoc, input, post};
use super::redemptions::uuid_path;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bindable_partners))
        .routes(routes!(new_binding_code, my_bindings))
        .routes(routes!(unbind))
        .routes(routes!(redeem_binding_code))
        .routes(routes!(resident_quotes))
}

/// A partner a resident may bind.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerItem {
    id: Uuid,
    name: String,
    /// `bank`, `payment`, `city_app` or `mini_program`.
    kind: String,
}

/// The active partners a resident may bind, by name. Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/partners", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = Vec<PartnerItem>), (status = 403, body = ErrorBody)))]
async fn bindable_partners(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<PartnerItem>>> {
    let list = state.engine.bindable_partners(&auth.0).await?;
    Ok(Json(list.into_iter().map(|(id, name, kind)| PartnerItem { id, name, kind: kind.into() }).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCodeBody {
    partner_id: Uuid,
}

/// A one-time code the resident gives the partner's app.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeDoc {
    /// Eight digits, used once, within ten minutes, by this partner only.
    code: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// Makes a one-time code binding the resident to a partner (授权): the partner's app redeems
/// it for the resident's pairwise id. Roles: resident.
#[utoipa::path(post, path = "/api/v1/me/partner-bindings", tag = "partners", security(("bearer" = [])), request_body = NewCodeBody,
    responses((status = 201, body = CodeDoc), (status = 403, body = ErrorBody), (status = 404, description = "`partner_not_found`", body = ErrorBody)))]
async fn new_binding_code(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewCodeBody>,
) -> ApiResult<(StatusCode, Json<CodeDoc>)> {
    let c = state.engine.new_binding_code(&auth.0, b.partner_id).await?;
    Ok((StatusCode::CREATED, Json(CodeDoc { code: c.code, expires_at: c.expires_at })))
}

/// A partner the resident is bound to.
#[derive(Debug, Serialize, ToSchema)]
pub struct BindingDoc {
    partner_id: Uuid,
    partner_name: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// The partners the resident is bound to. Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/partner-bindings", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = Vec<BindingDoc>), (status = 403, body = ErrorBody)))]
async fn my_bindings(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<BindingDoc>>> {
    let list = state.engine.my_bindings(&auth.0).await?;
    Ok(Json(
        list.into_iter()
            .map(|b| BindingDoc { partner_id: b.partner_id, partner_name: b.partner_name, created_at: b.created_at })
            .collect(),
    ))
}

/// Ends a binding: the partner no longer finds the resident by their id. Roles: resident.
#[utoipa::path(delete, path = "/api/v1/me/partner-bindings/{partner_id}", tag = "partners", security(("bearer" = [])),
    params(("partner_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unbind(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.engine.unbind(&auth.0, uuid_path(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RedeemBody {
    /// The code the resident gave.
    #[schema(pattern = "^[0-9]{8}$")]
    binding_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoundDoc {
    /// The resident's id for this partner only (`ro_…`); another partner gets another.
    resident_openid: String,
}

/// Redeems a resident's one-time code for their pairwise id. Scope: checkout.
/// Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/bindings", tag = "partner", request_body = RedeemBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = BoundDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "`binding_code_invalid`", body = ErrorBody)))]
async fn redeem_binding_code(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: RedeemBody| async move {
        let resident_openid = p.engine.bind_with_code(&p, &b.binding_code).await?;
        Ok((StatusCode::OK, Json(BoundDoc { resident_openid })))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidentQuoteBody {
    #[schema(min_length = 1, max_length = 64)]
    resident_openid: String,
    merchant_id: Uuid,
    #[serde(default)]
    till_id: Option<Uuid>,
    #[schema(minimum = 1)]
    amount_fen: i64,
    #[serde(default)]
    items: Vec<LineBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentQuotesDoc {
    /// The resident's vouchers usable on this order, the best discount first (may be empty).
    vouchers: Vec<QuoteDoc>,
}

/// What each of a bound resident's usable vouchers takes off an order, the best first; locks
/// nothing. Lock one with `resident_openid` and `voucher_id`. Scope: checkout.
/// Roles: partner (signed request).
#[utoipa::path(post, path = "/partner/v1/checkout/resident-quotes", tag = "partner", request_body = ResidentQuoteBody,
    params(("Authorization" = String, Header, description = "`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`")),
    responses((status = 200, body = ResidentQuotesDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`resident_not_bound`", body = ErrorBody)))]
async fn resident_quotes(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    post(&state, (&method, &uri, &headers), &body, Scope::Checkout, |p, b: ResidentQuoteBody| async move {
        let by = VoucherBy::Code(String::new());
        let list = p
            .engine
            .partner_quote_bound(&p, &b.resident_openid, input(by, b.merchant_id, b.till_id, b.amount_fen, b.items))
            .await?;
        Ok((StatusCode::OK, Json(ResidentQuotesDoc { vouchers: list.into_iter().map(Into::into).collect() })))
    })
    .await
}
