//! `quan bench …`: quan's approach against the peer approach in one run.
#![allow(clippy::float_arithmetic)]

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use quan_domain::geo::{Crs, DistrictIndex, Lookup};
use quan_engine::Random;
use quan_engine::districts::{parse_geojson, to_index_crs};

/// Random positions over the districts' bounding boxes (so most fall inside
/// some district and some outside, as real traffic does near city edges).
fn points(shapes: &[quan_domain::geo::DistrictShape], n: usize, seed: u64) -> Vec<(f64, f64)> {
    let boxes: Vec<(f64, f64, f64, f64)> = shapes
        .iter()
        .map(|s| {
            let pts = s.polygons.iter().flatten().flatten();
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for &(x, y) in pts {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
            (x0, y0, x1, y1)
        })
        .collect();
    let r = quan_engine::SeededRandom::new(seed);
    let unit = |r: &quan_engine::SeededRandom| (r.u64() >> 11) as f64 / (1u64 << 53) as f64;
    (0..n)
        .map(|_| {
            let (x0, y0, x1, y1) = boxes[(r.u64() % boxes.len() as u64) as usize];
            (x0 + unit(&r) * (x1 - x0), y0 + unit(&r) * (y1 - y0))
        })
        .collect()
}

fn per_second(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

pub fn districts(dir: &Path, n: usize, seed: u64, json: bool) -> anyhow::Result<String> {
    if n == 0 {
        bail!("--points must be at least 1");
    }
    let mut shapes = Vec::new();
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries.iter().filter(|e| e.path().extension().is_some_and(|x| x == "geojson" || x == "json")) {
        let text = std::fs::read_to_string(e.path())?;
        let parsed = parse_geojson(&text).map_err(|err| anyhow::anyhow!("{}: {err}", e.path().display()))?;
        shapes.extend(parsed.iter().map(|d| to_index_crs(d, Crs::Gcj02)));
    }
    if shapes.is_empty() {
        bail!("no GeoJSON files in {}", dir.display());
    }
    let vertices: usize = shapes.iter().map(|s| s.polygons.iter().flatten().map(Vec::len).sum::<usize>()).sum();
    let t = Instant::now();
    let plain = DistrictIndex::build(&shapes, 0.0);
    let build_s = t.elapsed().as_secs_f64();
    let with_margin = DistrictIndex::build(&shapes, 100.0);
    let pts = points(&shapes, n, seed);

    let t = Instant::now();
    let mut inside = 0usize;
    for &(x, y) in &pts {
        inside += usize::from(matches!(std::hint::black_box(plain.lookup(x, y)), Lookup::Inside(_)));
    }
    let index_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut near = 0usize;
    for &(x, y) in &pts {
        near += usize::from(matches!(std::hint::black_box(with_margin.lookup(x, y)), Lookup::NearBorder { .. }));
    }
    let margin_s = t.elapsed().as_secs_f64();
    // The linear scan is slow: run it on a slice and check it agrees.
    let m = n.min(100_000);
    let t = Instant::now();
    let mut disagree = 0usize;
    for &(x, y) in &pts[..m] {
        let slow = std::hint::black_box(plain.lookup_linear(x, y));
        let fast = match plain.lookup(x, y) {
            Lookup::Inside(c) => Some(c),
            _ => None,
        };
        disagree += usize::from(slow != fast);
    }
    let linear_s = t.elapsed().as_secs_f64();
    let (idx_rate, margin_rate, lin_rate) = (per_second(n, index_s), per_second(n, margin_s), per_second(m, linear_s));
    let figures = serde_json::json!({
        "districts": shapes.len(),
        "vertices": vertices,
        "points": n,
        "inside_share": inside as f64 / n as f64,
        "near_border_share_100m": near as f64 / n as f64,
        "index_build_s": build_s,
        "index_lookups_per_s": idx_rate.round(),
        "index_with_100m_margin_lookups_per_s": margin_rate.round(),
        "linear_scan_lookups_per_s": lin_rate.round(),
        "ratio_index_to_linear": (idx_rate / lin_rate * 10.0).round() / 10.0,
        "linear_checked_points": m,
        "disagreements": disagree,
    });
    if disagree > 0 {
        bail!("the index and the linear scan disagree on {disagree} of {m} points: {figures}");
    }
    if json {
        return Ok(figures.to_string() + "\n");
    }
    Ok(format!(
        "{} districts, {} vertices, {} random points ({:.0}% inside a district)\n\
         index (grid + prepared polygons):   {:>12.0} lookups/s\n\
         index with 100 m border margin:     {:>12.0} lookups/s ({:.1}% near a border)\n\
         plain linear scan of the polygons:  {:>12.0} lookups/s\n\
         ratio index / linear scan:          {:>12.1}x (answers identical on {} points)\n",
        shapes.len(),
        vertices,
        n,
        inside as f64 * 100.0 / n as f64,
        idx_rate,
        margin_rate,
        near as f64 * 100.0 / n as f64,
        lin_rate,
        idx_rate / lin_rate,
        m
    ))
}
