//! The real clock. Tests use `quan_domain::FixedClock` instead.

use quan_domain::Clock;

/// The system clock, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}
