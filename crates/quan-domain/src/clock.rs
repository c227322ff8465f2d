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
}

impl FixedClock {
    pub fn new(now: DateTime<Utc>) -> FixedClock {
        FixedClock { now: Mutex::new(now) }
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
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
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
}
