//! How busy the machine's cores were during a benchmark leg: every process
//! counts (quan, the load generator, the database server), as read from
//! `/proc/stat` every 50 ms by a thread of its own. A leg that leaves cores
//! idle is held back by something other than the CPU (a serial step, a
//! disk, a wait); a leg that keeps them all busy is at this machine's limit
//! for the CPU each claim or answer costs.
#![allow(clippy::float_arithmetic)]

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The machine's CPU over one window of a leg.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Cpu {
    /// Cores busy on average (of `cores`).
    pub busy_cores: f64,
    pub cores: usize,
    /// Machine CPU time per claim (legs that claim) or per answer (legs
    /// that only answer), in microseconds.
    pub cpu_us_each: f64,
}

/// `/proc/stat`'s first line: (busy, all) jiffies of every core together.
fn read_jiffies() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_jiffies(text.lines().next()?)
}

/// Busy and total jiffies from the `cpu` line of `/proc/stat` (idle and
/// iowait are not busy; guest time is already in user time).
fn parse_jiffies(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = fields.take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    if v.len() < 5 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let idle = v[3] + v[4];
    Some((total - idle, total))
}

struct Sampler {
    samples: Mutex<Vec<(Instant, u64, u64)>>,
}

const EVERY: Duration = Duration::from_millis(50);

/// Starts the sampling thread once per process (nothing is sampled where
/// `/proc/stat` cannot be read: the figures are then absent).
fn sampler() -> &'static Sampler {
    static S: OnceLock<&'static Sampler> = OnceLock::new();
    S.get_or_init(|| {
        let s: &'static Sampler = Box::leak(Box::new(Sampler { samples: Mutex::new(Vec::new()) }));
        if read_jiffies().is_some() {
            let _ = std::thread::Builder::new().name("bench-cpu".into()).spawn(move || {
                while let Some((busy, total)) = read_jiffies() {
                    s.samples.lock().unwrap_or_else(|p| p.into_inner()).push((Instant::now(), busy, total));
                    std::thread::sleep(EVERY);
                }
            });
        }
        s
    })
}

/// Begins sampling (call before a leg starts, so its first moment is covered).
pub fn start() {
    let _ = sampler();
    std::thread::sleep(EVERY * 2);
}

/// The machine's CPU from `from` to `to`, spent on `count` claims or
/// answers; `None` without samples around the window.
pub fn between(from: Instant, to: Instant, count: usize) -> Option<Cpu> {
    std::thread::sleep(EVERY * 2);
    let samples = sampler().samples.lock().unwrap_or_else(|p| p.into_inner());
    window(&samples, from, to, count, std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The last sample at or before `from` and the first at or after `to`.
fn window(samples: &[(Instant, u64, u64)], from: Instant, to: Instant, count: usize, cores: usize) -> Option<Cpu> {
    let a = samples.iter().rev().find(|s| s.0 <= from)?;
    let b = samples.iter().find(|s| s.0 >= to)?;
    let (busy, total) = (b.1.checked_sub(a.1)?, b.2.checked_sub(a.2)?);
    if total == 0 {
        return None;
    }
    let seconds = (b.0 - a.0).as_secs_f64();
    let busy_cores = busy as f64 / total as f64 * cores as f64;
    Some(Cpu {
        busy_cores: (busy_cores * 100.0).round() / 100.0,
        cores,
        cpu_us_each: (busy_cores * seconds * 1e6 / count.max(1) as f64 * 10.0).round() / 10.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_line_of_proc_stat_gives_busy_and_all_jiffies() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        let line = "cpu  100 5 50 800 40 3 2 0 0 0";
        assert_eq!(parse_jiffies(line), Some((160, 1000)));
        assert_eq!(parse_jiffies("cpu0 1 2 3 4 5 6 7 8"), None, "a single core's line is not the total");
        assert_eq!(parse_jiffies("cpu 1 2 x"), None);
    }

    #[test]
    fn a_window_counts_the_busy_share_of_every_core_and_divides_it_among_the_claims() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Two cores, one second: 150 of 200 jiffies busy = 1.5 cores.
        let samples = [(at(0), 1_000, 10_000), (at(500), 1_080, 10_100), (at(1_000), 1_150, 10_200)];
        let cpu = window(&samples, at(0), at(1_000), 30_000, 2).expect("a window");
        assert_eq!(cpu.busy_cores, 1.5);
        assert_eq!(cpu.cpu_us_each, 50.0, "1.5 core-seconds over 30 000 claims");
        assert_eq!(window(&samples, at(100), at(900), 1, 2).map(|c| c.busy_cores), Some(1.5), "widened to samples");
        assert!(window(&samples, at(0), at(2_000), 1, 2).is_none(), "no sample after the window yet");
    }
}
