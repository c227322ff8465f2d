//! `quan simulate fraud`: a seeded month of a city through the real engine,
//! with labelled cash-out rings, hoarding farms and price raisers mixed
//! into honest trade; per pattern, what the nightly analysis found (recall,
//! precision, honest actors flagged), how much of the fraudulent subsidy
//! was held before settlement paid it, and how long after a ring's first
//! fraudulent redemption its merchants' settlement was held.
#![allow(clippy::float_arithmetic)]

mod city;
mod drive;

pub use city::Mix as FraudMix;

use std::collections::HashSet;

use serde::Serialize;

use city::{City, Who};
use drive::Month;

/// What `quan simulate fraud` runs.
#[derive(Debug, Clone, Serialize)]
pub struct FraudSim {
    pub mix: city::Mix,
    pub seed: u64,
    /// The rules at redemption hold (threshold hugging, repeat pair) instead of the default allow.
    pub hold_rules: bool,
    /// A ring's case holds its merchants' settlement at once (`[analysis] hold_settlement`).
    pub hold_settlement: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rings {
    pub rings: usize,
    pub found: usize,
    pub recall: f64,
    pub ring_shops: usize,
    pub ring_shops_flagged: usize,
    pub ring_residents: usize,
    pub ring_residents_named: usize,
    pub honest_shops: usize,
    pub honest_shops_flagged: usize,
    pub honest_shops_flagged_share: f64,
    /// Flagged shops that are ring shops.
    pub shop_precision: f64,
    /// Named residents that are ring members.
    pub resident_precision: f64,
    /// From a ring's first fraudulent redemption to its first settlement hold.
    pub hours_to_hold_median: f64,
    pub hours_to_hold_max: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Money {
    pub fraud_subsidy_fen: i64,
    pub fraud_held_before_paid_fen: i64,
    pub fraud_held_share: f64,
    pub honest_subsidy_fen: i64,
    pub honest_held_fen: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Found {
    pub labelled: usize,
    pub found: usize,
    pub recall: f64,
    /// Honest actors (accounts, products) named.
    pub honest_named: usize,
    pub honest: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FraudReport {
    pub sim: FraudSim,
    pub redemptions: usize,
    pub refused: usize,
    pub rings: Rings,
    pub money: Money,
    pub hoarding: Found,
    pub prices: Found,
    pub cases: usize,
    pub analysis_ms_max: u128,
    pub audit_clean: bool,
    pub seconds: f64,
}

/// Runs the month and scores it.
pub async fn run(sim: FraudSim, progress: bool) -> anyhow::Result<FraudReport> {
    let started = std::time::Instant::now();
    let random = quan_engine::SeededRandom::new(sim.seed);
    let c = city::city(&sim.mix, &random);
    let mut config = quan_engine::EngineConfig::default();
    config.analysis.hold_settlement = sim.hold_settlement;
    if sim.hold_rules {
        use quan_domain::cashout::{Action, Rule, Setting};
        for r in [Rule::ThresholdHugging, Rule::RepeatPair] {
            config.cashout.settings.insert(r, Setting { score: 2, action: Action::Hold });
        }
    }
    let bar = crate::cli::bar(progress, u64::from(sim.mix.days), "days simulated");
    let m = drive::month(&c, sim.seed, config, &bar).await?;
    bar.finish_and_clear();
    Ok(FraudReport {
        redemptions: m.done.len(),
        refused: m.refused,
        rings: rings(&c, &m),
        money: money(&c, &m),
        hoarding: hoarding(&c, &m),
        prices: prices(&c, &m),
        cases: m.cases.len(),
        analysis_ms_max: m.analysis_ms.iter().copied().max().unwrap_or(0),
        audit_clean: m.audit_clean,
        seconds: started.elapsed().as_secs_f64(),
        sim,
    })
}

fn share(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Shops and residents named by ring and hugging cases.
fn flagged(m: &Month) -> (HashSet<usize>, HashSet<usize>) {
    let cases = m.cases.iter().filter(|s| s.source == "graph_ring" || s.source == "threshold_hugging");
    let (mut shops, mut people) = (HashSet::new(), HashSet::new());
    for s in cases {
        shops.extend(s.shops.iter().map(|(x, _)| *x));
        people.extend(s.people.iter().copied());
    }
    (shops, people)
}

fn rings(c: &City, m: &Month) -> Rings {
    let (shops, people) = flagged(m);
    let mut r = Rings { rings: c.rings.len(), ..Rings::default() };
    let mut hours = Vec::new();
    for (k, (members, ring_shops)) in c.rings.iter().enumerate() {
        let s = ring_shops.iter().filter(|x| shops.contains(x)).count();
        let p = members.iter().filter(|x| people.contains(x)).count();
        r.ring_shops += ring_shops.len();
        r.ring_shops_flagged += s;
        r.ring_residents += members.len();
        r.ring_residents_named += p;
        if s * 2 >= ring_shops.len() && p * 2 >= members.len() {
            r.found += 1;
        }
        let first =
            c.visits.iter().filter(|v| v.fraud && c.people[v.person].who == Who::Ring(k)).map(|v| v.at_min).min();
        let held = m
            .cases
            .iter()
            .flat_map(|x| x.shops.iter())
            .filter(|(s, _)| ring_shops.contains(s))
            .map(|(_, at)| *at)
            .min();
        if let (Some(f), Some(h)) = (first, held) {
            hours.push((h - f) as f64 / 60.0);
        }
    }
    let honest: Vec<usize> = (0..c.shops.len()).filter(|&i| c.shops[i].ring.is_none() && !c.shops[i].raiser).collect();
    r.honest_shops = honest.len();
    r.honest_shops_flagged = honest.iter().filter(|i| shops.contains(i)).count();
    r.honest_shops_flagged_share = share(r.honest_shops_flagged, r.honest_shops);
    r.recall = share(r.found, r.rings);
    r.shop_precision = share(r.ring_shops_flagged, shops.len());
    r.resident_precision = share(r.ring_residents_named, people.len());
    hours.sort_by(f64::total_cmp);
    r.hours_to_hold_median = hours.get(hours.len() / 2).copied().unwrap_or(0.0);
    r.hours_to_hold_max = hours.last().copied().unwrap_or(0.0);
    r
}

fn money(c: &City, m: &Month) -> Money {
    let mut out = Money::default();
    for d in &m.done {
        let v = c.visits[d.visit];
        let held = d.risk_held || m.settled.get(&(v.shop, d.day)).is_some_and(|s| s == "held");
        if v.fraud {
            out.fraud_subsidy_fen += d.subsidy_fen;
            out.fraud_held_before_paid_fen += if held { d.subsidy_fen } else { 0 };
        } else {
            out.honest_subsidy_fen += d.subsidy_fen;
            out.honest_held_fen += if held { d.subsidy_fen } else { 0 };
        }
    }
    out.fraud_held_share = if out.fraud_subsidy_fen == 0 {
        0.0
    } else {
        out.fraud_held_before_paid_fen as f64 / out.fraud_subsidy_fen as f64
    };
    out
}

fn hoarding(c: &City, m: &Month) -> Found {
    let named: HashSet<usize> =
        m.cases.iter().filter(|s| s.source == "hoarding").flat_map(|s| s.people.iter().copied()).collect();
    let found = c.farms.iter().filter(|f| f.iter().filter(|p| named.contains(p)).count() * 2 >= f.len()).count();
    let honest: Vec<usize> = (0..c.people.len()).filter(|&p| c.people[p].who == Who::Honest).collect();
    Found {
        labelled: c.farms.len(),
        found,
        recall: share(found, c.farms.len()),
        honest_named: honest.iter().filter(|p| named.contains(p)).count(),
        honest: honest.len(),
    }
}

fn prices(c: &City, m: &Month) -> Found {
    let named: HashSet<&str> = m
        .cases
        .iter()
        .filter(|s| s.source == "price_raise")
        .flat_map(|s| s.products.iter().map(|p| p.rsplit('/').next().unwrap_or("")))
        .collect();
    let raised = c.items.iter().filter(|i| i.raised).count();
    let found = c.items.iter().filter(|i| i.raised && named.contains(i.sku.as_str())).count();
    Found {
        labelled: raised,
        found,
        recall: share(found, raised),
        honest_named: c.items.iter().filter(|i| !i.raised && named.contains(i.sku.as_str())).count(),
        honest: c.items.len() - raised,
    }
}

/// The report as people read it.
pub fn text(r: &FraudReport) -> String {
    let g = &r.rings;
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    let yuan = |f: i64| format!("¥{:.2}", f as f64 / 100.0);
    format!(
        "quan simulate fraud — seed {}, {} days, {} honest residents, {} honest shops, rings {:?}, farms {:?}, {} price raisers{}{}\n\
         redemptions {} (refused {}), cases {}, longest nightly analysis {} ms, audit {}\n\
         cash-out rings: found {}/{} (recall {}; target ≥ 90 %); ring shops flagged {}/{}, ring residents named {}/{}\n\
         \x20 honest shops flagged {}/{} ({}; target ≤ 0.5 %); shop precision {}, resident precision {}\n\
         \x20 hours from a ring's first fraudulent redemption to its hold: median {:.1}, max {:.1}\n\
         money: fraudulent subsidy {} of which held before paid {} ({}; target ≥ 80 %); honest subsidy {} of which held {}\n\
         hoarding farms: found {}/{} (recall {}); honest accounts named {}/{}\n\
         price raisers: raised products found {}/{} (recall {}; target 100 %); honest products flagged {}/{} (target 0)\n\
         ({:.0} s)\n",
        r.sim.seed,
        r.sim.mix.days,
        r.sim.mix.honest_residents,
        r.sim.mix.honest_shops,
        r.sim.mix.rings,
        r.sim.mix.farms,
        r.sim.mix.price_raisers,
        if r.sim.hold_rules { ", rules at redemption hold" } else { "" },
        if r.sim.hold_settlement { "" } else { ", cases do not hold settlement" },
        r.redemptions,
        r.refused,
        r.cases,
        r.analysis_ms_max,
        if r.audit_clean { "clean" } else { "NOT CLEAN" },
        g.found,
        g.rings,
        pct(g.recall),
        g.ring_shops_flagged,
        g.ring_shops,
        g.ring_residents_named,
        g.ring_residents,
        g.honest_shops_flagged,
        g.honest_shops,
        pct(g.honest_shops_flagged_share),
        pct(g.shop_precision),
        pct(g.resident_precision),
        g.hours_to_hold_median,
        g.hours_to_hold_max,
        yuan(r.money.fraud_subsidy_fen),
        yuan(r.money.fraud_held_before_paid_fen),
        pct(r.money.fraud_held_share),
        yuan(r.money.honest_subsidy_fen),
        yuan(r.money.honest_held_fen),
        r.hoarding.found,
        r.hoarding.labelled,
        pct(r.hoarding.recall),
        r.hoarding.honest_named,
        r.hoarding.honest,
        r.prices.found,
        r.prices.labelled,
        pct(r.prices.recall),
        r.prices.honest_named,
        r.prices.honest,
        r.seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_month_finds_its_rings_farm_and_raised_prices_and_keeps_the_books() {
        let mix = city::Mix {
            honest_residents: 800,
            honest_shops: 60,
            rings: vec![(6, 1), (20, 2)],
            farms: vec![12],
            price_raisers: 1,
            days: 12,
            ..city::Mix::default()
        };
        let r = run(FraudSim { mix, seed: 11, hold_rules: false, hold_settlement: true }, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.audit_clean && r.refused == 0, "{r:?}");
        assert_eq!(r.rings.found, 2, "{:?}", r.rings);
        assert_eq!(r.rings.honest_shops_flagged, 0, "{:?}", r.rings);
        assert!(r.money.fraud_held_share > 0.5, "{:?}", r.money);
        assert_eq!((r.hoarding.found, r.hoarding.honest_named), (1, 0), "{:?}", r.hoarding);
        assert_eq!((r.prices.recall, r.prices.honest_named), (1.0, 0), "{:?}", r.prices);
    }
}
