//! Redemptions held by the cash-out rules, through the API: operators list
//! the open holds of their region and release or recover each.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use quan_engine::risk::holds::HoldOutcome;
use quan_store::Redemption;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::redemptions::uuid_path;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(holds)).routes(routes!(release)).routes(routes!(recover))
}

/// A redemption held for a risk review.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HoldView {
    pub redemption_id: Uuid,
    pub campaign_id: Uuid,
    pub merchant_id: Uuid,
    /// The merchant's legal name (in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
    pub till_id: Option<Uuid>,
    pub order_fen: i64,
    pub subsidy_fen: i64,
    /// Held at the redemption, and still held (a refund lowers it).
    pub held_fen: i64,
    pub still_held_fen: i64,
    /// The cash-out rules met (codes) and their summed score.
    pub rules: Vec<String>,
    pub score: u32,
    /// `released` or `recovered` once decided.
    pub outcome: Option<String>,
    pub redeemed_at: DateTime<Utc>,
}

impl HoldView {
    fn of(r: &Redemption) -> Option<HoldView> {
        let h = r.risk.as_ref()?;
        Some(HoldView {
            redemption_id: r.id,
            campaign_id: r.campaign_id.as_uuid(),
            merchant_id: r.merchant_id.as_uuid(),
            merchant_name: None,
            till_id: r.till_id.map(|t| t.as_uuid()),
            order_fen: r.order.as_i64(),
            subsidy_fen: r.subsidy.as_i64(),
            held_fen: h.held.as_i64(),
            still_held_fen: h.still_held.as_i64(),
            rules: h.rules.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            score: h.score,
            outcome: h.outcome.clone(),
            redeemed_at: r.redeemed_at,
        })
    }
}

/// The open holds of the operator's region, oldest first. Roles: operator.
#[utoipa::path(get, path = "/api/v1/risk-holds", tag = "risk", security(("bearer" = [])),
    responses((status = 200, body = Vec<HoldView>), (status = 403, body = ErrorBody)))]
async fn holds(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<HoldView>>> {
    let list = state.engine.risk_holds(&auth.0).await?;
    Ok(Json(
        list.iter()
            .filter_map(|h| {
                HoldView::of(&h.redemption).map(|v| HoldView { merchant_name: Some(h.merchant_name.clone()), ..v })
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    /// Why (what the review found): 1 to 500 characters.
    note: String,
}

async fn decide(
    state: &AppState,
    auth: &Auth,
    id: &str,
    outcome: HoldOutcome,
    note: &str,
) -> ApiResult<Json<HoldView>> {
    let r = state.engine.decide_risk_hold(&auth.0, uuid_path(id)?, outcome, note).await?;
    Ok(Json(HoldView::of(&r).ok_or_else(crate::error::ApiError::not_found)?))
}

/// Releases a hold: its subsidy goes back to the merchant's payable account
/// and the next settlement pays it. Roles: operator.
#[utoipa::path(post, path = "/api/v1/risk-holds/{redemption_id}/release", tag = "risk", security(("bearer" = [])),
    params(("redemption_id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = HoldView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`hold_decided`, `hold_changed`", body = ErrorBody)))]
async fn release(
    State(state): State<AppState>,
    auth: Auth,
    Path(redemption_id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult<Json<HoldView>> {
    decide(&state, &auth, &redemption_id, HoldOutcome::Release, &b.note).await
}

/// Recovers a hold as a confirmed fraud: its subsidy goes back to the
/// campaign's budget and the merchant is not paid it. Roles: operator.
#[utoipa::path(post, path = "/api/v1/risk-holds/{redemption_id}/recover", tag = "risk", security(("bearer" = [])),
    params(("redemption_id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = HoldView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`hold_decided`, `hold_changed`", body = ErrorBody)))]
async fn recover(
    State(state): State<AppState>,
    auth: Auth,
    Path(redemption_id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult<Json<HoldView>> {
    decide(&state, &auth, &redemption_id, HoldOutcome::Recover, &b.note).await
}
