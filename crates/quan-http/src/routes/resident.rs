//! Reads for residents: the batches open or coming in their city, a
//! batch's public details, where a voucher can be used near them, and their
//! redemptions. (Their vouchers, identity and eligibility are in `claims`
//! and `eligibility`.)

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use quan_engine::resident_reads::PublicBatch;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::routes::districts::PositionQuery;
use crate::routes::redemptions::RedemptionView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_batches))
        .routes(routes!(my_batch))
        .routes(routes!(merchants_for_voucher))
        .routes(routes!(my_redemptions))
}

/// One kind of voucher of a batch, as residents see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicKindView {
    pub code: String,
    pub name: String,
    /// The discount (满减, 立减, 折扣), as the campaign file writes it.
    #[schema(value_type = Object)]
    pub discount: serde_json::Value,
    /// Where it can be used: industries, districts, merchants, categories.
    #[schema(value_type = Object)]
    pub scope: serde_json::Value,
    #[schema(value_type = Object)]
    pub validity: serde_json::Value,
    pub face_fen: i64,
    pub stock: u32,
    pub stock_left: i64,
}

/// A batch as residents see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicBatchView {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub region: String,
    pub name: String,
    /// `grab` (first come) or `lottery`.
    pub mode: String,
    pub opening_at: DateTime<Utc>,
    pub closing_at: DateTime<Utc>,
    /// The server's clock, for a countdown that does not trust the phone's.
    pub server_time: DateTime<Utc>,
    /// Who may claim: GPS districts, household prefixes, lists, ages.
    #[schema(value_type = Object)]
    pub eligibility: serde_json::Value,
    /// How many a resident may claim: per batch, per day, per kind.
    #[schema(value_type = Object)]
    pub limits: serde_json::Value,
    pub kinds: Vec<PublicKindView>,
}

fn public_view(p: &PublicBatch, now: DateTime<Utc>) -> PublicBatchView {
    let b = &p.batch;
    let json = |v: &dyn erased::Ser| v.to_json();
    PublicBatchView {
        id: b.id.as_uuid(),
        campaign_id: p.campaign.id.as_uuid(),
        campaign_name: p.campaign.spec.name.clone(),
        region: p.campaign.spec.region.to_string(),
        name: b.spec.name.clone(),
        mode: if matches!(b.spec.mode, quan_domain::batch::BatchMode::Lottery { .. }) { "lottery" } else { "grab" }
            .into(),
        opening_at: b.spec.opening_at,
        closing_at: b.spec.closing_at,
        server_time: now,
        eligibility: json(&b.spec.eligibility),
        limits: json(&b.spec.limits),
        kinds: b
            .spec
            .kinds
            .iter()
            .map(|k| PublicKindView {
                code: k.kind.code.clone(),
                name: k.kind.name.clone(),
                discount: json(&k.kind.discount),
                scope: json(&k.kind.scope),
                validity: json(&k.kind.validity),
                face_fen: k.kind.face_value().as_i64(),
                stock: k.stock,
                stock_left: p.stock_left.iter().find(|(c, _)| *c == k.kind.code).map_or(0, |(_, n)| *n),
            })
            .collect(),
    }
}

/// serde values as JSON, without naming each type.
mod erased {
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}

/// The batches open or coming in the resident's city (by the position
/// given, else their household registration; all cities when neither is
/// known), soonest first, with the stock left. Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/batches", tag = "residents", security(("bearer" = [])), params(PositionQuery),
    responses((status = 200, body = Vec<PublicBatchView>)))]
async fn my_batches(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<PositionQuery>,
) -> ApiResult<Json<Vec<PublicBatchView>>> {
    let near = q.position()?;
    let list = state.engine.resident_batches(&auth.0, near.as_ref()).await?;
    let now = state.engine.now();
    Ok(Json(list.iter().map(|p| public_view(p, now)).collect()))
}

/// One batch's public details. Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/batches/{id}", tag = "residents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = PublicBatchView)))]
async fn my_batch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PublicBatchView>> {
    let id: quan_domain::BatchId = id.parse().map_err(|_| ApiError::not_found())?;
    let p = state.engine.resident_batch(&auth.0, id).await?;
    Ok(Json(public_view(&p, state.engine.now())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NearQuery {
    lat: Option<f64>,
    lng: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[param(pattern = "^(wgs84|gcj02|bd09|WGS84|GCJ02|BD09)$")]
    crs: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// A participating shop, as residents see it (no contact or account data).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NearbyMerchantView {
    pub id: Uuid,
    pub name: String,
    pub industry: String,
    pub address: String,
    pub district: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Metres from the position given, when both are known.
    pub distance_m: Option<f64>,
}

/// Where one of the caller's vouchers can be used: approved shops inside
/// its campaign's region and its scope, nearest first when a position is
/// given. Roles: resident (their own vouchers).
#[utoipa::path(get, path = "/api/v1/me/vouchers/{id}/merchants", tag = "residents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), NearQuery), responses((status = 200, body = Vec<NearbyMerchantView>)))]
async fn merchants_for_voucher(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<NearQuery>,
) -> ApiResult<Json<Vec<NearbyMerchantView>>> {
    let voucher: Uuid = id.parse().map_err(|_| ApiError::not_found())?;
    let limit = match q.limit {
        None => 20,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(ApiError::bad_request("limit_out_of_range", format!("limit must be 1 to 100, not {n}"))
                .on_field("limit"));
        }
    };
    let near = crate::routes::claims::position(q.lat, q.lng, q.crs.as_deref(), None)?;
    let found = state.engine.merchants_for_voucher(&auth.0, voucher, near.as_ref(), limit).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(m, d)| NearbyMerchantView {
                id: m.id.as_uuid(),
                name: m.app.legal_name.clone(),
                industry: m.app.industry.as_str().to_owned(),
                address: m.app.address.clone(),
                district: m.app.district.to_string(),
                lat: m.app.location.map(|l| l.lat),
                lng: m.app.location.map(|l| l.lng),
                distance_m: d,
            })
            .collect(),
    ))
}

/// The caller's redemptions, newest first (at most 500). Roles: resident.
#[utoipa::path(get, path = "/api/v1/me/redemptions", tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = Vec<RedemptionView>)))]
async fn my_redemptions(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<RedemptionView>>> {
    let list = state.engine.my_redemptions(&auth.0, quan_engine::LIST_LEN_MAX).await?;
    Ok(Json(list.iter().map(RedemptionView::from).collect()))
}
