//! Time is passed in. The domain never reads the system clock; the engine
//! gives it a `Clock`, and tests give it a `FixedClock` they can move.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that stands still until told to move. For tests and simulations.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<DateTime<Utc>>,
    /// How far every reading moves it (zero: it stands still).
    step: Mutex<Duration>,
}

impl FixedClock {
    pub fn new(now: DateTime<Utc>) -> FixedClock {
        FixedClock { now: Mutex::new(now), step: Mutex::new(Duration::zero()) }
    }

    /// Makes every later reading move the clock on by `step`, so two reads
    /// never give the same instant: a test can tell which read a value came from.
    pub fn tick_on_every_read(&self, step: Duration) {
        *self.step.lock().unwrap_or_else(|p| p.into_inner()) = step;
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut g = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *g += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        let step = *self.step.lock().unwrap_or_else(|p| p.into_inner());
        let mut g = self.now.lock().unwrap_or_else(|p| p.into_inner());
        let now = *g;
        *g += step;
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_only_moves_when_told() {
        let t0 = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        let c = FixedClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(Duration::seconds(30));
        assert_eq!(c.now(), t0 + Duration::seconds(30));
    }

    #[test]
    fn a_ticking_clock_moves_on_every_read() {
        let t0 = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        let c = FixedClock::new(t0);
        c.tick_on_every_read(Duration::milliseconds(1));
        assert_eq!((c.now(), c.now()), (t0, t0 + Duration::milliseconds(1)));
    }
}
