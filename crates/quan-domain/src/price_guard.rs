//! The price-raise guard (先涨价后补贴): a catalogue product whose price on a
//! subsidy's opening day is above what it cost over the weeks before, or
//! above the same model at other shops. Pure: the caller passes the price
//! history and the peers' prices.

use chrono::{DateTime, Duration, Utc};

use crate::money::Fen;

/// The guard's numbers, set per deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Days before the opening the price is compared with.
    pub window_days: u32,
    /// A rise over the window's median price of at least this, in basis points.
    pub rise_bp: u32,
    /// Above the median of the same model at other shops by at least this, in basis points.
    pub peer_bp: u32,
    /// Other shops' prices needed before comparing with them.
    pub peers_min: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { window_days: 30, rise_bp: 1_000, peer_bp: 2_000, peers_min: 3 }
    }
}

/// Why a product is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raise {
    /// Its own price rose: the price before the window, the price at the opening, the rise in bp.
    OverOwnPast { before: Fen, at_open: Fen, rise_bp: i64 },
    /// Above the same model elsewhere: their median, its price, the excess in bp.
    OverPeers { peers: Fen, at_open: Fen, excess_bp: i64 },
}

/// The price in effect at `at` from `history` (changes, oldest first).
pub fn price_at(history: &[(DateTime<Utc>, Fen)], at: DateTime<Utc>) -> Option<Fen> {
    history.iter().take_while(|(t, _)| *t <= at).last().map(|(_, p)| *p)
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

fn bp(over: i64, base: i64) -> i64 {
    if base <= 0 { 0 } else { (over - base).saturating_mul(10_000) / base }
}

/// Whether the product's price at `opens` rose over its own past: against
/// the price in effect `window_days` before (or its first price, when it
/// was listed since). A rise long before the window is the product's price,
/// not a raise for the subsidy; a promotion and its end inside the window
/// move it by less than `rise_bp`.
pub fn over_own_past(history: &[(DateTime<Utc>, Fen)], opens: DateTime<Utc>, s: &Settings) -> Option<Raise> {
    let at_open = price_at(history, opens)?;
    let start = opens - Duration::days(i64::from(s.window_days));
    let before = price_at(history, start).or_else(|| history.first().map(|(_, p)| *p))?;
    let rise_bp = bp(at_open.as_i64(), before.as_i64());
    (rise_bp >= i64::from(s.rise_bp)).then_some(Raise::OverOwnPast { before, at_open, rise_bp })
}

/// Whether `at_open` is above the median of the same model at other shops.
pub fn over_peers(at_open: Fen, peers: &[Fen], s: &Settings) -> Option<Raise> {
    if peers.len() < s.peers_min as usize {
        return None;
    }
    let m = median(peers.iter().map(|p| p.as_i64()).collect())?;
    let excess_bp = bp(at_open.as_i64(), m);
    (excess_bp >= i64::from(s.peer_bp)).then_some(Raise::OverPeers { peers: Fen::new(m), at_open, excess_bp })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000 + d)
    }

    #[test]
    fn a_price_raised_two_weeks_before_the_opening_is_flagged_with_its_rise() {
        let h = [(day(-60), Fen::new(399_900)), (day(-14), Fen::new(459_900))];
        let r = over_own_past(&h, day(0), &Settings::default());
        assert_eq!(
            r,
            Some(Raise::OverOwnPast { before: Fen::new(399_900), at_open: Fen::new(459_900), rise_bp: 1_500 })
        );
    }

    #[test]
    fn a_raise_three_weeks_before_the_opening_is_caught_as_one_two_days_before() {
        let s = Settings::default();
        for d in [2, 14, 21, 29] {
            let h = [(day(-60), Fen::new(100_000)), (day(-d), Fen::new(112_000))];
            assert!(over_own_past(&h, day(0), &s).is_some(), "{d} days before");
        }
    }

    #[test]
    fn a_price_raised_long_before_the_window_or_by_a_little_is_not() {
        let s = Settings::default();
        assert_eq!(over_own_past(&[(day(-90), Fen::new(100)), (day(-45), Fen::new(130))], day(0), &s), None);
        assert_eq!(over_own_past(&[(day(-60), Fen::new(10_000)), (day(-3), Fen::new(10_500))], day(0), &s), None);
        // A cut is never a raise; no history before the opening, nothing to compare.
        assert_eq!(over_own_past(&[(day(-60), Fen::new(10_000)), (day(-3), Fen::new(8_000))], day(0), &s), None);
        assert_eq!(over_own_past(&[(day(1), Fen::new(10_000))], day(0), &s), None);
    }

    #[test]
    fn a_price_far_above_the_same_model_elsewhere_is_flagged_once_enough_shops_sell_it() {
        let s = Settings::default();
        let peers = [Fen::new(300_000), Fen::new(310_000), Fen::new(305_000)];
        assert_eq!(over_peers(Fen::new(380_000), &peers[..2], &s), None);
        assert!(matches!(over_peers(Fen::new(380_000), &peers, &s), Some(Raise::OverPeers { excess_bp: 2_459, .. })));
        assert_eq!(over_peers(Fen::new(330_000), &peers, &s), None);
    }
}
