//! The three coordinate systems positions arrive in: WGS-84 (raw GPS),
//! GCJ-02 (the offset system Chinese map SDKs and the shipped boundaries
//! use) and BD-09 (Baidu, a further offset of GCJ-02).
#![allow(clippy::float_arithmetic)]

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    #[default]
    #[serde(alias = "wgs-84", alias = "WGS84", alias = "wgs")]
    Wgs84,
    #[serde(alias = "gcj-02", alias = "GCJ02", alias = "gcj")]
    Gcj02,
    #[serde(alias = "bd-09", alias = "BD09", alias = "bd")]
    Bd09,
}

impl Crs {
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    pub fn parse(s: &str) -> Option<Crs> {
        match s.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "wgs84" | "wgs" => Some(Crs::Wgs84),
            "gcj02" | "gcj" => Some(Crs::Gcj02),
            "bd09" | "bd" => Some(Crs::Bd09),
            _ => None,
        }
    }
}

// The GCJ-02 obfuscation: the Krasovsky 1940 ellipsoid and two polynomials.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lng(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

fn wgs_to_gcj(lng: f64, lat: f64) -> (f64, f64) {
    let dlat = transform_lat(lng - 105.0, lat - 35.0);
    let dlng = transform_lng(lng - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlng = (dlng * 180.0) / (A / sqrt_magic * radlat.cos() * PI);
    (lng + dlng, lat + dlat)
}

/// The inverse has no closed form: iterate the forward function until the
/// error is below a millimetre (about 1e-8 degrees); a few steps suffice.
fn gcj_to_wgs(lng: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lng, lat);
    for _ in 0..30 {
        let (gx, gy) = wgs_to_gcj(x, y);
        let (ex, ey) = (gx - lng, gy - lat);
        x -= ex;
        y -= ey;
        if ex.abs() < 1e-10 && ey.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

fn gcj_to_bd(lng: f64, lat: f64) -> (f64, f64) {
    let z = (lng * lng + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lng) + 0.000_003 * (lng * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// The usual closed formula is only inverse to about 1e-6 degrees; start
/// from it and refine against the forward function to well below a millimetre.
fn bd_to_gcj(lng: f64, lat: f64) -> (f64, f64) {
    let (x0, y0) = (lng - 0.0065, lat - 0.006);
    let z = (x0 * x0 + y0 * y0).sqrt() - 0.000_02 * (y0 * X_PI).sin();
    let theta = y0.atan2(x0) - 0.000_003 * (x0 * X_PI).cos();
    let (mut x, mut y) = (z * theta.cos(), z * theta.sin());
    for _ in 0..10 {
        let (bx, by) = gcj_to_bd(x, y);
        let (ex, ey) = (bx - lng, by - lat);
        x -= ex;
        y -= ey;
        if ex.abs() < 1e-11 && ey.abs() < 1e-11 {
            break;
        }
    }
    (x, y)
}

/// Converts `(lng, lat)` from one system to another.
pub fn convert(lng: f64, lat: f64, from: Crs, to: Crs) -> (f64, f64) {
    let (g_lng, g_lat) = match from {
        Crs::Gcj02 => (lng, lat),
        Crs::Wgs84 => wgs_to_gcj(lng, lat),
        Crs::Bd09 => bd_to_gcj(lng, lat),
    };
    match to {
        Crs::Gcj02 => (g_lng, g_lat),
        Crs::Wgs84 => gcj_to_wgs(g_lng, g_lat),
        Crs::Bd09 => gcj_to_bd(g_lng, g_lat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
        (a.0 - b.0).abs() < tol && (a.1 - b.1).abs() < tol
    }

    // Reference values published with the widely used `coordtransform`
    // library (its test/app.js), for the point (116.404, 39.915) in Beijing.
    #[test]
    fn conversions_match_the_published_reference_points() {
        let p = (116.404, 39.915);
        assert!(close(
            convert(p.0, p.1, Crs::Wgs84, Crs::Gcj02),
            (116.410_244_499_169_38, 39.916_404_281_501_64),
            1e-9
        ));
        assert!(close(convert(p.0, p.1, Crs::Gcj02, Crs::Bd09), (116.410_369_493_710_29, 39.921_336_993_510_21), 1e-9));
        // The library's inverses (BD-09 → GCJ-02, GCJ-02 → WGS-84) are
        // approximations; ours iterate to the exact inverse, which lies within
        // 10 cm and a metre of them respectively.
        assert!(close(convert(p.0, p.1, Crs::Bd09, Crs::Gcj02), (116.397_627_291_193_15, 39.908_656_739_576_31), 1e-6));
        assert!(close(
            convert(p.0, p.1, Crs::Gcj02, Crs::Wgs84),
            (116.397_755_500_830_61, 39.913_595_718_498_36),
            1e-5
        ));
    }

    #[test]
    fn the_offset_is_hundreds_of_metres_in_china() {
        let (lng, lat) = convert(111.29, 30.70, Crs::Wgs84, Crs::Gcj02);
        let shift = ((lng - 111.29).powi(2) + (lat - 30.70).powi(2)).sqrt();
        assert!(shift > 0.002 && shift < 0.01, "{shift}");
    }

    #[test]
    fn names_parse_in_common_spellings() {
        assert_eq!(Crs::parse("WGS-84"), Some(Crs::Wgs84));
        assert_eq!(Crs::parse("gcj02"), Some(Crs::Gcj02));
        assert_eq!(Crs::parse("BD09"), Some(Crs::Bd09));
        assert_eq!(Crs::parse("utm"), None);
    }

    proptest! {
        #[test]
        fn every_conversion_round_trips_within_a_millimetre(lng in 73.0f64..136.0, lat in 3.0f64..54.0) {
            // Every inverse is computed by iteration to below 1e-8 degrees (1 mm).
            for (a, b, tol) in [(Crs::Wgs84, Crs::Gcj02, 1e-8), (Crs::Gcj02, Crs::Bd09, 1e-8), (Crs::Wgs84, Crs::Bd09, 1e-8)] {
                let (x, y) = convert(lng, lat, a, b);
                let back = convert(x, y, b, a);
                prop_assert!(close(back, (lng, lat), tol), "{a:?}->{b:?}: {back:?}");
            }
        }
    }
}
