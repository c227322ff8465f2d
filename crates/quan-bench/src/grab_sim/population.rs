//! Who presses at a simulated grab, and when: humans (one account per
//! phone, a thumb 0.2–8 s after the opening, many behind a carrier's NAT
//! address, some tapping twice) and four kinds of bot operator, every
//! account labelled with its kind.

use quan_engine::Random;

/// What an account is, as the figures group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Human,
    /// Scripted account farm: virtual-operator numbers registered minutes
    /// before the opening, fired at the opening millisecond and again every
    /// 100 ms, from a few addresses, fifty accounts to a device.
    Farm,
    /// Card farm: real-looking numbers registered weeks before, a device
    /// each, a few dozen addresses, fired in the first 50 ms.
    Card,
    /// Replayer: a handful of captured device tokens shared by every account.
    Replay,
    /// A GPU solver of the proof of work behind residential proxies: looks
    /// like a human but for its speed.
    Gpu,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Human, Kind::Farm, Kind::Card, Kind::Replay, Kind::Gpu];
    pub fn is_human(self) -> bool {
        self == Kind::Human
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::Human => "humans",
            Kind::Farm => "account farm",
            Kind::Card => "card farm",
            Kind::Replay => "replayer",
            Kind::Gpu => "GPU solver",
        }
    }
}

/// One account of the simulation.
#[derive(Debug, Clone)]
pub struct Account {
    pub kind: Kind,
    /// The number's first three digits (the rest is never needed).
    pub prefix: u16,
    /// Minutes before the opening the account was registered.
    pub registered_min_before: i64,
    pub device: u64,
    /// IPv4, as a number.
    pub address: u32,
}

/// One press of the claim button (or one scripted request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub account: usize,
    /// Milliseconds after the opening.
    pub at_ms: i64,
}

/// The population's sizes and habits (the flags of `quan simulate grab`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Mix {
    pub humans: usize,
    pub farm: usize,
    pub card: usize,
    pub replay: usize,
    pub gpu: usize,
    /// Humans press uniformly between 0.2 s and this many seconds after the opening.
    pub human_press_max_s: f64,
    /// Share of humans behind a carrier-grade NAT address.
    pub nat_share: f64,
    /// Phones behind one NAT address on average.
    pub phones_per_nat_address: usize,
    /// Share of humans whose number is in a virtual operator's range.
    pub human_virtual_share: f64,
    /// Share of humans who tap twice.
    pub retry_share: f64,
}

impl Mix {
    pub fn without_bots(&self) -> Mix {
        Mix { farm: 0, card: 0, replay: 0, gpu: 0, ..self.clone() }
    }
}

/// A seeded source of the simulation's chances.
pub struct Dice<'a>(pub &'a dyn Random);

impl Dice<'_> {
    pub fn unit(&self) -> f64 {
        (self.0.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.0.u64() % n }
    }
    pub fn between(&self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

const REAL_PREFIXES: [u16; 8] = [138, 139, 135, 136, 150, 186, 187, 133];
const VIRTUAL_PREFIXES: [u16; 5] = [170, 171, 162, 165, 167];

/// Every account and every attempt, in account order (humans first, so
/// the humans of a run without bots are the same people).
pub fn population(mix: &Mix, d: &Dice<'_>) -> (Vec<Account>, Vec<Attempt>) {
    let mut accounts = Vec::new();
    let mut attempts = Vec::new();
    let nat_addresses = (mix.humans / mix.phones_per_nat_address.max(1)).max(1) as u64;
    for _ in 0..mix.humans {
        let virtual_number = d.unit() < mix.human_virtual_share;
        let prefix =
            if virtual_number { VIRTUAL_PREFIXES[d.below(5) as usize] } else { REAL_PREFIXES[d.below(8) as usize] };
        let address = if d.unit() < mix.nat_share {
            0x6440_0000 + d.below(nat_addresses) as u32
        } else {
            0x0A00_0000 + accounts.len() as u32
        };
        let i = accounts.len();
        accounts.push(Account {
            kind: Kind::Human,
            prefix,
            registered_min_before: 60 * 24 * (1 + d.below(400) as i64),
            device: 1_000_000 + i as u64,
            address,
        });
        let first = (d.between(0.2, mix.human_press_max_s.max(0.2)) * 1000.0) as i64;
        attempts.push(Attempt { account: i, at_ms: first });
        if d.unit() < mix.retry_share {
            attempts.push(Attempt { account: i, at_ms: first + (d.between(0.5, 2.0) * 1000.0) as i64 });
        }
    }
    bots(mix, d, &mut accounts, &mut attempts);
    (accounts, attempts)
}

fn bots(mix: &Mix, d: &Dice<'_>, accounts: &mut Vec<Account>, attempts: &mut Vec<Attempt>) {
    let mut add = |kind: Kind, n: usize, shape: &dyn Fn(usize) -> (u16, i64, u64, u32, Vec<i64>)| {
        for k in 0..n {
            let (prefix, registered_min_before, device, address, times) = shape(k);
            let i = accounts.len();
            accounts.push(Account { kind, prefix, registered_min_before, device, address });
            attempts.extend(times.into_iter().map(|at_ms| Attempt { account: i, at_ms }));
        }
    };
    add(Kind::Farm, mix.farm, &|k| {
        let start = d.below(20) as i64;
        let times = (0..10).map(|r| start + 100 * r).collect();
        (
            VIRTUAL_PREFIXES[k % 5],
            5 + d.below(25) as i64,
            2_000_000 + (k / 50) as u64,
            0xCB00_7100 + (k % 4) as u32,
            times,
        )
    });
    add(Kind::Card, mix.card, &|k| {
        let start = d.below(50) as i64;
        let times = (0..5).map(|r| start + 200 * r).collect();
        (REAL_PREFIXES[k % 8], 60 * 24 * 20, 3_000_000 + k as u64, 0xCB00_7200 + (k % 32) as u32, times)
    });
    add(Kind::Replay, mix.replay, &|k| {
        let start = d.below(10) as i64;
        let times = (0..3).map(|r| start + 50 * r).collect();
        (REAL_PREFIXES[k % 8], 60 * 24 * 60, 4_000_000 + (k % 5) as u64, 0xCB00_7300 + (k % 8) as u32, times)
    });
    add(Kind::Gpu, mix.gpu, &|k| {
        let times = vec![d.below(5) as i64];
        (REAL_PREFIXES[k % 8], 60 * 24 * 90, 5_000_000 + k as u64, 0x0B00_0000 + k as u32, times)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix() -> Mix {
        Mix {
            humans: 1000,
            farm: 100,
            card: 50,
            replay: 20,
            gpu: 30,
            human_press_max_s: 8.0,
            nat_share: 0.6,
            phones_per_nat_address: 200,
            human_virtual_share: 0.03,
            retry_share: 0.2,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_people_and_humans_come_first() {
        let r1 = quan_engine::SeededRandom::new(7);
        let r2 = quan_engine::SeededRandom::new(7);
        let (a, t) = population(&mix(), &Dice(&r1));
        let (b, u) = population(&mix(), &Dice(&r2));
        assert_eq!(a.len(), 1200);
        assert_eq!((a.len(), t.len()), (b.len(), u.len()));
        assert!(a[..1000].iter().all(|x| x.kind == Kind::Human));
        assert!(t.iter().zip(&u).all(|(x, y)| x.at_ms == y.at_ms && x.account == y.account));
    }

    #[test]
    fn humans_press_within_their_spread_and_bots_at_the_opening() {
        let r = quan_engine::SeededRandom::new(3);
        let (a, t) = population(&mix(), &Dice(&r));
        for x in &t {
            match a[x.account].kind {
                Kind::Human => assert!((200..10_000).contains(&x.at_ms), "{}", x.at_ms),
                Kind::Farm => assert!(x.at_ms < 1_000),
                _ => assert!(x.at_ms < 1_000),
            }
        }
        let behind_nat = a.iter().filter(|x| x.kind == Kind::Human && x.address >= 0x6440_0000).count();
        assert!((500..700).contains(&behind_nat), "{behind_nat}");
    }
}
