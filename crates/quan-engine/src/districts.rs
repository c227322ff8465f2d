//! District boundaries: GeoJSON import, the in-memory index, and locating
//! a position (after converting it to the index's coordinate system).
#![allow(clippy::float_arithmetic)]

use std::sync::Arc;

use quan_domain::geo::crs::convert;
use quan_domain::geo::{Crs, DistrictIndex, DistrictShape, Lookup, Ring};
use quan_domain::{DistrictCode, Invalid, Role};
use quan_store::{DistrictBoundary, StoreError};
use serde_json::Value;

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status};

/// The index works in GCJ-02, the system of the shipped boundaries and of
/// Chinese map SDKs; everything else is converted to it.
pub const INDEX_CRS: Crs = Crs::Gcj02;

/// A feature of a GeoJSON FeatureCollection, checked.
#[derive(Debug, Clone)]
pub struct ParsedDistrict {
    pub code: DistrictCode,
    pub name: String,
    pub geometry: Value,
    pub polygons: Vec<Vec<Ring>>,
}

/// What an official's import did: districts new and replaced, and every
/// feature refused with its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictImport {
    pub new: u64,
    pub replaced: u64,
    pub refused: Vec<Invalid>,
}

#[derive(Debug, thiserror::Error)]
pub enum DistrictError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("your role may not do this")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for DistrictError {
    fn status(&self) -> Status {
        match self {
            DistrictError::Invalid(_) => Status::Unprocessable,
            DistrictError::Forbidden => Status::Forbidden,
            DistrictError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            DistrictError::Invalid(i) => i.rule,
            DistrictError::Forbidden => "forbidden",
            DistrictError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            DistrictError::Invalid(i) => Some(&i.field),
            DistrictError::Forbidden | DistrictError::Store(_) => None,
        }
    }
}

fn bad(field: impl Into<String>, rule: &'static str, msg: impl Into<String>) -> Invalid {
    Invalid::new(field, rule, msg)
}

/// Positions of one ring, of one feature and of one file at most: a
/// county's boundary has thousands, a detailed city file a few million.
pub const RING_POSITIONS_MAX: usize = 200_000;
pub const FEATURE_POSITIONS_MAX: usize = 500_000;
pub const FILE_POSITIONS_MAX: usize = 5_000_000;
/// Features of one file at most (China has about 2 850 counties).
pub const FEATURES_MAX: usize = 5_000;
/// Where a boundary may lie: China's bounding box, as positions are checked.
const CHINA_LNG: std::ops::RangeInclusive<f64> = 73.0..=136.0;
const CHINA_LAT: std::ops::RangeInclusive<f64> = 3.0..=54.0;

fn ring(v: &Value, field: &str) -> Result<Ring, Invalid> {
    let pts =
        v.as_array().ok_or_else(|| bad(field, "bad_coordinates", "a ring is an array of [lng, lat] positions"))?;
    if pts.len() > RING_POSITIONS_MAX {
        return Err(bad(field, "too_many_positions", format!("a ring has at most {RING_POSITIONS_MAX} positions")));
    }
    if pts.len() < 4 {
        return Err(bad(field, "bad_coordinates", "a ring has at least 4 positions"));
    }
    let mut out = Vec::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        let (x, y) = match p.as_array().map(Vec::as_slice) {
            Some([x, y, ..]) => (x.as_f64(), y.as_f64()),
            _ => (None, None),
        };
        match (x, y) {
            (Some(x), Some(y)) if CHINA_LNG.contains(&x) && CHINA_LAT.contains(&y) => out.push((x, y)),
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                return Err(bad(
                    format!("{field}[{i}]"),
                    "outside_china",
                    "a boundary lies in China: longitude 73–136, latitude 3–54 (is the file [lng, lat]?)",
                ));
            }
            _ => return Err(bad(format!("{field}[{i}]"), "bad_coordinates", "a position is [lng, lat] in degrees")),
        }
    }
    if out.first() != out.last() {
        return Err(bad(field, "ring_not_closed", "a ring ends where it starts (GeoJSON, RFC 7946 3.1.6)"));
    }
    Ok(out)
}

/// Whether a ring encloses any area (twice its signed area by the shoelace
/// formula is not zero): official files carry a few degenerate slivers.
fn encloses_area(r: &Ring) -> bool {
    let area2: f64 = r.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum();
    area2.abs() > 1e-14
}

/// A polygon's rings, without holes that enclose nothing; `None` when its
/// outer ring encloses nothing (the polygon is left out).
fn polygon(v: &Value, field: &str) -> Result<Option<Vec<Ring>>, Invalid> {
    let rings = v.as_array().ok_or_else(|| bad(field, "bad_coordinates", "a polygon is an array of rings"))?;
    if rings.is_empty() {
        return Err(bad(field, "bad_coordinates", "a polygon has an outer ring"));
    }
    let rings: Vec<Ring> =
        rings.iter().enumerate().map(|(i, r)| ring(r, &format!("{field}[{i}]"))).collect::<Result<_, _>>()?;
    if !rings.first().is_some_and(encloses_area) {
        return Ok(None);
    }
    Ok(Some(rings.into_iter().enumerate().filter(|(i, r)| *i == 0 || encloses_area(r)).map(|(_, r)| r).collect()))
}

fn feature_code(f: &Value) -> Option<String> {
    let as_text = |v: &Value| v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string()));
    f.get("id").and_then(as_text).or_else(|| {
        let p = f.get("properties")?;
        ["code", "adcode", "district_code"].iter().find_map(|k| p.get(*k).and_then(as_text))
    })
}

/// Parses a FeatureCollection whose features carry a GB/T 2260 code (as
/// `id`, or `properties.code`/`adcode`) and a Polygon or MultiPolygon.
pub fn parse_geojson(text: &str) -> Result<Vec<ParsedDistrict>, Invalid> {
    let doc: Value = serde_json::from_str(text).map_err(|e| bad("", "not_json", format!("not valid JSON: {e}")))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(bad("type", "not_a_feature_collection", "expected a GeoJSON FeatureCollection"));
    }
    let features =
        doc.get("features").and_then(Value::as_array).ok_or_else(|| bad("features", "required", "no features"))?;
    if features.len() > FEATURES_MAX {
        return Err(bad("features", "too_many_features", format!("a file has at most {FEATURES_MAX} features")));
    }
    let mut out = Vec::with_capacity(features.len());
    let mut total = 0usize;
    for (i, f) in features.iter().enumerate() {
        let at = format!("features[{i}]");
        let raw = feature_code(f).ok_or_else(|| {
            bad(format!("{at}.id"), "missing_code", "a feature needs its GB/T 2260 code as `id` or `properties.code`")
        })?;
        let code =
            DistrictCode::parse(&raw).map_err(|e| bad(format!("{at}.id"), "bad_district_code", e.to_string()))?;
        let name = f.pointer("/properties/name").and_then(Value::as_str).unwrap_or(code.as_str()).to_owned();
        let geometry = f.get("geometry").cloned().unwrap_or(Value::Null);
        let coords = geometry.get("coordinates").unwrap_or(&Value::Null);
        let field = format!("{at}.geometry.coordinates");
        let polygons: Vec<Vec<Ring>> = match geometry.get("type").and_then(Value::as_str) {
            Some("Polygon") => polygon(coords, &field)?.into_iter().collect(),
            Some("MultiPolygon") => coords
                .as_array()
                .ok_or_else(|| bad(&field, "bad_coordinates", "a MultiPolygon is an array of polygons"))?
                .iter()
                .enumerate()
                .map(|(j, p)| polygon(p, &format!("{field}[{j}]")))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
            other => {
                let msg = format!("geometry type {other:?} is not Polygon or MultiPolygon");
                return Err(bad(format!("{at}.geometry.type"), "unsupported_geometry", msg));
            }
        };
        if polygons.is_empty() {
            return Err(bad(field, "empty_ring", "the boundary encloses no area"));
        }
        let positions: usize = polygons.iter().flatten().map(Vec::len).sum();
        if positions > FEATURE_POSITIONS_MAX {
            let msg = format!("a feature has at most {FEATURE_POSITIONS_MAX} positions ({positions} here)");
            return Err(bad(field, "too_many_positions", msg));
        }
        total += positions;
        if total > FILE_POSITIONS_MAX {
            let msg = format!("a file has at most {FILE_POSITIONS_MAX} positions: split it");
            return Err(bad(field, "too_many_positions", msg));
        }
        if out.iter().any(|d: &ParsedDistrict| d.code == code) {
            return Err(bad(format!("{at}.id"), "duplicate_code", format!("{code} appears twice")));
        }
        out.push(ParsedDistrict { code, name, geometry, polygons });
    }
    if out.is_empty() {
        return Err(bad("features", "required", "the collection has no features"));
    }
    Ok(out)
}

/// A shape converted to the index's system.
pub fn to_index_crs(d: &ParsedDistrict, crs: Crs) -> DistrictShape {
    let polygons = d
        .polygons
        .iter()
        .map(|p| p.iter().map(|r| r.iter().map(|&(x, y)| convert(x, y, crs, INDEX_CRS)).collect()).collect())
        .collect();
    DistrictShape { code: d.code, name: d.name.clone(), polygons }
}

/// A position as a phone reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub lng: f64,
    pub lat: f64,
    pub crs: Crs,
    /// The phone's accuracy radius, if it gave one.
    pub accuracy_m: Option<f64>,
}

/// Where a position is, by the imported boundaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Located {
    Inside(DistrictCode),
    /// Within the border margin: the batch rule decides.
    Uncertain {
        inside: Option<DistrictCode>,
        distance_m: f64,
    },
    Outside,
}

/// Why a position cannot be used at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PositionRejection {
    #[error("latitude and longitude must be numbers")]
    NotANumber,
    #[error("the position is outside China (latitude 3–54, longitude 73–136)")]
    OutOfRange,
    #[error("the position is too imprecise: accuracy {accuracy_m} m, at most {max_m} m accepted")]
    TooImprecise { accuracy_m: f64, max_m: f64 },
}

impl crate::rejection::Rejection for PositionRejection {
    fn status(&self) -> crate::rejection::Status {
        crate::rejection::Status::Unprocessable
    }
    fn code(&self) -> &'static str {
        match self {
            PositionRejection::NotANumber => "position_not_a_number",
            PositionRejection::OutOfRange => "position_out_of_range",
            PositionRejection::TooImprecise { .. } => "position_too_imprecise",
        }
    }
}

impl Engine {
    /// The current index (cheap to clone; replaced whole on import).
    pub fn district_index(&self) -> Arc<DistrictIndex> {
        self.inner.districts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Uses another engine's index (the partner sandbox uses the live one's).
    pub(crate) fn set_district_index(&self, index: Arc<DistrictIndex>) {
        *self.inner.districts.write().unwrap_or_else(|p| p.into_inner()) = index;
    }

    /// Rebuilds the index from the store; returns the number of districts.
    pub async fn reload_districts(&self) -> Result<usize, DistrictError> {
        let rows = self.store().districts().await?;
        let mut shapes = Vec::with_capacity(rows.len());
        for r in &rows {
            let fc = format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","id":"{}","properties":{{"name":{}}},"geometry":{}}}]}}"#,
                r.code,
                Value::String(r.name.clone()),
                r.geometry_json
            );
            // A stored boundary that no longer passes the checks (stored by an
            // older version) is left out with its reason; the rest are served.
            match parse_geojson(&fc) {
                Ok(parsed) => shapes.extend(parsed.iter().map(|d| to_index_crs(d, r.crs))),
                Err(e) => {
                    tracing::error!(district = %r.code, reason = %e, "a stored district boundary is invalid: not loaded; import a good one");
                }
            }
        }
        let margin = self.config().border_margin_m;
        let index = tokio::task::spawn_blocking(move || DistrictIndex::build(&shapes, margin)).await.map_err(|e| {
            DistrictError::Store(StoreError::message(format!("building the district index failed: {e}")))
        })?;
        let n = index.len();
        *self.inner.districts.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(index);
        tracing::info!(districts = n, "district index built");
        Ok(n)
    }

    /// An official imports boundaries of their own region: features of
    /// districts outside it are refused (named, with the rule) and the rest
    /// imported. Boundaries decide GPS eligibility for every campaign.
    pub async fn import_districts_as(
        &self,
        actor: &Actor,
        text: &str,
        crs: Crs,
        source: &str,
    ) -> Result<DistrictImport, DistrictError> {
        let Actor::Staff { user, .. } = actor else { return Err(DistrictError::Forbidden) };
        if user.role != Role::Official {
            return Err(DistrictError::Forbidden);
        }
        let parsed = parse_geojson(text).map_err(DistrictError::Invalid)?;
        let (mine, theirs): (Vec<_>, Vec<_>) =
            parsed.into_iter().enumerate().partition(|(_, d)| user.region.contains_district(&d.code));
        let refused: Vec<Invalid> = theirs
            .iter()
            .map(|(i, d)| {
                let msg = format!("{} is outside your region {}", d.code, user.region);
                bad(format!("features[{i}].id"), "outside_your_region", msg)
            })
            .collect();
        if mine.is_empty() {
            return Err(DistrictError::Invalid(
                refused
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| bad("features", "required", "the collection has no features")),
            ));
        }
        let mine: Vec<ParsedDistrict> = mine.into_iter().map(|(_, d)| d).collect();
        let (new, replaced) = self.store_districts(&mine, crs, source).await?;
        tracing::info!(user = %user.id, new, replaced, refused = refused.len(), "district boundaries imported");
        Ok(DistrictImport { new, replaced, refused })
    }

    /// Imports a FeatureCollection in `crs`; re-imported districts keep their
    /// old boundary in history. Returns (new, replaced). For the machine's
    /// operator (`quan import districts`), with no region.
    pub async fn import_districts(&self, text: &str, crs: Crs, source: &str) -> Result<(u64, u64), DistrictError> {
        let parsed = parse_geojson(text).map_err(DistrictError::Invalid)?;
        self.store_districts(&parsed, crs, source).await
    }

    async fn store_districts(
        &self,
        parsed: &[ParsedDistrict],
        crs: Crs,
        source: &str,
    ) -> Result<(u64, u64), DistrictError> {
        let now = self.now();
        let rows: Vec<DistrictBoundary> = parsed
            .iter()
            .map(|d| DistrictBoundary {
                code: d.code,
                name: d.name.clone(),
                crs,
                geometry_json: d.geometry.to_string(),
                version: 0,
                imported_at: now,
                source: source.chars().take(200).collect(),
            })
            .collect();
        let counts = self.store().import_districts(&rows, now).await?;
        self.reload_districts().await?;
        Ok(counts)
    }

    /// Where a position is. Bad or imprecise positions are rejected; a
    /// position within the border margin is uncertain.
    pub fn locate(&self, p: &Position) -> Result<Located, PositionRejection> {
        if !p.lng.is_finite() || !p.lat.is_finite() || p.accuracy_m.is_some_and(|a| !a.is_finite()) {
            return Err(PositionRejection::NotANumber);
        }
        if !(3.0..=54.0).contains(&p.lat) || !(73.0..=136.0).contains(&p.lng) {
            return Err(PositionRejection::OutOfRange);
        }
        let max_m = self.config().position_accuracy_m_max;
        if let Some(a) = p.accuracy_m.filter(|a| *a > max_m) {
            return Err(PositionRejection::TooImprecise { accuracy_m: a, max_m });
        }
        let (x, y) = convert(p.lng, p.lat, p.crs, INDEX_CRS);
        Ok(match self.district_index().lookup(x, y) {
            Lookup::Inside(c) => Located::Inside(c),
            Lookup::NearBorder { inside, distance_m } => Located::Uncertain { inside, distance_m },
            Lookup::Outside => Located::Outside,
        })
    }
}
