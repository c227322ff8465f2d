//! The grab dashboard's figures: each node counts, per batch and second,
//! how it answered claims (claimed, sold out, limit reached, not eligible,
//! busy, other) and how long the answers took; it writes them to the store
//! each second; the dashboard sums every node's rows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use quan_domain::{BatchId, Role};
use quan_store::{GrabSecond, StoreError};
use serde::Serialize;

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::CampaignError;
use crate::rejection::Rejection;

/// Upper bounds of the latency buckets, in microseconds (the last is open).
pub const LATENCY_BOUNDS_US: [u64; 14] = [
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    u64::MAX,
];
/// The answers, in the order of [`GrabSecond::answers`].
pub const OUTCOMES: [&str; 6] = ["claimed", "sold_out", "limit_reached", "not_eligible", "busy", "other"];
/// Seconds a node keeps in memory (and the dashboard shows).
pub const WINDOW_S: i64 = 60;

/// Which of [`OUTCOMES`] an answer is.
pub fn outcome_of<T, E: Rejection>(r: &Result<T, E>) -> usize {
    match r {
        Ok(_) => 0,
        Err(e) => match e.code() {
            "sold_out" => 1,
            "limit_reached" => 2,
            "not_eligible" => 3,
            "busy" => 4,
            _ => 5,
        },
    }
}

fn bucket(d: Duration) -> usize {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    LATENCY_BOUNDS_US.iter().position(|b| us <= *b).unwrap_or(LATENCY_BOUNDS_US.len() - 1)
}

/// The upper bound (in ms) of the bucket holding the `q`-quantile of the answers.
pub fn quantile_ms(latency: &[i64], q: f64) -> Option<f64> {
    let total: i64 = latency.iter().sum();
    if total == 0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss, clippy::float_arithmetic)]
    let rank = ((total as f64) * q).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, n) in latency.iter().enumerate() {
        seen += n;
        if seen >= rank {
            #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
            return Some(LATENCY_BOUNDS_US.get(i).map_or(f64::INFINITY, |b| *b as f64 / 1000.0));
        }
    }
    None
}

/// One second's counts on this node: answers, latency buckets, and
/// whether they changed since last written.
type Counts = ([i64; 6], Vec<i64>, bool);

/// This node's counts not yet old, per (batch, second).
#[derive(Debug)]
pub(crate) struct GrabCounter {
    node: uuid::Uuid,
    seconds: Mutex<HashMap<(BatchId, i64), Counts>>,
}

impl GrabCounter {
    pub(crate) fn new(node: uuid::Uuid) -> GrabCounter {
        GrabCounter { node, seconds: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn record(&self, batch: BatchId, second: i64, outcome: usize, took: Duration) {
        let mut m = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry((batch, second)).or_insert_with(|| ([0; 6], vec![0; LATENCY_BOUNDS_US.len()], true));
        e.0[outcome.min(5)] += 1;
        e.1[bucket(took)] += 1;
        e.2 = true;
    }

    /// The seconds changed since the last call (marked written), and old ones dropped.
    fn changed(&self, now_s: i64) -> Vec<GrabSecond> {
        let mut m = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|(_, s), _| *s > now_s - WINDOW_S);
        m.iter_mut()
            .filter(|(_, v)| v.2)
            .map(|((batch, second), v)| {
                v.2 = false;
                GrabSecond { batch: *batch, second: *second, node: self.node, answers: v.0, latency: v.1.clone() }
            })
            .collect()
    }
}

/// One second of the dashboard, all nodes summed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GrabPoint {
    pub second: i64,
    pub answers: [i64; 6],
    pub p99_ms: Option<f64>,
}

/// The grab dashboard of a batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GrabDashboard {
    pub batch_id: String,
    pub batch_name: String,
    /// The last [`WINDOW_S`] seconds, oldest first, one point per second (zeros where nothing was answered).
    pub points: Vec<GrabPoint>,
    /// Over the window: answers by outcome and the p99 of all answers.
    pub totals: [i64; 6],
    pub p99_ms: Option<f64>,
    /// Claims answered in the last full second.
    pub claims_per_s: i64,
    /// (kind code, stock left).
    pub stock: Vec<(String, i64)>,
    pub nodes: usize,
}

/// Sums the rows of every node into one point per second of `[from, to]`.
pub fn sum_seconds(rows: &[GrabSecond], from: i64, to: i64) -> (Vec<GrabPoint>, [i64; 6], Vec<i64>) {
    let mut points: Vec<GrabPoint> = (from..=to).map(|second| GrabPoint { second, ..GrabPoint::default() }).collect();
    let mut latency_per_s: Vec<Vec<i64>> = vec![vec![0; LATENCY_BOUNDS_US.len()]; points.len()];
    let mut totals = [0; 6];
    let mut all = vec![0; LATENCY_BOUNDS_US.len()];
    for r in rows.iter().filter(|r| r.second >= from && r.second <= to) {
        let i = usize::try_from(r.second - from).unwrap_or(0);
        for (k, n) in r.answers.iter().enumerate() {
            points[i].answers[k] += n;
            totals[k] += n;
        }
        for (j, n) in r.latency.iter().enumerate().take(all.len()) {
            latency_per_s[i][j] += n;
            all[j] += n;
        }
    }
    for (p, l) in points.iter_mut().zip(&latency_per_s) {
        p.p99_ms = quantile_ms(l, 0.99);
    }
    (points, totals, all)
}

impl Engine {
    /// Counts one claim's answer for the dashboard.
    pub(crate) fn count_claim(&self, batch: BatchId, outcome: usize, took: Duration) {
        self.inner.grab_counter.record(batch, self.now().timestamp(), outcome, took);
    }

    /// Writes this node's changed seconds to the store (each second in
    /// `quan serve`; and before the dashboard reads).
    pub async fn flush_grab_stats(&self) -> Result<(), StoreError> {
        let rows = self.inner.grab_counter.changed(self.now().timestamp());
        if rows.is_empty() {
            return Ok(());
        }
        self.store().put_grab_seconds(&rows).await
    }

    /// The dashboard of a batch: the last minute, every node summed. Roles:
    /// official, operator, auditor of the campaign's region.
    pub async fn grab_dashboard(&self, actor: &Actor, batch: BatchId) -> Result<GrabDashboard, CampaignError> {
        if !matches!(actor.role(), Role::Official | Role::Operator | Role::Auditor) {
            return Err(CampaignError::Forbidden);
        }
        let (b, _) = self.get_batch(actor, batch).await?;
        self.flush_grab_stats().await?;
        let now = self.now().timestamp();
        let from = now - WINDOW_S + 1;
        let rows = self.store().grab_seconds(batch, from).await?;
        let mut nodes: Vec<_> = rows.iter().map(|r| r.node).collect();
        nodes.sort();
        nodes.dedup();
        let (points, totals, all) = sum_seconds(&rows, from, now);
        let last_full = points.len().checked_sub(2).and_then(|i| points.get(i)).map_or(0, |p| p.answers[0]);
        let mut stock = self.store().remaining_stock(batch).await?;
        stock.sort();
        Ok(GrabDashboard {
            batch_id: batch.to_string(),
            batch_name: b.spec.name,
            points,
            totals,
            p99_ms: quantile_ms(&all, 0.99),
            claims_per_s: last_full,
            stock,
            nodes: nodes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p99_is_the_bound_of_the_bucket_holding_the_99th_percent_answer() {
        let mut l = vec![0; LATENCY_BOUNDS_US.len()];
        l[1] = 98; // ≤ 1 ms
        l[6] = 2; // ≤ 50 ms
        assert_eq!(quantile_ms(&l, 0.99), Some(50.0));
        assert_eq!(quantile_ms(&l, 0.5), Some(1.0));
        assert_eq!(quantile_ms(&vec![0; LATENCY_BOUNDS_US.len()], 0.99), None);
    }

    #[test]
    fn every_node_is_summed_into_one_point_per_second_with_zeros_between() {
        let b = BatchId::from_uuid(uuid::Uuid::from_u128(1));
        let row = |second, node, claimed| GrabSecond {
            batch: b,
            second,
            node: uuid::Uuid::from_u128(node),
            answers: [claimed, 1, 0, 0, 0, 0],
            latency: vec![claimed + 1],
        };
        let (points, totals, all) = sum_seconds(&[row(10, 1, 5), row(10, 2, 7), row(12, 1, 1)], 10, 13);
        assert_eq!(points.iter().map(|p| p.answers[0]).collect::<Vec<_>>(), vec![12, 0, 1, 0]);
        assert_eq!(totals, [13, 3, 0, 0, 0, 0]);
        assert_eq!(all[0], 16);
    }

    #[test]
    fn a_counter_hands_each_changed_second_once_and_forgets_old_ones() {
        let c = GrabCounter::new(uuid::Uuid::from_u128(9));
        let b = BatchId::from_uuid(uuid::Uuid::from_u128(1));
        c.record(b, 100, 0, Duration::from_micros(700));
        c.record(b, 100, 1, Duration::from_millis(30));
        let first = c.changed(100);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].answers, [1, 1, 0, 0, 0, 0]);
        assert_eq!((first[0].latency[1], first[0].latency[6]), (1, 1));
        assert!(c.changed(100).is_empty(), "nothing new");
        c.record(b, 100, 0, Duration::from_micros(10));
        assert_eq!(c.changed(101)[0].answers[0], 2, "the whole second again, with the new answer");
        assert!(c.changed(100 + WINDOW_S).is_empty());
    }
}
