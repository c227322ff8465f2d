//! District boundaries: GeoJSON import, the in-memory index, and locating
//! a position (after converting it to the index's coordinate system).
#![allow(clippy::float_arithmetic)]

use std::sync::Arc;

use quan_domain::geo::crs::convert;
use quan_domain::geo::{Crs, DistrictIndex, DistrictShape, Lookup, Ring};
use quan_domain::{DistrictCode, Invalid};
use quan_store::{DistrictBoundary, StoreError};
use serde_json::Value;

use crate::Engine;
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

#[derive(Debug, thiserror::Error)]
pub enum DistrictError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for DistrictError {
    fn status(&self) -> Status {
        match self {
            DistrictError::Invalid(_) => Status::Unprocessable,
            DistrictError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            DistrictError::Invalid(i) => i.rule,
            DistrictError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            DistrictError::Invalid(i) => Some(&i.field),
            DistrictError::Store(_) => None,
        }
    }
}

fn bad(field: impl Into<String>, rule: &'static str, msg: impl Into<String>) -> Invalid {
    Invalid::new(field, rule, msg)
}

fn ring(v: &Value, field: &str) -> Result<Ring, Invalid> {
    let pts =
        v.as_array().ok_or_else(|| bad(field, "bad_coordinates", "a ring is an array of [lng, lat] positions"))?;
    let mut out = Vec::with_capacity(pts.len());
    for p in pts {
        let (x, y) = match p.as_array().map(Vec::as_slice) {
            Some([x, y, ..]) => (x.as_f64(), y.as_f64()),
            _ => (None, None),
        };
        match (x, y) {
            (Some(x), Some(y))
                if x.is_finite() && y.is_finite() && (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) =>
            {
                out.push((x, y))
            }
            _ => return Err(bad(field, "bad_coordinates", "a position is [lng, lat] in degrees")),
        }
    }
    if out.len() < 4 {
        return Err(bad(field, "bad_coordinates", "a ring has at least 4 positions"));
    }
    Ok(out)
}

fn polygon(v: &Value, field: &str) -> Result<Vec<Ring>, Invalid> {
    let rings = v.as_array().ok_or_else(|| bad(field, "bad_coordinates", "a polygon is an array of rings"))?;
    if rings.is_empty() {
        return Err(bad(field, "bad_coordinates", "a polygon has an outer ring"));
    }
    rings.iter().enumerate().map(|(i, r)| ring(r, &format!("{field}[{i}]"))).collect()
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
    let mut out = Vec::with_capacity(features.len());
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
        let polygons = match geometry.get("type").and_then(Value::as_str) {
            Some("Polygon") => vec![polygon(coords, &field)?],
            Some("MultiPolygon") => coords
                .as_array()
                .ok_or_else(|| bad(&field, "bad_coordinates", "a MultiPolygon is an array of polygons"))?
                .iter()
                .enumerate()
                .map(|(j, p)| polygon(p, &format!("{field}[{j}]")))
                .collect::<Result<_, _>>()?,
            other => {
                let msg = format!("geometry type {other:?} is not Polygon or MultiPolygon");
                return Err(bad(format!("{at}.geometry.type"), "unsupported_geometry", msg));
            }
        };
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

impl PositionRejection {
    pub fn code(&self) -> &'static str {
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
            let parsed = parse_geojson(&fc).map_err(|e| {
                DistrictError::Store(StoreError::message(format!("stored boundary of {} is invalid: {e}", r.code)))
            })?;
            shapes.extend(parsed.iter().map(|d| to_index_crs(d, r.crs)));
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

    /// Imports a FeatureCollection in `crs`; re-imported districts keep their
    /// old boundary in history. Returns (new, replaced).
    pub async fn import_districts(&self, text: &str, crs: Crs, source: &str) -> Result<(u64, u64), DistrictError> {
        let parsed = parse_geojson(text).map_err(DistrictError::Invalid)?;
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
