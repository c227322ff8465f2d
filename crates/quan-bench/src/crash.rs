//! `quan bench claim --crash N`: the grab with the server killed and
//! restarted, then the invariants.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use quan_engine::{Random, SystemRandom};

use crate::http::{Backend, Grab, HttpBench, check, drop_database, prepare, start_server};
use crate::load::load;

/// The outcome of `--crash N` on one backend.
#[derive(Debug, serde::Serialize)]
pub struct CrashReport {
    pub backend: String,
    pub kills: u32,
    pub acknowledged: usize,
    pub stored: u64,
    pub unanswered: usize,
    pub problems: Vec<String>,
}

/// `--crash N`: the grab, with the server killed by SIGKILL at random
/// moments `kills` times and restarted; then the invariants.
pub async fn crash_run(o: &HttpBench, backend: Backend, kills: u32, progress: bool) -> anyhow::Result<CrashReport> {
    let g = prepare(o, backend).await?;
    let result = crash_run_on(o, &g, kills, progress).await;
    if result.as_ref().is_ok_and(|r| r.problems.is_empty()) {
        drop_database(&g).await;
    } else {
        // Kept for a look: the database (SQLite file or PostgreSQL database) and the server log.
        let kept = g.dir.keep();
        eprintln!("kept for inspection: {} ({:?})", kept.display(), g.pg_drop.as_ref().map(|(_, n)| n));
    }
    result
}

async fn crash_run_on(o: &HttpBench, g: &Grab, kills: u32, progress: bool) -> anyhow::Result<CrashReport> {
    let mut todo: Vec<usize> = crate::setup::shuffled_order(o.residents);
    let mut acknowledged = Vec::new();
    let mut unanswered_total = 0usize;
    let mut r = [0u8; 8];
    for round in 0..=kills {
        let server = start_server(g).await?;
        let last_round = round == kills;
        // The last round, without a kill, goes on until everyone has an
        // answer (a `busy` answer is tried again), at most 20 passes.
        let mut passes = 0;
        loop {
            passes += 1;
            let stop = Arc::new(AtomicBool::new(false));
            let order = Arc::new(std::mem::take(&mut todo));
            let killer = (!last_round).then(|| {
                SystemRandom.fill(&mut r);
                let after = Duration::from_millis(30 + u64::from_le_bytes(r) % 400);
                let pid = server.child.id();
                let stop = stop.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    // SIGKILL: no chance to finish anything.
                    let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    stop.store(true, Ordering::Relaxed);
                    after
                })
            });
            let seen =
                load(server.addr, &g.target, order.clone(), o.connections, stop, Instant::now(), Arc::default()).await;
            let killed_after = match killer {
                Some(k) => Some(k.await?),
                None => None,
            };
            // Those left without an answer, and those never reached because
            // the load stopped, try again (after the restart).
            todo = seen.unanswered.clone();
            todo.extend(order.iter().skip(seen.processed).copied());
            unanswered_total += seen.unanswered.len();
            if progress {
                eprintln!(
                    "{} round {}/{}: {} acknowledged, {} unanswered{}",
                    g.backend.name(),
                    round + 1,
                    kills + 1,
                    seen.acknowledged.len(),
                    seen.unanswered.len(),
                    killed_after.map(|d| format!(", SIGKILL after {} ms", d.as_millis())).unwrap_or_default()
                );
            }
            acknowledged.extend(seen.acknowledged);
            if !last_round || todo.is_empty() || passes >= 20 {
                break;
            }
        }
        drop(server);
    }
    if !todo.is_empty() {
        bail!("{} residents were still unanswered after 20 passes of the last round", todo.len());
    }
    // The last round ran until every resident had an answer (or the stock was gone).
    let (stored, problems) = check(g, &acknowledged).await?;
    Ok(CrashReport {
        backend: g.backend.name().into(),
        kills,
        acknowledged: acknowledged.len(),
        stored,
        unanswered: unanswered_total,
        problems,
    })
}

/// `quan bench claim --crash N` on each backend: a report, and an error
/// (exit status 1) when any invariant was violated.
pub async fn crash(o: &HttpBench, backends: &[Backend], kills: u32, json: bool) -> anyhow::Result<String> {
    let mut reports = Vec::new();
    for b in backends {
        reports.push(crash_run(o, *b, kills, !json).await?);
    }
    let violated = reports.iter().any(|r| !r.problems.is_empty());
    let out = if json {
        serde_json::json!({"stock": o.stock, "residents": o.residents, "connections": o.connections, "crash": reports})
            .to_string()
            + "\n"
    } else {
        let mut out = String::new();
        for r in &reports {
            out.push_str(&format!(
                "{}: {} SIGKILLs; {} claims acknowledged, {} stored, {} requests unanswered (retried): {}\n",
                r.backend,
                r.kills,
                r.acknowledged,
                r.stored,
                r.unanswered,
                if r.problems.is_empty() {
                    "ok: every acknowledged claim on disk, nothing oversold, nobody over the limit, audit clean"
                        .to_owned()
                } else {
                    format!("VIOLATED: {}", r.problems.join("; "))
                }
            ));
        }
        out
    };
    if violated {
        bail!("an invariant was violated after the crashes:\n{out}");
    }
    Ok(out)
}
