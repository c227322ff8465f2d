//! Collusion in the resident–merchant graph (the nightly analysis): rings of
//! residents who redeem (almost) only at a few shops, with orders just over
//! the threshold. Dense blocks are found by greedy peeling (FRAUDAR, Hooi et
//! al. 2016): every edge weighs its redemptions, threshold-hugging ones
//! three times, times the merchant's column weight `1 / log2(residents + 5)`
//! (so a popular honest shop does not make a dense block of its customers,
//! and a ring cannot hide by adding honest edges to it); nodes are removed
//! lowest weighted degree first and the densest remainder kept. A block is
//! split into its connected parts and each part is judged: its core
//! residents (any resident of its merchants with at least `inside_pct` of
//! their redemptions there, at least two, or two orders there hugging the
//! threshold), how many, and what share of their redemptions hug the
//! threshold. Integers only: weights in fixed point.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// The redemptions of one resident at one merchant, over the analysed days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub resident: u32,
    pub merchant: u32,
    pub redemptions: u32,
    /// Of them, orders within the hugging band above the threshold.
    pub hugging: u32,
}

/// What makes a part of a dense block a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Core residents at least.
    pub min_residents: u32,
    /// A core resident's redemptions inside the part, percent at least.
    pub inside_pct: u32,
    /// Core residents' redemptions in the part hugging the threshold, percent at least.
    pub hug_pct: u32,
    /// A merchant belongs to the ring when core residents make at least
    /// this share (percent) of its redemptions (and their orders there hug
    /// the threshold at least `hug_pct` of the time).
    pub merchant_share_pct: u32,
    /// A shop is suspicious when at least this share (percent) of all its
    /// orders hug the threshold (honest trade: well under one in five) …
    pub shop_hug_pct: u32,
    /// … at least this many of them …
    pub shop_hug_min: u32,
    /// … and this many standard deviations above the city's rate.
    pub shop_hug_z: u32,
    /// Blocks peeled at most per analysis.
    pub max_blocks: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            min_residents: 3,
            inside_pct: 80,
            hug_pct: 40,
            merchant_share_pct: 20,
            shop_hug_pct: 15,
            shop_hug_min: 5,
            shop_hug_z: 4,
            max_blocks: 60,
        }
    }
}

/// A ring found: its merchants and core residents (indices as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    pub merchants: Vec<u32>,
    pub residents: Vec<u32>,
    /// Core residents' redemptions at the ring's merchants, and of them hugging.
    pub redemptions: u32,
    pub hugging: u32,
    /// Percent of the core residents' redemptions made inside the ring.
    pub inside_pct: u32,
    /// The block's density when peeled (fixed point, 1.0 = 1 << 16).
    pub density_q16: u64,
}

impl Ring {
    /// A score for the case: hugging redemptions plus repeat visits.
    pub fn score(&self) -> i64 {
        i64::from(self.hugging) + i64::from(self.redemptions)
    }
}

/// log2(x) in fixed point with 16 fractional bits, for x ≥ 1.
pub fn log2_q16(x: u64) -> u64 {
    if x <= 1 {
        return 0;
    }
    let int = u64::from(x.ilog2());
    // The mantissa in [1, 2) as Q32, squared bit by bit.
    let mut y: u128 = (u128::from(x) << 32) >> int;
    let mut frac = 0u64;
    for bit in (0..16).rev() {
        y = (y * y) >> 32;
        if y >= 2u128 << 32 {
            y >>= 1;
            frac |= 1 << bit;
        }
    }
    (int << 16) | frac
}

/// Node numbering of the peel: residents first, then merchants.
struct Graph {
    residents: usize,
    /// All redemptions, and of them hugging: the city's rate.
    city: (u64, u64),
    /// Per node: (other node, edge weight, edge index).
    adj: Vec<Vec<(usize, u64, usize)>>,
}

fn graph(edges: &[Edge]) -> Graph {
    let residents = edges.iter().map(|e| e.resident as usize + 1).max().unwrap_or(0);
    let merchants = edges.iter().map(|e| e.merchant as usize + 1).max().unwrap_or(0);
    let mut degree = vec![0u64; merchants];
    for e in edges {
        degree[e.merchant as usize] += 1;
    }
    let mut adj = vec![Vec::new(); residents + merchants];
    for (i, e) in edges.iter().enumerate() {
        let m = e.merchant as usize;
        // Column weight 1 / log2(degree + 5), in Q32 over the log's Q16.
        let column = (1u64 << 32) / log2_q16(degree[m] + 5).max(1);
        let weight = u64::from(e.redemptions + 2 * e.hugging.min(e.redemptions)) * column;
        adj[e.resident as usize].push((residents + m, weight, i));
        adj[residents + m].push((e.resident as usize, weight, i));
    }
    let city = edges.iter().fold((0u64, 0u64), |(n, h), e| (n + u64::from(e.redemptions), h + u64::from(e.hugging)));
    Graph { residents, city, adj }
}

/// One greedy peel over the nodes still `alive`: the densest remainder's
/// nodes and its density (Q16), or `None` when no edge is left.
fn peel(g: &Graph, alive: &[bool]) -> Option<(Vec<usize>, u64)> {
    let n = g.adj.len();
    let mut degree = vec![0u64; n];
    let mut total = 0u64;
    let mut count = 0u64;
    for v in 0..n {
        if !alive[v] {
            continue;
        }
        count += 1;
        for &(u, w, _) in &g.adj[v] {
            if alive[u] {
                degree[v] += w;
                if v < u {
                    total += w;
                }
            }
        }
    }
    if total == 0 {
        return None;
    }
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> =
        (0..n).filter(|&v| alive[v]).map(|v| Reverse((degree[v], v))).collect();
    let mut here = alive.to_vec();
    let mut removed = Vec::with_capacity(n);
    // Weights are Q16 already (the column weight is 2^32 over a Q16 log), so is this.
    let density = |t: u64, c: u64| t.checked_div(c).unwrap_or(0);
    let (mut best, mut best_at) = (density(total, count), 0usize);
    while let Some(Reverse((d, v))) = heap.pop() {
        if !here[v] || d != degree[v] {
            continue;
        }
        here[v] = false;
        removed.push(v);
        total -= d;
        count -= 1;
        for &(u, w, _) in &g.adj[v] {
            if here[u] {
                degree[u] -= w;
                heap.push(Reverse((degree[u], u)));
            }
        }
        let now = density(total, count);
        if now > best {
            best = now;
            best_at = removed.len();
        }
    }
    let mut keep: Vec<bool> = alive.to_vec();
    for &v in &removed[..best_at] {
        keep[v] = false;
    }
    Some(((0..n).filter(|&v| keep[v]).collect(), best))
}

/// The connected parts of `nodes` over edges between them.
fn parts(g: &Graph, nodes: &[usize]) -> Vec<Vec<usize>> {
    let inside: HashMap<usize, usize> = nodes.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let mut seen = vec![false; nodes.len()];
    let mut out = Vec::new();
    for start in 0..nodes.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut part = vec![nodes[start]];
        let mut i = 0;
        while i < part.len() {
            for &(u, _, _) in &g.adj[part[i]] {
                if let Some(&k) = inside.get(&u).filter(|&&k| !seen[k]) {
                    seen[k] = true;
                    part.push(u);
                }
            }
            i += 1;
        }
        out.push(part);
    }
    out
}

/// Whether a shop's `h` hugging orders of `n` stand out from the city's
/// (`city`: all redemptions, of them hugging, the shop's included): at least
/// `shop_hug_min` and `shop_hug_pct` percent of its orders, and `shop_hug_z`
/// standard deviations above what the rest of the city's rate gives a shop of its size (a small
/// honest shop with a few orders just over the threshold by chance is not).
pub fn suspicious_shop(n: u32, h: u32, city: (u64, u64), s: &Settings) -> bool {
    let (n, h) = (u128::from(n), u128::from(h));
    // The rest of the city's rate: a ring that is much of a small city's
    // trade does not raise the bar it is measured against.
    let total = u128::from(city.0).saturating_sub(n).max(1);
    let hugging = u128::from(city.1).saturating_sub(h).min(total);
    // (h − n·p)² ≥ z² · n · p · (1 − p), with p = hugging / total, times total².
    let over = (h * total).saturating_sub(n * hugging);
    let z = u128::from(s.shop_hug_z);
    h >= u128::from(s.shop_hug_min)
        && h * 100 >= u128::from(s.shop_hug_pct) * n
        && over * over >= z * z * n * hugging * (total - hugging)
}

/// Per merchant of a part: all its redemptions and of them hugging.
fn shop_totals(edges: &[Edge], g: &Graph, merchants: &[u32]) -> BTreeMap<u32, (u32, u32)> {
    merchants
        .iter()
        .map(|&m| {
            let adj = &g.adj[g.residents + m as usize];
            let n = adj.iter().map(|&(_, _, i)| edges[i].redemptions).sum();
            let h = adj.iter().map(|&(_, _, i)| edges[i].hugging).sum();
            (m, (n, h))
        })
        .collect()
}

/// The part's members: every resident of its merchants who spends mostly
/// there, or who hugged the threshold twice at one of its suspicious shops
/// (a member who shops honestly elsewhere too, to hide).
fn members(edges: &[Edge], g: &Graph, merchants: &[u32], suspicious: &dyn Fn(u32) -> bool, s: &Settings) -> Vec<u32> {
    let mut candidates: Vec<usize> =
        merchants.iter().flat_map(|&m| g.adj[g.residents + m as usize].iter().map(|&(r, _, _)| r)).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let mut core = Vec::new();
    for v in candidates {
        let (mut all, mut inside, mut hugged_twice) = (0u32, 0u32, false);
        for &(_, _, i) in &g.adj[v] {
            let e = edges[i];
            all += e.redemptions;
            if merchants.contains(&e.merchant) {
                inside += e.redemptions;
                hugged_twice |= e.hugging >= 2 && suspicious(e.merchant);
            }
        }
        if (inside >= 2 && inside * 100 >= s.inside_pct * all) || hugged_twice {
            core.push(v as u32);
        }
    }
    core
}

/// Judges one connected part: its core residents and merchants, or `None`.
fn judge(edges: &[Edge], g: &Graph, part: &[usize], density_q16: u64, s: &Settings) -> Option<Ring> {
    let merchants: Vec<u32> = part.iter().filter(|&&v| v >= g.residents).map(|&v| (v - g.residents) as u32).collect();
    if merchants.is_empty() {
        return None;
    }
    let shops = shop_totals(edges, g, &merchants);
    let suspicious = |m: u32| shops.get(&m).is_some_and(|&(n, h)| suspicious_shop(n, h, g.city, s));
    let core = members(edges, g, &merchants, &suspicious, s);
    let mut by_merchant: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    for &r in &core {
        for &(_, _, i) in &g.adj[r as usize] {
            let e = edges[i];
            if merchants.contains(&e.merchant) {
                let x = by_merchant.entry(e.merchant).or_default();
                x.0 += e.redemptions;
                x.1 += e.hugging;
            }
        }
    }
    let kept: Vec<u32> = by_merchant
        .iter()
        .filter(|&(&m, &(core_n, hug))| {
            // The core's own orders there hug too: a member's ordinary
            // shopping at a small honest shop does not make it the ring's.
            let total = shops.get(&m).map_or(0, |x| x.0);
            suspicious(m)
                && core_n >= 2
                && core_n * 100 >= s.merchant_share_pct * total
                && hug * 100 >= s.hug_pct * core_n
        })
        .map(|(&m, _)| m)
        .collect();
    let core: Vec<u32> = core
        .into_iter()
        .filter(|&r| g.adj[r as usize].iter().any(|&(_, _, i)| kept.contains(&edges[i].merchant)))
        .collect();
    let (redemptions, hugging) =
        kept.iter().filter_map(|m| by_merchant.get(m)).fold((0, 0), |(a, b), x| (a + x.0, b + x.1));
    let all: u32 = core.iter().flat_map(|&r| &g.adj[r as usize]).map(|&(_, _, i)| edges[i].redemptions).sum();
    let ring =
        core.len() as u32 >= s.min_residents && !kept.is_empty() && hugging * 100 >= s.hug_pct * redemptions.max(1);
    ring.then(|| Ring {
        merchants: kept,
        residents: core,
        redemptions,
        hugging,
        inside_pct: (redemptions * 100).checked_div(all).unwrap_or(0),
        density_q16,
    })
}

/// The rings in the graph of `edges`, densest block first.
pub fn rings(edges: &[Edge], s: &Settings) -> Vec<Ring> {
    let g = graph(edges);
    let mut alive = vec![true; g.adj.len()];
    let mut out = Vec::new();
    for _ in 0..s.max_blocks {
        let Some((block, density)) = peel(&g, &alive) else { break };
        if block.is_empty() {
            break;
        }
        for p in parts(&g, &block) {
            if let Some(r) = judge(edges, &g, &p, density, s) {
                out.push(r);
            }
        }
        for v in block {
            alive[v] = false;
        }
    }
    out
}

#[cfg(test)]
#[path = "collusion_tests.rs"]
mod tests;
