//! A merchant's own books and staff through the API: its redemptions by
//! business day and till, its settlement lines, its cashiers, and a
//! cashier's password reset (the same reads the shop's pages use).

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{TillId, UserId};
use quan_store::Settlement;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::merchants::{CreatedCashier, merchant_id};
use super::redemptions::{RedemptionView, uuid_path};
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::views::UserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(merchant_redemptions))
        .routes(routes!(merchant_settlements))
        .routes(routes!(cashiers))
        .routes(routes!(reset_cashier_password))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BooksQuery {
    /// First business day (Beijing time), `YYYY-MM-DD`.
    from: NaiveDate,
    /// Last business day, included; at most 93 days after `from`.
    to: NaiveDate,
    /// Only this till's redemptions.
    till_id: Option<Uuid>,
    /// 1–500, default 500.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

fn limit(raw: Option<u32>) -> Result<u32, ApiError> {
    match raw {
        None => Ok(500),
        Some(n @ 1..=500) => Ok(n),
        Some(n) => {
            Err(ApiError::bad_request("limit_out_of_range", format!("limit must be 1 to 500, not {n}"))
                .on_field("limit"))
        }
    }
}

/// The merchant's redemptions of business days `from` to `to`, newest
/// first. Roles: merchant_owner (own merchant), staff of its region.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/redemptions", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path), BooksQuery),
    responses((status = 200, body = Vec<RedemptionView>), (status = 422, description = "`days_reversed`, `days_too_many`", body = ErrorBody)))]
async fn merchant_redemptions(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<BooksQuery>,
) -> ApiResult<Json<Vec<RedemptionView>>> {
    let n = limit(q.limit)?;
    let till = q.till_id.map(TillId::from_uuid);
    let list = state.engine.merchant_redemptions(&auth.0, merchant_id(&id)?, (q.from, q.to), till, n).await?;
    Ok(Json(list.iter().map(RedemptionView::from).collect()))
}

/// One settlement line: what the bank was told to pay the merchant for a
/// business day, or why it is held.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettlementLineView {
    pub id: Uuid,
    pub business_day: NaiveDate,
    pub campaign_id: Uuid,
    pub amount_fen: i64,
    /// `paid`, `held`, `recovered`, `confirmed` or `mismatch`.
    pub status: String,
    pub hold_reason: String,
    pub confirmed_fen: Option<i64>,
    pub recovered_fen: i64,
    pub released_fen: i64,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<&Settlement> for SettlementLineView {
    fn from(s: &Settlement) -> Self {
        SettlementLineView {
            id: s.id,
            business_day: s.business_day,
            campaign_id: s.campaign_id.as_uuid(),
            amount_fen: s.amount.as_i64(),
            status: s.status.clone(),
            hold_reason: s.hold_reason.clone(),
            confirmed_fen: s.confirmed.map(|f| f.as_i64()),
            recovered_fen: s.recovered.as_i64(),
            released_fen: s.released.as_i64(),
            created_at: s.created_at,
            confirmed_at: s.confirmed_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LimitQuery {
    /// 1–500, default 500.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The merchant's settlement lines, newest business day first. Roles:
/// merchant_owner (own merchant), staff of its region.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/settlements", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path), LimitQuery), responses((status = 200, body = Vec<SettlementLineView>)))]
async fn merchant_settlements(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<Vec<SettlementLineView>>> {
    let list = state.engine.merchant_settlements(&auth.0, merchant_id(&id)?, limit(q.limit)?).await?;
    Ok(Json(list.iter().map(SettlementLineView::from).collect()))
}

/// The merchant's cashiers. Roles: merchant_owner (own merchant).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/cashiers", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Vec<UserView>)))]
async fn cashiers(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<UserView>>> {
    let list = state.engine.cashiers(&auth.0, merchant_id(&id)?).await?;
    Ok(Json(list.iter().map(UserView::from).collect()))
}

/// Gives a cashier a new generated password, returned once; their
/// sessions end. Roles: merchant_owner (own merchant).
#[utoipa::path(post, path = "/api/v1/merchants/{id}/cashiers/{user_id}/password", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = CreatedCashier)))]
async fn reset_cashier_password(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Json<CreatedCashier>> {
    let user = UserId::from_uuid(uuid_path(&user)?);
    let (u, password) = state.engine.reset_cashier_password(&auth.0, merchant_id(&id)?, user).await?;
    Ok(Json(CreatedCashier { user: (&u).into(), generated_password: Some(password) }))
}
