//! District boundaries: list, locate a position, import newer boundaries.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Query, State};
use chrono::{DateTime, Utc};
use quan_domain::Role;
use quan_domain::geo::Crs;
use quan_engine::districts::{Located, Position};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;

/// GeoJSON files of whole cities are a few MiB.
const GEOJSON_BYTES_MAX: usize = 32 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_districts))
        .routes(routes!(locate))
        .routes(routes!(import).layer(DefaultBodyLimit::max(GEOJSON_BYTES_MAX)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DistrictView {
    pub code: String,
    pub name: String,
    pub crs: String,
    pub version: i64,
    pub imported_at: DateTime<Utc>,
    pub source: String,
}

/// The imported districts. Roles: none (public).
#[utoipa::path(get, path = "/api/v1/districts", tag = "districts", responses((status = 200, body = Vec<DistrictView>)))]
async fn list_districts(State(state): State<AppState>) -> ApiResult<Json<Vec<DistrictView>>> {
    let rows = state.engine.districts().await.map_err(|e| ApiError::internal(&e))?;
    Ok(Json(
        rows.iter()
            .map(|d| DistrictView {
                code: d.code.to_string(),
                name: d.name.clone(),
                crs: d.crs.as_str().into(),
                version: d.version,
                imported_at: d.imported_at,
                source: d.source.clone(),
            })
            .collect(),
    ))
}

/// A position as a phone reports it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PositionQuery {
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// `wgs84` (raw GPS, the default), `gcj02` (Chinese map SDKs) or `bd09` (Baidu).
    pub crs: Option<String>,
    /// The phone's accuracy radius in metres.
    pub accuracy_m: Option<f64>,
}

impl PositionQuery {
    /// `None` when no position was given; an error when half of one was.
    pub fn position(&self) -> Result<Option<Position>, ApiError> {
        let crs = match self.crs.as_deref() {
            None => Crs::Wgs84,
            Some(c) => Crs::parse(c).ok_or_else(|| ApiError::invalid_field("crs", "wgs84, gcj02 or bd09"))?,
        };
        match (self.lat, self.lng) {
            (None, None) => Ok(None),
            (Some(lat), Some(lng)) => Ok(Some(Position { lng, lat, crs, accuracy_m: self.accuracy_m })),
            _ => Err(ApiError::invalid_field("lat", "give both lat and lng")),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocatedView {
    /// `inside`, `uncertain` (within the border margin) or `outside`.
    pub status: String,
    pub district: Option<String>,
    /// For `uncertain`: metres to the nearest border.
    pub distance_m: Option<f64>,
}

impl From<Located> for LocatedView {
    fn from(l: Located) -> Self {
        match l {
            Located::Inside(c) => {
                LocatedView { status: "inside".into(), district: Some(c.to_string()), distance_m: None }
            }
            Located::Uncertain { inside, distance_m } => LocatedView {
                status: "uncertain".into(),
                district: inside.map(|c| c.to_string()),
                distance_m: Some(distance_m.round()),
            },
            Located::Outside => LocatedView { status: "outside".into(), district: None, distance_m: None },
        }
    }
}

/// Which district a position is in. Roles: any logged-in account.
#[utoipa::path(get, path = "/api/v1/districts/locate", tag = "districts", security(("bearer" = [])), params(PositionQuery),
    responses((status = 200, body = LocatedView), (status = 422, description = "`position_out_of_range`, `position_not_a_number`, `position_too_imprecise`", body = ErrorBody)))]
async fn locate(
    State(state): State<AppState>,
    _auth: Auth,
    Query(q): Query<PositionQuery>,
) -> ApiResult<Json<LocatedView>> {
    let p = q.position()?.ok_or_else(|| ApiError::invalid_field("lat", "a position is required"))?;
    let l = state.engine.locate(&p).map_err(ApiError::from)?;
    Ok(Json(l.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// The system of the file's coordinates: `wgs84`, `gcj02` (default) or `bd09`.
    crs: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DistrictImported {
    pub new: u64,
    pub replaced: u64,
    pub indexed: usize,
    /// Features not imported: each with `field` (`features[3].id`), `rule`
    /// (`outside_your_region`) and `message`.
    pub refused: Vec<RefusedFeature>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefusedFeature {
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// Imports newer or more precise boundaries (a GeoJSON FeatureCollection);
/// a district imported again keeps its old boundary in history. Only
/// districts inside the official's region are imported; the others are
/// listed in `refused` (all outside: 422 `outside_your_region`). Positions
/// must lie in China, rings be closed and enclose an area, and a file hold
/// at most 5 000 features and 5 000 000 positions.
/// Roles: official.
#[utoipa::path(post, path = "/api/v1/districts/import", tag = "districts", security(("bearer" = [])), params(ImportQuery),
    request_body(content = Object, description = "a GeoJSON FeatureCollection; each feature's `id` is its GB/T 2260 code"),
    responses((status = 200, body = DistrictImported), (status = 403, body = ErrorBody),
        (status = 422, description = "the rule broken, with `details.field` (e.g. `features[3].id`): `outside_china`, `ring_not_closed`, `empty_ring`, `too_many_positions`, `outside_your_region`, …", body = ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<DistrictImported>> {
    auth.require(&[Role::Official])?;
    let crs = match q.crs.as_deref() {
        None => Crs::Gcj02,
        Some(c) => Crs::parse(c).ok_or_else(|| ApiError::invalid_field("crs", "wgs84, gcj02 or bd09"))?,
    };
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("not_utf8", "the body is not UTF-8 text"))?;
    let done = state.engine.import_districts_as(&auth.0, text, crs, "api upload").await?;
    let refused = done
        .refused
        .into_iter()
        .map(|i| RefusedFeature { field: i.field, rule: i.rule.to_owned(), message: i.message })
        .collect();
    Ok(Json(DistrictImported {
        new: done.new,
        replaced: done.replaced,
        indexed: state.engine.district_index().len(),
        refused,
    }))
}
