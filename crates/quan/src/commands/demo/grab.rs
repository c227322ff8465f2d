//! The grab at the opening second: every resident's tap (bots and retries
//! among them) over many connections at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quan_engine::{Random, SeededRandom};
use quan_http::client::Conn;
use serde_json::{Value, json};

use super::bar;
use super::client::call;

/// What the grab's load generator saw.
#[derive(Debug, Default)]
pub(super) struct GrabSeen {
    pub(super) statuses: BTreeMap<u16, usize>,
    pub(super) codes: BTreeMap<String, usize>,
    pub(super) latencies: Vec<Duration>,
    /// (resident, voucher id, kind code) of each voucher handed out.
    pub(super) vouchers: Vec<(usize, String, String)>,
}

pub(super) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Everyone claims at once over `connections` keep-alive connections; bots
/// hammer, some residents retry with the same Idempotency-Key.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_grab(
    addr: SocketAddr,
    batch: &str,
    tokens: &[String],
    positions: &[(f64, f64)],
    connections: usize,
    stock: [usize; 3],
    rng: &SeededRandom,
    show: bool,
) -> anyhow::Result<GrabSeen> {
    let kinds = ["c100-20", "r200-50", "h2000-300"];
    let total: usize = stock.iter().sum();
    // Each resident's wish, by the stock's shares; bots (every 5 000th) send 20 requests.
    let mut order: Vec<(usize, &'static str, u32)> = Vec::with_capacity(tokens.len() + 100);
    for i in 0..tokens.len() {
        let x = usize::try_from(rng.below(total as u64)).unwrap_or(0);
        let k = if x < stock[0] {
            0
        } else if x < stock[0] + stock[1] {
            1
        } else {
            2
        };
        order.push((i, kinds[k], 0));
        if i % 5_000 == 17 {
            for n in 1..20 {
                order.push((i, kinds[k], n));
            }
        }
        if i % 50 == 3 {
            // A retry after a lost answer: the same key.
            order.push((i, kinds[k], 0));
        }
    }
    for i in (1..order.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    let order = Arc::new(order);
    let next = Arc::new(AtomicUsize::new(0));
    let b = bar(show, order.len() as u64, "10:00:00 — the grab");
    let tokens_all: Arc<Vec<String>> = Arc::new(tokens.to_vec());
    let positions_all: Arc<Vec<(f64, f64)>> = Arc::new(positions.to_vec());
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (order, next, b) = (order.clone(), next.clone(), b.clone());
        let (tokens, positions) = (tokens_all.clone(), positions_all.clone());
        let batch = batch.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut seen = GrabSeen::default();
            let mut conn = match Conn::connect(addr).await {
                Ok(c) => c,
                Err(_) => return seen,
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(who, kind, attempt)) = order.get(i) else { break };
                let (lat, lng) = positions[who];
                let body = json!({"kind": kind, "lat": lat, "lng": lng, "crs": "gcj02", "accuracy_m": 25.0});
                // Apps that retry (and the bots) send an Idempotency-Key.
                let key = format!("grab-{who}-{attempt}");
                // Each phone from its own address (behind the demo's trusted
                // loopback proxy) with its own device token.
                let from = format!("10.{}.{}.{}", (who >> 16) & 0xff, (who >> 8) & 0xff, who & 0xff);
                let device = format!("demo-phone-{who:08}");
                let mut headers: Vec<(&str, &str)> = vec![("X-Forwarded-For", &from), ("Quan-Device", &device)];
                if who % 50 == 3 || who % 5_000 == 17 {
                    headers.push(("Idempotency-Key", &key));
                }
                let t0 = Instant::now();
                let answer = call(
                    &mut conn,
                    "POST",
                    &format!("/api/v1/batches/{batch}/claims"),
                    Some(&tokens[who]),
                    Some(&body),
                    &headers,
                )
                .await;
                let Ok((status, bytes)) = answer else {
                    if let Ok(c) = Conn::connect(addr).await {
                        conn = c;
                    }
                    continue;
                };
                seen.latencies.push(t0.elapsed());
                *seen.statuses.entry(status).or_insert(0) += 1;
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let code = if status == 201 {
                    if attempt == 0 && !seen.vouchers.iter().any(|(r, _, _)| *r == who) {
                        for x in v["vouchers"].as_array().cloned().unwrap_or_default() {
                            seen.vouchers.push((
                                who,
                                x["id"].as_str().unwrap_or_default().to_owned(),
                                x["kind"].as_str().unwrap_or(kind).to_owned(),
                            ));
                        }
                    }
                    "claimed".to_owned()
                } else {
                    v["error"]["code"].as_str().unwrap_or("?").to_owned()
                };
                *seen.codes.entry(code).or_insert(0) += 1;
                b.inc(1);
            }
            seen
        }));
    }
    let mut all = GrabSeen::default();
    for task in tasks {
        let s = task.await?;
        for (k, v) in s.statuses {
            *all.statuses.entry(k).or_insert(0) += v;
        }
        for (k, v) in s.codes {
            *all.codes.entry(k).or_insert(0) += v;
        }
        all.latencies.extend(s.latencies);
        all.vouchers.extend(s.vouchers);
    }
    b.finish_and_clear();
    // A retried request answered twice from the idempotency record: one voucher.
    all.vouchers.sort();
    all.vouchers.dedup();
    Ok(all)
}
