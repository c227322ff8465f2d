//! `quan bench claim --http --defences`: the HTTP grab again with the
//! defences in the load. The batch opens during the run, with the fair
//! admission window and proof of work; before the opening every resident
//! fetches its challenge (`POST /api/v1/batches/{id}/challenge`) and solves
//! it, as the H5 does from the lead time on; at the opening all press, each
//! claim carrying its solution. The server asks for `DEFENDED_POW_BITS` bits (the
//! server checks one hash whatever the bits; fewer keep the load generator
//! from spending the machine's cores on solving). Claims per second are
//! counted from the window's end, when the draw admits the first of them,
//! to the last sale, and compared in the same run with the grab without
//! the defences.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quan_http::client::Conn;

use crate::http::{Backend, Grab, HttpBench, checked, drop_database, prepare_grab, start_server};
use crate::load::{Target, load, resident_post};
use crate::run::Run;

use crate::http::DEFENDED_WINDOW_S as WINDOW_S;
/// The leg's name starts so (then the backend).
pub const DEFENDED_RUN: &str = "quan over HTTP, window + proof of work";

/// One defended grab end to end on `backend`.
pub async fn defended_run(o: &HttpBench, backend: Backend) -> anyhow::Result<Run> {
    // Time to prepare the residents, start the server and fetch and solve
    // every challenge before the opening (whole seconds, as batches keep it).
    let lead = 20 + i64::try_from(o.residents / 4_000).unwrap_or(i64::MAX / 2);
    let now = chrono::Utc::now().timestamp();
    let opening = chrono::DateTime::from_timestamp(now + lead, 0).unwrap_or_default();
    let g = prepare_grab(o, backend, Some(opening)).await?;
    let result = press(o, &g, opening).await;
    drop_database(&g).await;
    result
}

async fn press(o: &HttpBench, g: &Grab, opening: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Run> {
    let mut server = start_server(g).await?;
    let fetched = fetch_all(server.addr, &g.target, o.residents, o.connections).await?;
    let solutions = solve_all(fetched).await?;
    let wait = (opening - chrono::Utc::now()).to_std().map_err(|_| {
        anyhow::anyhow!("the opening passed before every challenge was fetched and solved; try fewer --residents")
    })?;
    tokio::time::sleep(wait).await;
    let target = Target {
        batch: g.target.batch,
        tokens: g.target.tokens.clone(),
        keys: g.target.keys,
        solutions: Some(Arc::new(solutions)),
    };
    let order = Arc::new(crate::setup::shuffled_order(o.residents));
    let attempts = order.len();
    let opened = Instant::now();
    let draw = opened + Duration::from_secs(u64::from(WINDOW_S));
    let last = Arc::new(crate::run::LastSale::default());
    let seen =
        load(server.addr, &target, order, o.connections, Arc::new(AtomicBool::new(false)), draw, last.clone()).await;
    let elapsed = opened.elapsed();
    let _ = server.child.kill();
    let _ = server.child.wait();
    let invariants = checked(g, &seen).await?;
    let acknowledged = seen.acknowledged.len();
    let name = format!("{DEFENDED_RUN}, {}, {} connections", g.backend.name(), o.connections);
    Ok(crate::run::finish(&name, attempts, acknowledged, draw, elapsed, last.get(), seen.latencies, invariants))
}

/// Every resident's challenge (and its bits), fetched over `connections`.
async fn fetch_all(
    addr: std::net::SocketAddr,
    target: &Target,
    residents: usize,
    connections: usize,
) -> anyhow::Result<Vec<(String, u8)>> {
    let next = Arc::new(AtomicUsize::new(0));
    let path = Arc::new(format!("/api/v1/batches/{}/challenge", target.batch));
    let mut tasks = Vec::new();
    for _ in 0..connections.clamp(1, 256) {
        let (next, path, tokens) = (next.clone(), path.clone(), target.tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            let mut conn = Conn::connect(addr).await?;
            loop {
                let who = next.fetch_add(1, Ordering::Relaxed);
                if who >= residents {
                    return Ok::<_, anyhow::Error>(got);
                }
                let (status, body) = conn.request(&resident_post(&path, &tokens[who], "", who, "{}")).await?;
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if status != 200 {
                    bail!("resident {who}'s challenge was answered {status}: {v}");
                }
                let bits = v["bits"].as_u64().and_then(|b| u8::try_from(b).ok()).context("a challenge's bits")?;
                got.push((who, v["challenge"].as_str().unwrap_or_default().to_owned(), bits));
            }
        }));
    }
    let mut all = vec![(String::new(), 0u8); residents];
    for t in tasks {
        for (who, challenge, bits) in t.await?? {
            all[who] = (challenge, bits);
        }
    }
    Ok(all)
}

/// Solves every challenge on every core; (challenge, nonce) per resident.
async fn solve_all(fetched: Vec<(String, u8)>) -> anyhow::Result<Vec<(String, String)>> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let size = fetched.len().div_ceil(cores).max(1);
    let mut tasks = Vec::new();
    for chunk in fetched.chunks(size) {
        let chunk = chunk.to_vec();
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk.into_iter().map(|(c, bits)| (quan_domain::pow::solve(&c, bits), c)).collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::with_capacity(fetched.len());
    for t in tasks {
        out.extend(t.await?.into_iter().map(|(nonce, c)| (c, nonce)));
    }
    Ok(out)
}
