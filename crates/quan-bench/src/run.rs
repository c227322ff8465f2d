//! One line of a benchmark's results, and how it is computed from what a
//! leg saw (latencies, answers, the moment of the last sale, the CPU).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Remembers when the last claim succeeded, in nanoseconds from the start.
#[derive(Debug, Default)]
pub(crate) struct LastSale(AtomicU64);

impl LastSale {
    pub(crate) fn mark(&self, since: Instant) {
        self.0.fetch_max(u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Run {
    pub name: String,
    pub attempts: usize,
    pub claimed: usize,
    pub seconds: f64,
    pub claims_per_s: f64,
    pub answers_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub invariants: String,
    /// The machine's CPU while it sold (legs that claim) or answered.
    pub cpu: Option<crate::cpu::Cpu>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// `selling` is how long it took from `started` until the last successful
/// claim: claims per second are counted over that, so a run that sells out
/// early is not diluted by the sold-out answers after it; so is the
/// machine's CPU per claim (per answer over `elapsed` when nothing was
/// claimed).
#[allow(clippy::too_many_arguments)]
pub fn finish(
    name: &str,
    attempts: usize,
    claimed: usize,
    started: Instant,
    elapsed: Duration,
    selling: Duration,
    mut lat: Vec<Duration>,
    invariants: String,
) -> Run {
    let cpu = if claimed > 0 {
        crate::cpu::between(started, started + selling, claimed)
    } else {
        crate::cpu::between(started, started + elapsed, attempts)
    };
    lat.sort_unstable();
    let s = elapsed.as_secs_f64().max(1e-9);
    let sell = selling.as_secs_f64().max(1e-9);
    Run {
        name: name.into(),
        attempts,
        claimed,
        seconds: (s * 1000.0).round() / 1000.0,
        claims_per_s: (claimed as f64 / sell).round(),
        answers_per_s: (attempts as f64 / s).round(),
        p50_ms: (percentile(&lat, 0.5) * 100.0).round() / 100.0,
        p99_ms: (percentile(&lat, 0.99) * 100.0).round() / 100.0,
        invariants,
        cpu,
    }
}
