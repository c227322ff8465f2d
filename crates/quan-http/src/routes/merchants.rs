//! Merchants: applications (public), review (operators), tills, cashiers
//! and the product catalogue (owners).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use quan_domain::merchant::{MerchantApplication, MerchantStatus, ReviewAction};
use quan_domain::{MerchantId, TillId};
use quan_engine::merchants::{OwnerAccount, ProductSpec};
use quan_store::{Merchant, MerchantReview, PriceChange, Product, Till};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth, ClientAddr};
use crate::views::UserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply))
        .routes(routes!(list_merchants))
        .routes(routes!(get_merchant))
        .routes(routes!(review_merchant))
        .routes(routes!(reviews))
        .routes(routes!(create_till, list_tills))
        .routes(routes!(create_cashier))
        .routes(routes!(upsert_product))
        .routes(routes!(list_products))
        .routes(routes!(price_history))
}

/// A merchant. The contact phone and account number are masked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MerchantView {
    pub id: Uuid,
    pub legal_name: String,
    pub credit_code: String,
    pub industry: String,
    pub scale: String,
    pub address: String,
    pub district: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub contact_name: String,
    pub contact_phone_masked: String,
    pub bank_name: String,
    pub account_name: String,
    pub account_number_masked: String,
    /// `pending`, `approved`, `rejected` or `suspended`.
    pub status: String,
    pub status_reason: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Merchant> for MerchantView {
    fn from(m: &Merchant) -> Self {
        let a = &m.app;
        MerchantView {
            id: m.id.as_uuid(),
            legal_name: a.legal_name.clone(),
            credit_code: a.credit_code.to_string(),
            industry: a.industry.as_str().into(),
            scale: a.scale.as_str().into(),
            address: a.address.clone(),
            district: a.district.to_string(),
            lat: a.location.map(|l| l.lat),
            lng: a.location.map(|l| l.lng),
            contact_name: a.contact_name.clone(),
            contact_phone_masked: a.contact_phone.masked(),
            bank_name: a.settlement_account.bank_name.clone(),
            account_name: a.settlement_account.account_name.clone(),
            account_number_masked: a.settlement_account.masked_number(),
            status: m.status.as_str().into(),
            status_reason: m.status_reason.clone(),
            source: m.source.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    #[schema(value_type = crate::routes::merchant_docs::MerchantApplicationDoc)]
    pub application: MerchantApplication,
    /// The owner's login.
    #[schema(value_type = crate::routes::merchant_docs::OwnerAccountDoc)]
    pub owner: OwnerAccount,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApplicationAccepted {
    pub merchant: MerchantView,
    pub owner: UserView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[schema(value_type = crate::routes::merchant_docs::ReviewActionDoc)]
    pub action: ReviewAction,
    /// Required for reject and suspend.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub action: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub actor: Uuid,
    pub at: DateTime<Utc>,
}

impl From<&MerchantReview> for ReviewView {
    fn from(r: &MerchantReview) -> Self {
        ReviewView {
            id: r.id,
            action: serde_json::to_value(r.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            from: r.from.as_str().into(),
            to: r.to.as_str().into(),
            reason: r.reason.clone(),
            actor: r.actor.as_uuid(),
            at: r.at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MerchantList {
    pub merchants: Vec<MerchantView>,
    pub next_after: Option<Uuid>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TillRequest {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TillView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Till> for TillView {
    fn from(t: &Till) -> Self {
        TillView { id: t.id.as_uuid(), code: t.code.clone(), name: t.name.clone(), created_at: t.created_at }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashierRequest {
    pub username: String,
    pub display_name: String,
    pub till_id: Uuid,
    /// Omit to have one generated (returned once).
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedCashier {
    pub user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    pub sku: String,
    pub brand: String,
    pub model: String,
    pub category: String,
    pub energy_class: String,
    pub list_price_fen: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            sku: p.sku.clone(),
            brand: p.brand.clone(),
            model: p.model.clone(),
            category: p.category.clone(),
            energy_class: p.energy_class.clone(),
            list_price_fen: p.list_price.as_i64(),
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PriceView {
    pub price_fen: i64,
    pub at: DateTime<Utc>,
    pub actor: Uuid,
}

impl From<&PriceChange> for PriceView {
    fn from(p: &PriceChange) -> Self {
        PriceView { price_fen: p.price.as_i64(), at: p.at, actor: p.actor.as_uuid() }
    }
}

pub(crate) fn merchant_id(raw: &str) -> Result<MerchantId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// A merchant applies to join, with its owner's login. The merchant waits
/// for review as `pending`; the owner can log in at once. The credit code's
/// check character is verified (`credit_code_check_digit`). Roles: none (public).
#[utoipa::path(post, path = "/api/v1/merchant-applications", tag = "merchants", request_body = ApplicationRequest, responses(
    (status = 201, body = ApplicationAccepted),
    (status = 409, description = "`credit_code_taken`, `username_taken`", body = ErrorBody),
    (status = 422, description = "the rule broken, with `details.field`", body = ErrorBody),
    (status = 429, description = "`too_many_requests`: at most 20 applications an hour from one client", body = ErrorBody),
))]
async fn apply(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(r): ApiJson<ApplicationRequest>,
) -> ApiResult<(StatusCode, Json<ApplicationAccepted>)> {
    let (m, owner) = state.engine.apply_merchant(&r.application, &r.owner, &client.0).await?;
    Ok((StatusCode::CREATED, Json(ApplicationAccepted { merchant: (&m).into(), owner: (&owner).into() })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `pending`, `approved`, `rejected` or `suspended`.
    #[param(pattern = "^(pending|approved|rejected|suspended)$")]
    status: Option<String>,
    after: Option<Uuid>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Only merchants whose legal name, address or contact name contains
    /// this (any case), or whose credit code it is.
    #[param(max_length = 64)]
    q: Option<String>,
    /// Only this district (six digits).
    #[param(pattern = "^[0-9]{6}$")]
    district: Option<String>,
    /// Only this industry (e.g. `catering`).
    industry: Option<String>,
    /// Only this scale: `large`, `medium`, `small` or `micro`.
    #[param(pattern = "^(large|medium|small|micro)$")]
    scale: Option<String>,
}

/// Merchants inside the caller's region. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/merchants", tag = "merchants", security(("bearer" = [])), params(ListQuery), responses((status = 200, body = MerchantList)))]
async fn list_merchants(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<MerchantList>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            MerchantStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_field("status", "pending, approved, rejected or suspended"))?,
        ),
    };
    let limit = crate::views::page_limit(q.limit)?;
    let district = match q.district.as_deref() {
        None => None,
        Some(d) => Some(
            quan_domain::DistrictCode::parse(d)
                .map_err(|_| ApiError::invalid_field("district", "six digits of a district"))?
                .to_string(),
        ),
    };
    let industry = match q.industry.as_deref() {
        None => None,
        Some(i) => Some(
            quan_domain::Industry::parse(i).ok_or_else(|| ApiError::invalid_field("industry", "a known industry"))?,
        ),
    };
    let scale = match q.scale.as_deref() {
        None => None,
        Some(x) => Some(
            quan_domain::merchant::Scale::parse(x)
                .ok_or_else(|| ApiError::invalid_field("scale", "large, medium, small or micro"))?,
        ),
    };
    let query = quan_store::MerchantQuery {
        search: crate::views::search(q.q.as_deref())?,
        district: district.as_deref(),
        industry,
        scale,
    };
    let list = state.engine.list_merchants(&auth.0, status, q.after.map(MerchantId::from_uuid), limit, &query).await?;
    let next_after = if list.len() == limit as usize { list.last().map(|m| m.id.as_uuid()) } else { None };
    Ok(Json(MerchantList { merchants: list.iter().map(MerchantView::from).collect(), next_after }))
}

/// One merchant. Roles: official, auditor, operator (in region); its owner and cashiers.
#[utoipa::path(get, path = "/api/v1/merchants/{id}", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MerchantView), (status = 404, body = ErrorBody)))]
async fn get_merchant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<MerchantView>> {
    let m = state.engine.get_merchant(&auth.0, merchant_id(&id)?).await?;
    Ok(Json((&m).into()))
}

/// Approve, reject (with a reason), suspend (with a reason; a suspended
/// merchant cannot redeem) or reinstate. Roles: operator; official may suspend.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/review", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = MerchantView), (status = 422, description = "`invalid_transition`, `required` (reason)", body = ErrorBody)))]
async fn review_merchant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ReviewRequest>,
) -> ApiResult<Json<MerchantView>> {
    let m = state.engine.review_merchant(&auth.0, merchant_id(&id)?, r.action, &r.reason).await?;
    Ok(Json((&m).into()))
}

/// Every review decision: who, when, from what to what, why.
/// Roles: official, auditor, operator; the merchant's owner.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/reviews", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<ReviewView>)))]
async fn reviews(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ReviewView>>> {
    let list = state.engine.merchant_reviews(&auth.0, merchant_id(&id)?).await?;
    Ok(Json(list.iter().map(ReviewView::from).collect()))
}

/// Adds a till with a fixed code. Roles: merchant_owner (own merchant).
#[utoipa::path(post, path = "/api/v1/merchants/{id}/tills", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = TillRequest, responses((status = 201, body = TillView), (status = 409, description = "`till_code_taken`", body = ErrorBody)))]
async fn create_till(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<TillRequest>,
) -> ApiResult<(StatusCode, Json<TillView>)> {
    let t = state.engine.create_till(&auth.0, merchant_id(&id)?, &r.code, &r.name).await?;
    Ok((StatusCode::CREATED, Json((&t).into())))
}

/// The merchant's tills. Roles: official, auditor, operator; its owner and cashiers.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/tills", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<TillView>)))]
async fn list_tills(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TillView>>> {
    let list = state.engine.tills(&auth.0, merchant_id(&id)?).await?;
    Ok(Json(list.iter().map(TillView::from).collect()))
}

/// Creates a cashier account bound to one till. Roles: merchant_owner (own merchant).
#[utoipa::path(post, path = "/api/v1/merchants/{id}/cashiers", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CashierRequest, responses((status = 201, body = CreatedCashier), (status = 409, description = "`username_taken`", body = ErrorBody)))]
async fn create_cashier(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CashierRequest>,
) -> ApiResult<(StatusCode, Json<CreatedCashier>)> {
    let (u, generated_password) = state
        .engine
        .create_cashier(
            &auth.0,
            merchant_id(&id)?,
            &r.username,
            &r.display_name,
            TillId::from_uuid(r.till_id),
            r.password,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedCashier { user: (&u).into(), generated_password })))
}

/// Adds or updates a catalogue item; a changed price is kept in its price
/// history. Roles: merchant_owner (own merchant).
#[utoipa::path(put, path = "/api/v1/merchants/{id}/products/{sku}", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path), ("sku" = String, Path)),
    request_body(content = crate::routes::campaign_docs::ProductSpecDoc, description = "brand, model, category, energy_class, list_price_fen"),
    responses((status = 200, body = ProductView)))]
async fn upsert_product(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sku)): Path<(String, String)>,
    ApiJson(spec): ApiJson<ProductSpec>,
) -> ApiResult<Json<ProductView>> {
    let p = state.engine.upsert_product(&auth.0, merchant_id(&id)?, &sku, &spec).await?;
    Ok(Json((&p).into()))
}

/// The merchant's catalogue. Roles: official, auditor, operator; its owner and cashiers.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/products", tag = "merchants", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<ProductView>)))]
async fn list_products(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ProductView>>> {
    let list = state.engine.products(&auth.0, merchant_id(&id)?).await?;
    Ok(Json(list.iter().map(ProductView::from).collect()))
}

/// Every list price an item had, oldest first: a price raised just before
/// a subsidy starts shows here. Roles: official, auditor, operator; its owner and cashiers.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/products/{sku}/prices", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path), ("sku" = String, Path)), responses((status = 200, body = Vec<PriceView>)))]
async fn price_history(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sku)): Path<(String, String)>,
) -> ApiResult<Json<Vec<PriceView>>> {
    let list = state.engine.price_history(&auth.0, merchant_id(&id)?, &sku).await?;
    Ok(Json(list.iter().map(PriceView::from).collect()))
}
