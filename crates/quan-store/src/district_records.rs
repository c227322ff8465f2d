//! District boundary rows.

use chrono::{DateTime, Utc};
use quan_domain::DistrictCode;
use quan_domain::geo::Crs;

/// One district's boundary as imported: the GeoJSON geometry (Polygon or
/// MultiPolygon) in the coordinate system it was declared in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictBoundary {
    pub code: DistrictCode,
    pub name: String,
    pub crs: Crs,
    pub geometry_json: String,
    pub version: i64,
    pub imported_at: DateTime<Utc>,
    /// The file or upload it came from.
    pub source: String,
}
