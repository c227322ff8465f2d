//! Which district is a position in? A grid of cells over the districts:
//! a cell that no boundary comes near is answered at once ("all of this
//! cell is in 420502"); a cell near a boundary keeps its few candidate
//! districts, each a "prepared" polygon whose edges are sorted into
//! horizontal bands, so the ray-casting test reads only the edges at the
//! point's latitude. Positions within `margin_m` of a boundary are reported
//! as near the border, for the batch rule to decide.
#![allow(clippy::float_arithmetic)]

use std::collections::HashMap;

use crate::district::DistrictCode;

/// A closed ring of `(lng, lat)` points (the last may repeat the first).
pub type Ring = Vec<(f64, f64)>;

/// One district's boundary: polygons, each an outer ring and its holes.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictShape {
    pub code: DistrictCode,
    pub name: String,
    pub polygons: Vec<Vec<Ring>>,
}

/// The answer for one position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup {
    Inside(DistrictCode),
    /// Within the margin of a boundary: `inside` is the district the point
    /// falls in by the boundary data (if any), `distance_m` how far it is
    /// from the nearest boundary.
    NearBorder {
        inside: Option<DistrictCode>,
        distance_m: f64,
    },
    Outside,
}

const METRES_PER_DEGREE: f64 = 111_320.0;

#[derive(Debug, Clone, Copy)]
struct Edge {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
}

#[derive(Debug)]
struct Prepared {
    code: DistrictCode,
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
    band_h: f64,
    bands: Vec<Vec<Edge>>,
    edges: Vec<Edge>,
}

impl Prepared {
    /// The widest and tallest a district's box may be, in degrees.
    const SPAN_DEG_MAX: f64 = 20.0;

    fn new(shape: &DistrictShape) -> Option<Prepared> {
        let mut edges = Vec::new();
        for ring in shape.polygons.iter().flatten() {
            for w in ring.windows(2) {
                edges.push(Edge { x1: w[0].0, y1: w[0].1, x2: w[1].0, y2: w[1].1 });
            }
            if let (Some(first), Some(last)) = (ring.first(), ring.last())
                && first != last
            {
                edges.push(Edge { x1: last.0, y1: last.1, x2: first.0, y2: first.1 });
            }
        }
        edges.retain(|e| e.x1.is_finite() && e.y1.is_finite() && e.x2.is_finite() && e.y2.is_finite());
        if edges.is_empty() {
            return None;
        }
        let min_x = edges.iter().map(|e| e.x1.min(e.x2)).fold(f64::INFINITY, f64::min);
        let max_x = edges.iter().map(|e| e.x1.max(e.x2)).fold(f64::NEG_INFINITY, f64::max);
        let min_y = edges.iter().map(|e| e.y1.min(e.y2)).fold(f64::INFINITY, f64::min);
        let max_y = edges.iter().map(|e| e.y1.max(e.y2)).fold(f64::NEG_INFINITY, f64::max);
        // No county spans more than this: a shape that does (a bad file, or
        // coordinates converted near a pole) is left out, never gridded.
        if !(max_x - min_x <= Self::SPAN_DEG_MAX && max_y - min_y <= Self::SPAN_DEG_MAX) {
            return None;
        }
        // About 8 edges per band on average keeps each test short.
        let n_bands = (edges.len() / 8).clamp(1, 4096);
        let band_h = ((max_y - min_y) / n_bands as f64).max(1e-9);
        let mut bands = vec![Vec::new(); n_bands];
        for e in &edges {
            let lo = (((e.y1.min(e.y2) - min_y) / band_h) as usize).min(n_bands - 1);
            let hi = (((e.y1.max(e.y2) - min_y) / band_h) as usize).min(n_bands - 1);
            for band in &mut bands[lo..=hi] {
                band.push(*e);
            }
        }
        Some(Prepared { code: shape.code, min_x, min_y, max_x, max_y, band_h, bands, edges })
    }

    fn in_bbox(&self, x: f64, y: f64) -> bool {
        x >= self.min_x && x <= self.max_x && y >= self.min_y && y <= self.max_y
    }

    /// Even-odd ray casting over the edges of the point's band only.
    fn contains(&self, x: f64, y: f64) -> bool {
        if !self.in_bbox(x, y) {
            return false;
        }
        let band = (((y - self.min_y) / self.band_h) as usize).min(self.bands.len() - 1);
        crossings(&self.bands[band], x, y)
    }

    /// Distance in metres from the point to the nearest edge, looking only
    /// at bands within `limit_m`; `None` if no edge is that close.
    fn distance_within(&self, x: f64, y: f64, limit_m: f64) -> Option<f64> {
        let dy = limit_m / METRES_PER_DEGREE;
        if y + dy < self.min_y || y - dy > self.max_y {
            return None;
        }
        let last = self.bands.len() - 1;
        let lo = (((y - dy - self.min_y) / self.band_h).max(0.0) as usize).min(last);
        let hi = (((y + dy - self.min_y) / self.band_h).max(0.0) as usize).min(last);
        let kx = (y.to_radians().cos() * METRES_PER_DEGREE).max(1.0);
        let mut best = f64::INFINITY;
        for band in &self.bands[lo..=hi] {
            for e in band {
                best = best.min(segment_distance_m(e, x, y, kx));
            }
        }
        (best <= limit_m).then_some(best)
    }
}

fn crossings(edges: &[Edge], x: f64, y: f64) -> bool {
    let mut inside = false;
    for e in edges {
        if (e.y1 > y) != (e.y2 > y) {
            let xi = e.x1 + (y - e.y1) * (e.x2 - e.x1) / (e.y2 - e.y1);
            if x < xi {
                inside = !inside;
            }
        }
    }
    inside
}

/// Point–segment distance in a local plane (x scaled by cos(latitude)).
fn segment_distance_m(e: &Edge, x: f64, y: f64, kx: f64) -> f64 {
    let k = METRES_PER_DEGREE;
    let (ax, ay, bx, by, px, py) = (e.x1 * kx, e.y1 * k, e.x2 * kx, e.y2 * k, x * kx, y * k);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (cx, cy) = (ax + t * dx, ay + t * dy);
    ((px - cx).powi(2) + (py - cy).powi(2)).sqrt()
}

#[derive(Debug)]
enum Cell {
    /// No boundary comes within the margin of this cell: all of it is in
    /// this district.
    Inside(u16),
    /// Boundaries pass nearby: test these districts.
    Near(Box<[u16]>),
}

/// The index over a set of districts. Built once, read by many threads.
#[derive(Debug)]
pub struct DistrictIndex {
    districts: Vec<Prepared>,
    cell_deg: f64,
    margin_m: f64,
    cells: HashMap<(i32, i32), Cell>,
}

impl DistrictIndex {
    /// At most this many districts in one index (cells store u16 indexes).
    pub const DISTRICTS_MAX: usize = 60_000;

    /// Builds the index; `margin_m` is the border margin (0 for none).
    pub fn build(shapes: &[DistrictShape], margin_m: f64) -> DistrictIndex {
        let districts: Vec<Prepared> = shapes.iter().take(Self::DISTRICTS_MAX).filter_map(Prepared::new).collect();
        let margin_m = if margin_m.is_finite() { margin_m.max(0.0) } else { 0.0 };
        // Cells of about 1 km, coarser for very large areas so the grid stays small.
        let area: f64 = districts.iter().map(|d| (d.max_x - d.min_x) * (d.max_y - d.min_y)).sum();
        let cell_deg = (area / 400_000.0).sqrt().max(0.01);
        let mut index = DistrictIndex { districts, cell_deg, margin_m, cells: HashMap::new() };
        index.fill_cells();
        index
    }

    fn cell_of(&self, x: f64, y: f64) -> (i32, i32) {
        ((x / self.cell_deg).floor() as i32, (y / self.cell_deg).floor() as i32)
    }

    fn fill_cells(&mut self) {
        let pad = self.margin_m / METRES_PER_DEGREE * 2.0 + self.cell_deg * 1e-6;
        // Cells a boundary (widened by the margin) touches.
        let mut near: HashMap<(i32, i32), Vec<u16>> = HashMap::new();
        for (i, d) in self.districts.iter().enumerate() {
            for e in &d.edges {
                // A long diagonal edge is walked in pieces of about a cell:
                // the cells of its whole box would be the square of its length.
                let pieces = ((e.x2 - e.x1).abs().max((e.y2 - e.y1).abs()) / self.cell_deg).ceil().max(1.0) as usize;
                for k in 0..pieces {
                    let (t0, t1) = (k as f64 / pieces as f64, (k + 1) as f64 / pieces as f64);
                    let (ax, ay) = (e.x1 + (e.x2 - e.x1) * t0, e.y1 + (e.y2 - e.y1) * t0);
                    let (bx, by) = (e.x1 + (e.x2 - e.x1) * t1, e.y1 + (e.y2 - e.y1) * t1);
                    let (cx0, cy0) = self.cell_of(ax.min(bx) - pad, ay.min(by) - pad);
                    let (cx1, cy1) = self.cell_of(ax.max(bx) + pad, ay.max(by) + pad);
                    for cx in cx0..=cx1 {
                        for cy in cy0..=cy1 {
                            let v = near.entry((cx, cy)).or_default();
                            if v.last() != Some(&(i as u16)) {
                                v.push(i as u16);
                            }
                        }
                    }
                }
            }
        }
        // Every other cell inside a district's box is wholly in or out of it.
        for (i, d) in self.districts.iter().enumerate() {
            let (cx0, cy0) = self.cell_of(d.min_x, d.min_y);
            let (cx1, cy1) = self.cell_of(d.max_x, d.max_y);
            for cx in cx0..=cx1 {
                for cy in cy0..=cy1 {
                    if near.contains_key(&(cx, cy)) || self.cells.contains_key(&(cx, cy)) {
                        continue;
                    }
                    let (mx, my) = ((f64::from(cx) + 0.5) * self.cell_deg, (f64::from(cy) + 0.5) * self.cell_deg);
                    if d.contains(mx, my) {
                        self.cells.insert((cx, cy), Cell::Inside(i as u16));
                    }
                }
            }
        }
        for (k, mut v) in near {
            v.sort_unstable();
            v.dedup();
            self.cells.insert(k, Cell::Near(v.into_boxed_slice()));
        }
    }

    pub fn len(&self) -> usize {
        self.districts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.districts.is_empty()
    }

    pub fn margin_m(&self) -> f64 {
        self.margin_m
    }

    /// The district containing `(lng, lat)` (in the boundaries' system).
    pub fn lookup(&self, lng: f64, lat: f64) -> Lookup {
        if !lng.is_finite() || !lat.is_finite() {
            return Lookup::Outside;
        }
        let Some(cell) = self.cells.get(&self.cell_of(lng, lat)) else { return Lookup::Outside };
        let candidates = match cell {
            Cell::Inside(i) => return Lookup::Inside(self.districts[usize::from(*i)].code),
            Cell::Near(c) => c,
        };
        let inside = candidates.iter().map(|i| &self.districts[usize::from(*i)]).find(|d| d.contains(lng, lat));
        if self.margin_m > 0.0 {
            let nearest = candidates
                .iter()
                .filter_map(|i| self.districts[usize::from(*i)].distance_within(lng, lat, self.margin_m))
                .fold(f64::INFINITY, f64::min);
            if nearest.is_finite() {
                return Lookup::NearBorder { inside: inside.map(|d| d.code), distance_m: nearest };
            }
        }
        inside.map_or(Lookup::Outside, |d| Lookup::Inside(d.code))
    }

    /// Every district containing the point, by testing them all (for checks:
    /// boundaries should not overlap).
    pub fn containing_all(&self, lng: f64, lat: f64) -> Vec<DistrictCode> {
        self.districts.iter().filter(|d| d.in_bbox(lng, lat) && crossings(&d.edges, lng, lat)).map(|d| d.code).collect()
    }

    /// The plain approach, for comparison in benchmarks: test every
    /// district's every edge in turn (after a bounding-box check).
    pub fn lookup_linear(&self, lng: f64, lat: f64) -> Option<DistrictCode> {
        self.districts.iter().find(|d| d.in_bbox(lng, lat) && crossings(&d.edges, lng, lat)).map(|d| d.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DistrictCode {
        DistrictCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn square(c: &str, x0: f64, y0: f64, size: f64) -> DistrictShape {
        let ring = vec![(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)];
        DistrictShape { code: code(c), name: c.into(), polygons: vec![vec![ring]] }
    }

    #[test]
    fn points_are_found_in_the_right_one_of_two_neighbours() {
        let idx = DistrictIndex::build(&[square("420502", 111.0, 30.0, 0.5), square("420503", 111.5, 30.0, 0.5)], 0.0);
        assert_eq!(idx.lookup(111.25, 30.25), Lookup::Inside(code("420502")));
        assert_eq!(idx.lookup(111.75, 30.25), Lookup::Inside(code("420503")));
        assert_eq!(idx.lookup(112.5, 30.25), Lookup::Outside);
        assert_eq!(idx.lookup(f64::NAN, 30.25), Lookup::Outside);
    }

    #[test]
    fn a_shape_wider_than_any_county_is_left_out_and_a_long_diagonal_edge_builds_fast() {
        let huge = DistrictShape {
            code: code("420599"),
            name: "huge".into(),
            polygons: vec![vec![vec![(0.0, 80.0), (1e16, 80.0), (1e16, 90.0), (0.0, 90.0), (0.0, 80.0)]]],
        };
        let diagonal = DistrictShape {
            code: code("420502"),
            name: "triangle".into(),
            polygons: vec![vec![vec![(100.0, 20.0), (115.0, 35.0), (100.0, 35.0), (100.0, 20.0)]]],
        };
        let idx = DistrictIndex::build(&[huge, diagonal], 100.0);
        assert_eq!(idx.len(), 1, "only the sane shape is indexed");
        assert_eq!(idx.lookup(101.0, 34.0), Lookup::Inside(code("420502")));
        assert!(idx.cells.len() < 1_000_000, "{} cells", idx.cells.len());
    }

    #[test]
    fn a_hole_is_not_inside() {
        let mut s = square("420502", 111.0, 30.0, 1.0);
        s.polygons[0].push(vec![(111.4, 30.4), (111.6, 30.4), (111.6, 30.6), (111.4, 30.6)]);
        let idx = DistrictIndex::build(&[s], 0.0);
        assert_eq!(idx.lookup(111.5, 30.5), Lookup::Outside);
        assert_eq!(idx.lookup(111.2, 30.5), Lookup::Inside(code("420502")));
    }

    #[test]
    fn a_point_near_a_border_is_reported_with_its_distance() {
        let idx =
            DistrictIndex::build(&[square("420502", 111.0, 30.0, 0.5), square("420503", 111.5, 30.0, 0.5)], 200.0);
        // About 100 m west of the shared border at 111.5.
        match idx.lookup(111.499, 30.25) {
            Lookup::NearBorder { inside, distance_m } => {
                assert_eq!(inside, Some(code("420502")));
                assert!((distance_m - 95.9).abs() < 2.0, "{distance_m}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(idx.lookup(111.25, 30.25), Lookup::Inside(code("420502")), "far from borders");
    }

    #[test]
    fn the_index_and_the_linear_scan_agree_on_a_grid_of_points() {
        let idx = DistrictIndex::build(&[square("420502", 111.0, 30.0, 0.5), square("420503", 111.5, 30.0, 0.5)], 0.0);
        for i in 0..100 {
            for j in 0..40 {
                let (x, y) = (110.9 + f64::from(i) * 0.0123, 29.9 + f64::from(j) * 0.0177);
                let fast = match idx.lookup(x, y) {
                    Lookup::Inside(c) => Some(c),
                    _ => None,
                };
                assert_eq!(fast, idx.lookup_linear(x, y), "({x}, {y})");
            }
        }
    }
}
