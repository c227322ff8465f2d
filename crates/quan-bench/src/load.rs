//! The load generator: a keep-alive HTTP/1.1 client just big enough for
//! it, and residents' claims sent over many connections at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quan_domain::BatchId;
use quan_http::client::Conn;

use crate::run::Run;

/// A claim of resident `who`; with `key`, the `Idempotency-Key` of that
/// tap. Each resident comes from an address of its own (`X-Forwarded-For`,
/// as behind the load balancer the server under test trusts: a city's
/// phones do not share the load generator's one address) and its own
/// device token.
/// With `pow`, the claim carries its solved challenge (challenge, nonce).
pub(crate) fn claim_request(
    batch: BatchId,
    token: &str,
    key: Option<usize>,
    who: usize,
    pow: Option<&(String, String)>,
) -> String {
    let key = key.map(|k| format!("Idempotency-Key: tap-{k}\r\n")).unwrap_or_default();
    let body = pow.map_or_else(
        || "{}".to_owned(),
        |(challenge, nonce)| format!("{{\"pow_challenge\":\"{challenge}\",\"pow_nonce\":\"{nonce}\"}}"),
    );
    resident_post(&format!("/api/v1/batches/{batch}/claims"), token, &key, who, &body)
}

/// A POST of resident `who` from its own address and device; `extra` is
/// more header lines.
pub(crate) fn resident_post(path: &str, token: &str, extra: &str, who: usize, body: &str) -> String {
    let (a, b, c) = ((who >> 16) & 0xff, (who >> 8) & 0xff, who & 0xff);
    format!(
        "POST {path} HTTP/1.1\r\nHost: quan\r\nAuthorization: Bearer {token}\r\n{extra}X-Forwarded-For: 10.{a}.{b}.{c}\r\nQuan-Device: bench-{who:08}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// What the load generator saw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Claim ids answered 201.
    pub(crate) acknowledged: Vec<uuid::Uuid>,
    /// Answers by status code.
    pub(crate) statuses: std::collections::BTreeMap<u16, usize>,
    pub(crate) latencies: Vec<Duration>,
    /// Residents whose request got no answer (to try again).
    pub(crate) unanswered: Vec<usize>,
    /// Residents taken from the order (answered or not).
    pub(crate) processed: usize,
}

/// Sends each resident of `order` (indices into the grab's tokens) one claim
/// over `connections` connections, until the order is done or `stop` is set.
pub(crate) async fn load(
    addr: SocketAddr,
    target: &Target,
    order: Arc<Vec<usize>>,
    connections: usize,
    stop: Arc<AtomicBool>,
    started: Instant,
    last_sale: Arc<crate::run::LastSale>,
) -> Seen {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (order, next, stop, tokens, last_sale) =
            (order.clone(), next.clone(), stop.clone(), target.tokens.clone(), last_sale.clone());
        let solutions = target.solutions.clone();
        let (batch, keys) = (target.batch, target.keys);
        tasks.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut conn: Option<Conn> = None;
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&who) = order.get(i) else { break };
                seen.processed += 1;
                let c = match conn.take() {
                    Some(c) => c,
                    None => match Conn::connect(addr).await {
                        Ok(c) => c,
                        Err(_) => {
                            seen.unanswered.push(who);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                let mut c = c;
                let t = Instant::now();
                let pow = solutions.as_ref().and_then(|s| s.get(who));
                match c.request(&claim_request(batch, &tokens[who], keys.then_some(i), who, pow)).await {
                    Ok((status, body)) => {
                        seen.latencies.push(t.elapsed());
                        *seen.statuses.entry(status).or_insert(0) += 1;
                        if status == 201 {
                            last_sale.mark(started);
                            let id = serde_json::from_slice::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|v| v["claim_id"].as_str().and_then(|s| s.parse().ok()));
                            // A 201 without a claim id would be a server bug; the
                            // check after the run then finds a claim not acknowledged.
                            if let Some(id) = id {
                                seen.acknowledged.push(id);
                            }
                        } else if status == 429 || status >= 500 {
                            seen.unanswered.push(who);
                        }
                        conn = Some(c);
                    }
                    Err(_) => seen.unanswered.push(who),
                }
            }
            seen
        }));
    }
    let mut all = Seen::default();
    for t in tasks {
        if let Ok(s) = t.await {
            all.acknowledged.extend(s.acknowledged);
            for (k, v) in s.statuses {
                *all.statuses.entry(k).or_insert(0) += v;
            }
            all.latencies.extend(s.latencies);
            all.unanswered.extend(s.unanswered);
            all.processed += s.processed;
        }
    }
    all
}

/// What the load generator's requests name: a batch, the residents'
/// tokens, and whether each claim carries an `Idempotency-Key`
/// (`HttpBench::keys`).
pub(crate) struct Target {
    pub(crate) batch: BatchId,
    pub(crate) tokens: Arc<Vec<String>>,
    pub(crate) keys: bool,
    /// Each resident's solved proof-of-work challenge (challenge, nonce),
    /// when the batch asks for one.
    pub(crate) solutions: Option<Arc<Vec<(String, String)>>>,
}

/// How hard residents keep pressing: over how many connections, how many
/// of them at most, for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pressing {
    pub(crate) connections: usize,
    pub(crate) residents: usize,
    pub(crate) seconds: u64,
}

/// Residents who keep pressing after the stock is gone, for
/// `o.seconds`: two per connection, over and over (their tokens and
/// the sold-out batch are in the node's memory). Returns what was seen,
/// when it started and how long it took.
pub(crate) async fn keep_pressing(addr: SocketAddr, target: &Target, o: Pressing) -> Pressed {
    let stop = Arc::new(AtomicBool::new(false));
    let keen = (o.connections * 2).min(o.residents).min(target.tokens.len()).max(1);
    let repeat: Arc<Vec<usize>> = Arc::new((0..2_000).flat_map(|_| 0..keen).collect());
    let s2 = stop.clone();
    let seconds = o.seconds;
    let timer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        s2.store(true, Ordering::Relaxed);
    });
    let t = Instant::now();
    let m = load(addr, target, repeat, o.connections, stop, t, Arc::new(Default::default())).await;
    let _ = timer.await;
    Pressed { seen: m, started: t, took: t.elapsed() }
}

/// What [`keep_pressing`] saw.
pub(crate) struct Pressed {
    pub(crate) seen: Seen,
    pub(crate) started: Instant,
    pub(crate) took: Duration,
}

/// The line of a run of sold-out answers: every answer should be a 409, or
/// a 429 of an account's rate limit (the keen press again and again; both
/// are answered from the node's memory).
pub(crate) fn sold_out_run(name: &str, p: Pressed) -> Run {
    let answers: usize = p.seen.statuses.values().sum();
    let ok = if p.seen.statuses.keys().all(|s| *s == 409) {
        "ok: every answer 409 sold_out".to_owned()
    } else if p.seen.statuses.keys().all(|s| *s == 409 || *s == 429) {
        format!(
            "ok: every answer from memory: {} 409 sold_out, {} 429 rate_limited (the account's limit)",
            p.seen.statuses.get(&409).unwrap_or(&0),
            p.seen.statuses.get(&429).unwrap_or(&0)
        )
    } else {
        format!("answers {:?}", p.seen.statuses)
    };
    crate::run::finish(name, answers, 0, p.started, p.took, p.took, p.seen.latencies, ok)
}
