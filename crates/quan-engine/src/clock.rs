//! The real clock. Tests use `quan_domain::FixedClock` instead.

use quan_domain::Clock;

/// The system clock, for production. It reads whole milliseconds: that is
/// what both stores keep, so an instant reads back exactly as written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let now = chrono::Utc::now();
        chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}
