//! A batch's stock split between claim channels, as officials see and move
//! it: quan's own H5 (`h5`) and partners' apps (by the partner's id).

use axum::Json;
use axum::extract::{Path, State};
use quan_domain::Role;
use quan_engine::claims::{ChannelMove, ChannelShare};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::routes::batches::batch_id;

const READERS: &[Role] = &[Role::Official, Role::Auditor, Role::Operator];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(channel_shares)).routes(routes!(move_stock))
}

/// One kind's share of a batch for one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelShareView {
    kind_code: String,
    /// `h5` (quan's own H5 and API) or a partner's id.
    channel: String,
    /// `quan H5`, or the partner's name.
    channel_name: String,
    /// Units not yet claimed.
    remaining: i64,
    /// Claims made through the channel (a pack counted once).
    claimed: i64,
    /// Of those claims' vouchers, the ones redeemed now.
    redeemed: i64,
}

impl From<ChannelShare> for ChannelShareView {
    fn from(s: ChannelShare) -> Self {
        ChannelShareView {
            kind_code: s.kind_code,
            channel: s.channel,
            channel_name: s.channel_name,
            remaining: s.remaining,
            claimed: s.claimed,
            redeemed: s.redeemed,
        }
    }
}

/// Unclaimed units of one kind moved from one channel to another.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    kind_code: String,
    /// `h5` or a partner's id.
    from: String,
    /// `h5` or a partner's id.
    to: String,
    #[schema(minimum = 1)]
    count: i64,
}

/// Every channel's share of a batch's stock: what is left, claimed and redeemed per channel
/// (quan's own H5 first). Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/batches/{id}/channels", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<ChannelShareView>), (status = 404, body = ErrorBody)))]
async fn channel_shares(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ChannelShareView>>> {
    auth.require(READERS)?;
    let list = state.engine.channel_shares(&auth.0, batch_id(&id)?).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Moves unclaimed units of a kind between channels: a partner's share of the stock (the
/// partner's app claims from it; each share sells out on its own), given before or after
/// opening, taken back or moved to another channel. Refused with `stock_short` when the
/// source has fewer left. Answers every channel's share after. Roles: official.
#[utoipa::path(post, path = "/api/v1/batches/{id}/channel-moves", tag = "batches", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = MoveBody,
    responses((status = 200, body = Vec<ChannelShareView>), (status = 404, body = ErrorBody),
        (status = 409, description = "`concurrent_change`", body = ErrorBody),
        (status = 422, description = "`stock_short`, `unknown_channel`, `unknown_kind`, `same_channel`, `count_positive`", body = ErrorBody)))]
async fn move_stock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MoveBody>,
) -> ApiResult<Json<Vec<ChannelShareView>>> {
    let m = ChannelMove { kind_code: b.kind_code, from: b.from, to: b.to, count: b.count };
    let list = state.engine.move_channel_stock(&auth.0, batch_id(&id)?, &m).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}
