//! The simulated city's month, labelled: honest residents and shops of each
//! scale with their daily patterns, cash-out rings (residents who spend
//! their vouchers at a few complicit shops on orders just over the
//! threshold), hoarding farms (accounts registered within minutes that claim
//! and never redeem), and shops that raise a product's price before the
//! trade-in batch opens. Pure: every draw comes from the seeded dice.
#![allow(clippy::float_arithmetic)]

use quan_domain::merchant::Scale;
use quan_engine::Random;
use serde::Serialize;

/// The mix: sizes of each kind of actor, set by flags.
#[derive(Debug, Clone, Serialize)]
pub struct Mix {
    pub honest_residents: usize,
    pub honest_shops: usize,
    /// Vouchers each account claims (the batch's limit per account).
    pub vouchers: u32,
    /// Rings as (residents, shops).
    pub rings: Vec<(usize, usize)>,
    /// Share of a ring member's vouchers spent at the ring's shops.
    pub ring_inside: f64,
    /// Share of a ring's orders just over the threshold (within 2 %).
    pub ring_hug: f64,
    /// Hoarding farms: accounts each.
    pub farms: Vec<usize>,
    /// Shops that raise prices before the trade-in batch.
    pub price_raisers: usize,
    /// Share of honest residents who claim and never redeem.
    pub honest_idle: f64,
    pub days: u32,
}

impl Default for Mix {
    fn default() -> Mix {
        Mix {
            honest_residents: 6_000,
            honest_shops: 300,
            vouchers: 6,
            rings: vec![(5, 1), (12, 2), (30, 3), (80, 5), (200, 7)],
            ring_inside: 0.85,
            ring_hug: 0.9,
            farms: vec![12, 25, 50],
            price_raisers: 5,
            honest_idle: 0.25,
            days: 30,
        }
    }
}

/// Who an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Honest,
    Ring(usize),
    Farm(usize),
}

#[derive(Debug, Clone)]
pub struct Person {
    pub who: Who,
    /// Minutes before the opening it registered.
    pub registered_min_before: i64,
    /// Its two neighbourhood shops.
    pub favourites: [usize; 2],
}

#[derive(Debug, Clone)]
pub struct Shop {
    pub scale: Scale,
    /// Its share of honest trade.
    pub weight: u32,
    pub ring: Option<usize>,
    pub raiser: bool,
    /// Sells appliances (has a catalogue).
    pub appliances: bool,
}

/// One catalogue item and its prices: (days before the opening, price in fen).
#[derive(Debug, Clone)]
pub struct Item {
    pub shop: usize,
    pub sku: String,
    pub model: usize,
    pub prices: Vec<(f64, i64)>,
    pub raised: bool,
}

/// One redemption the month holds.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    pub person: usize,
    pub shop: usize,
    /// Minutes after the opening.
    pub at_min: i64,
    pub order_fen: i64,
    /// A ring member at its ring's shop.
    pub fraud: bool,
}

#[derive(Debug, Clone)]
pub struct City {
    /// Vouchers each account claims.
    pub vouchers: u32,
    pub people: Vec<Person>,
    pub shops: Vec<Shop>,
    pub rings: Vec<(Vec<usize>, Vec<usize>)>,
    pub farms: Vec<Vec<usize>>,
    pub items: Vec<Item>,
    pub visits: Vec<Visit>,
}

/// The threshold of the batch's vouchers (满100减20).
pub const THRESHOLD_FEN: i64 = 10_000;
pub const OFF_FEN: i64 = 2_000;
/// Appliance models at the shops, and their base prices.
pub const MODELS: usize = 30;

pub struct Dice<'a>(pub &'a dyn Random);

impl Dice<'_> {
    pub fn below(&self, n: usize) -> usize {
        (self.0.u64() % n.max(1) as u64) as usize
    }
    pub fn unit(&self) -> f64 {
        (self.0.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&self, p: f64) -> bool {
        self.unit() < p
    }
}

fn scale_of(d: &Dice) -> (Scale, u32) {
    match d.below(100) {
        0..40 => (Scale::Micro, 1),
        40..75 => (Scale::Small, 2),
        75..95 => (Scale::Medium, 5),
        _ => (Scale::Large, 12),
    }
}

/// A minute of shop hours (09:00–21:00 Beijing) on `day`, in minutes after
/// the opening (10:00 of day 0; that day's visits come after the claims, from 11:00).
fn shop_minute(d: &Dice, day: u32) -> i64 {
    if day == 0 { 60 + d.below(600) as i64 } else { i64::from(day) * 1_440 - 60 + d.below(720) as i64 }
}

/// An honest order over the threshold: most well over, some just over.
fn honest_order(d: &Dice) -> i64 {
    THRESHOLD_FEN + (THRESHOLD_FEN as f64 * 0.8 * d.unit().powf(1.5)) as i64
}

fn pick_weighted(d: &Dice, shops: &[Shop], total: u32) -> usize {
    let mut x = d.below(total as usize) as u32;
    for (i, s) in shops.iter().enumerate() {
        if s.ring.is_none() && !s.raiser {
            if x < s.weight {
                return i;
            }
            x -= s.weight;
        }
    }
    0
}

/// The city's month under `mix`, drawn from `random`.
pub fn city(mix: &Mix, random: &dyn Random) -> City {
    let d = Dice(random);
    let mut shops: Vec<Shop> = (0..mix.honest_shops)
        .map(|_| {
            let (scale, weight) = scale_of(&d);
            Shop { scale, weight, ring: None, raiser: false, appliances: d.chance(0.2) }
        })
        .collect();
    let honest_weight: u32 = shops.iter().map(|s| s.weight).sum();
    let mut people: Vec<Person> = (0..mix.honest_residents)
        .map(|_| {
            let registered = if d.chance(0.3) { d.below(120) as i64 } else { 120 + d.below(60 * 1_440) as i64 };
            let favourites = [pick_weighted(&d, &shops, honest_weight), pick_weighted(&d, &shops, honest_weight)];
            Person { who: Who::Honest, registered_min_before: registered, favourites }
        })
        .collect();
    let mut rings = Vec::new();
    for (k, &(residents, n_shops)) in mix.rings.iter().enumerate() {
        let ring_shops: Vec<usize> = (0..n_shops)
            .map(|_| {
                let (scale, weight) = scale_of(&d);
                shops.push(Shop { scale, weight, ring: Some(k), raiser: false, appliances: false });
                shops.len() - 1
            })
            .collect();
        let members: Vec<usize> = (0..residents)
            .map(|_| {
                let favourites = [pick_weighted(&d, &shops, honest_weight), pick_weighted(&d, &shops, honest_weight)];
                people.push(Person {
                    who: Who::Ring(k),
                    registered_min_before: 120 + d.below(60 * 1_440) as i64,
                    favourites,
                });
                people.len() - 1
            })
            .collect();
        rings.push((members, ring_shops));
    }
    let mut farms = Vec::new();
    for (k, &size) in mix.farms.iter().enumerate() {
        // The last farm signs up in the opening rush, among honest sign-ups.
        let start = if k + 1 == mix.farms.len() && k > 0 {
            30 + d.below(60) as i64
        } else {
            1_440 + d.below(20 * 1_440) as i64
        };
        let members: Vec<usize> = (0..size)
            .map(|i| {
                people.push(Person {
                    who: Who::Farm(k),
                    registered_min_before: start - (i as i64 * 10) / 60,
                    favourites: [0, 0],
                });
                people.len() - 1
            })
            .collect();
        farms.push(members);
    }
    for _ in 0..mix.price_raisers {
        shops.push(Shop { scale: Scale::Medium, weight: 5, ring: None, raiser: true, appliances: true });
    }
    let items = catalogue(&d, &shops);
    let visits = visits(mix, &d, &people, &shops, &rings, honest_weight);
    City { vouchers: mix.vouchers, people, shops, rings, farms, items, visits }
}

/// Every appliance shop's catalogue with 60 days of prices before the opening.
fn catalogue(d: &Dice, shops: &[Shop]) -> Vec<Item> {
    let base: Vec<i64> = (0..MODELS).map(|_| 200_000 + d.below(600_000) as i64).collect();
    let mut items = Vec::new();
    for (i, s) in shops.iter().enumerate().filter(|(_, s)| s.appliances) {
        let raise_n = if s.raiser { 1 + d.below(3) } else { 0 };
        for k in 0..4 {
            let model = d.below(MODELS);
            let first = (base[model] as f64 * (0.92 + 0.16 * d.unit())) as i64;
            let mut prices = vec![(60.0, first)];
            let raised = k < raise_n;
            if raised {
                prices.push((3.0 + 17.0 * d.unit(), (first as f64 * (1.12 + 0.23 * d.unit())) as i64));
            } else if d.chance(0.3) {
                prices.push((60.0 * d.unit(), (first as f64 * (0.95 + 0.10 * d.unit())) as i64));
            }
            items.push(Item { shop: i, sku: format!("SKU-{i}-{k}"), model, prices, raised });
        }
    }
    items
}

fn visits(
    mix: &Mix,
    d: &Dice,
    people: &[Person],
    shops: &[Shop],
    rings: &[(Vec<usize>, Vec<usize>)],
    total: u32,
) -> Vec<Visit> {
    let mut out = Vec::new();
    let days = mix.days.max(1);
    for (p, person) in people.iter().enumerate() {
        match person.who {
            Who::Farm(_) => {}
            Who::Honest => {
                if d.chance(mix.honest_idle) {
                    continue;
                }
                for _ in 0..1 + d.below(mix.vouchers as usize) {
                    let shop =
                        if d.chance(0.5) { person.favourites[d.below(2)] } else { pick_weighted(d, shops, total) };
                    let at_min = shop_minute(d, d.below(days as usize) as u32);
                    out.push(Visit { person: p, shop, at_min, order_fen: honest_order(d), fraud: false });
                }
            }
            Who::Ring(k) => {
                // A ring starts within the first ten days and spends over two weeks.
                let start = (k as u32 * 3) % 10;
                for _ in 0..mix.vouchers {
                    let day = (start + d.below(14) as u32).min(days - 1);
                    let at_min = shop_minute(d, day);
                    if d.chance(mix.ring_inside) {
                        let shop = rings[k].1[d.below(rings[k].1.len())];
                        let hug = d.chance(mix.ring_hug);
                        let order_fen = if hug { THRESHOLD_FEN + d.below(200) as i64 } else { honest_order(d) };
                        out.push(Visit { person: p, shop, at_min, order_fen, fraud: true });
                    } else {
                        let shop = pick_weighted(d, shops, total);
                        out.push(Visit { person: p, shop, at_min, order_fen: honest_order(d), fraud: false });
                    }
                }
            }
        }
    }
    out.sort_by_key(|v| (v.at_min, v.person));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_city_has_its_labelled_rings_farms_and_raisers_and_every_ring_order_is_over_the_threshold() {
        let r = quan_engine::SeededRandom::new(3);
        let c = city(&Mix::default(), &r);
        assert_eq!(c.rings.len(), 5);
        assert_eq!(c.rings[4].0.len(), 200);
        assert_eq!(c.farms.iter().map(Vec::len).sum::<usize>(), 87);
        assert!(c.items.iter().filter(|i| i.raised).count() >= 5);
        assert!(c.visits.iter().all(|v| v.order_fen >= THRESHOLD_FEN));
        let fraud = c.visits.iter().filter(|v| v.fraud).count();
        // 327 members × 6 vouchers × 85 % at the ring's shops ≈ 1 668.
        assert!((1_550..1_800).contains(&fraud), "{fraud}");
    }
}
