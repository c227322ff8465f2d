//! GCRA (generic cell rate algorithm) rate limiting, in memory, per key.
//!
//! Each key remembers one instant, its "theoretical arrival time". A request
//! is allowed when that instant is at most `burst` intervals in the future;
//! allowing it pushes the instant one interval further. The clock is passed
//! in, so tests move time instead of sleeping.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    burst: u32,
    keys_max: usize,
    tats: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl RateLimiter {
    /// Allows `per_period` requests per `period` on average, and up to
    /// `burst` at once. At most `keys_max` keys are tracked; beyond that,
    /// keys whose allowance is fully restored are forgotten.
    pub fn new(per_period: u32, period: Duration, burst: u32, keys_max: usize) -> RateLimiter {
        assert!(per_period > 0 && burst > 0, "a rate limit must allow something");
        RateLimiter {
            interval: period / i32::try_from(per_period).unwrap_or(i32::MAX),
            burst,
            keys_max,
            tats: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request would be allowed now, without counting one.
    pub fn allows(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let allow_until = now + self.interval * i32::try_from(self.burst).unwrap_or(i32::MAX);
        let next = tat + self.interval;
        if next > allow_until { Err(next - allow_until) } else { Ok(()) }
    }

    /// `Ok` if the request may go ahead (and counts it), else how long to wait.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if tats.len() >= self.keys_max && !tats.contains_key(key) {
            tats.retain(|_, tat| *tat > now);
            if tats.len() >= self.keys_max {
                // Refuse rather than grow without bound under a flood of new keys.
                return Err(self.interval);
            }
        }
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let allow_until = now + self.interval * i32::try_from(self.burst).unwrap_or(i32::MAX);
        let next = tat + self.interval;
        if next > allow_until {
            return Err(next - allow_until);
        }
        tats.insert(key.to_owned(), next);
        Ok(())
    }
}

/// Growing delays after failures, per key: the first `free` failures cost
/// nothing; each one after doubles the wait (1 s, 2 s, 4 s, … up to
/// `wait_max`). A success forgets the key. Used for logins per (username,
/// client address): a guesser slows down, the account's owner elsewhere
/// is never locked out.
#[derive(Debug)]
pub struct Backoff {
    free: u32,
    wait_max: Duration,
    keys_max: usize,
    keys: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

impl Backoff {
    pub fn new(free: u32, wait_max: Duration, keys_max: usize) -> Backoff {
        Backoff { free, wait_max, keys_max, keys: Mutex::new(HashMap::new()) }
    }

    /// `Ok` if an attempt may be made now, else how long to wait.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.get(key) {
            Some((_, until)) if *until > now => Err(*until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the wait it imposes from now.
    pub fn fail(&self, key: &str, now: DateTime<Utc>) -> Duration {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= self.keys_max && !keys.contains_key(key) {
            // Keys whose wait is over and that failed only a little are dropped first.
            keys.retain(|_, (n, until)| *until > now || *n > self.free);
            if keys.len() >= self.keys_max {
                keys.clear();
            }
        }
        let entry = keys.entry(key.to_owned()).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        let over = entry.0.saturating_sub(self.free);
        let wait = if over == 0 {
            Duration::zero()
        } else {
            let secs = 1i64.checked_shl(over.saturating_sub(1).min(30)).unwrap_or(i64::MAX);
            Duration::seconds(secs).min(self.wait_max)
        };
        entry.1 = now + wait;
        wait
    }

    pub fn succeed(&self, key: &str) {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_double_the_wait_up_to_the_cap_and_a_success_forgets() {
        let b = Backoff::new(3, Duration::seconds(5), 100);
        for _ in 0..3 {
            assert_eq!(b.fail("k", t0()), Duration::zero());
        }
        assert!(b.check("k", t0()).is_ok());
        assert_eq!(b.fail("k", t0()), Duration::seconds(1));
        assert_eq!(b.check("k", t0()), Err(Duration::seconds(1)));
        assert_eq!(b.fail("k", t0()), Duration::seconds(2));
        assert_eq!(b.fail("k", t0()), Duration::seconds(4));
        assert_eq!(b.fail("k", t0()), Duration::seconds(5), "capped");
        assert!(b.check("other", t0()).is_ok(), "keys are apart");
        b.succeed("k");
        assert!(b.check("k", t0()).is_ok());
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_burst_is_allowed_then_requests_are_spaced_by_the_interval() {
        let rl = RateLimiter::new(6, Duration::minutes(1), 3, 100);
        for _ in 0..3 {
            assert!(rl.check("k", t0()).is_ok());
        }
        let wait = rl.check("k", t0()).err();
        assert_eq!(wait, Some(Duration::seconds(10)));
        assert!(rl.check("k", t0() + Duration::seconds(10)).is_ok());
        assert!(rl.check("k", t0() + Duration::seconds(10)).is_err());
    }

    #[test]
    fn keys_are_limited_separately() {
        let rl = RateLimiter::new(1, Duration::minutes(1), 1, 100);
        assert!(rl.check("a", t0()).is_ok());
        assert!(rl.check("a", t0()).is_err());
        assert!(rl.check("b", t0()).is_ok());
    }

    #[test]
    fn the_number_of_tracked_keys_is_bounded() {
        let rl = RateLimiter::new(1, Duration::minutes(1), 1, 2);
        assert!(rl.check("a", t0()).is_ok());
        assert!(rl.check("b", t0()).is_ok());
        assert!(rl.check("c", t0()).is_err(), "a third key while both others are live");
        assert!(rl.check("c", t0() + Duration::minutes(2)).is_ok(), "after the others are restored");
    }
}
