//! One simulated grab through the real engine on a fresh SQLite store, in
//! simulated time: the window's presses wait for its draw, which the
//! simulation makes when its clock passes the window's end; after it,
//! presses go in slices of `SLICE_MS`, each slice's at once.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use quan_domain::{BatchId, FixedClock, ResidentId, Role, SessionId};
use quan_engine::{Actor, Engine, EngineConfig, EngineParts, MemorySmsSender, PiiKey, SeededRandom};
use quan_store::{Resident, Store};
use quan_store_sqlite::{SqliteOptions, SqliteStore};

use super::population::{Account, Attempt};

/// Presses after the window that count as simultaneous.
const SLICE_MS: i64 = 10;

/// What one attempt was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub attempt: Attempt,
    /// `claimed`, or the refusal's code.
    pub code: String,
}

fn opening() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default()
}

/// Runs the grab: every attempt through `Engine::claim`, answered.
pub async fn grab(
    seed: u64,
    stock: u32,
    window_s: u32,
    accounts: &[Account],
    attempts: &[Attempt],
) -> anyhow::Result<Vec<Answer>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default()).await?;
    let pool = store.pool().clone();
    let store: Arc<dyn Store> = Arc::new(store);
    let clock = Arc::new(FixedClock::new(opening() - Duration::days(10)));
    let engine = Engine::new(EngineParts {
        store: store.clone(),
        clock: clock.clone(),
        random: Arc::new(SeededRandom::new(seed)),
        sms: Arc::new(MemorySmsSender::default()),
        pii_key: PiiKey::from_bytes([7; 32]),
        config: EngineConfig {
            password: quan_engine::PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 },
            admission_drawn_by_caller: true,
            ..EngineConfig::default()
        },
    });
    let official = crate::setup::staff(&engine, "sim.official", Role::Official).await?;
    let w = crate::setup::Window { admission_window_s: window_s, ..crate::setup::Window::december() };
    let (_, batch) = crate::setup::open_grab(&engine, &official, stock, &w, false, false).await?;
    let actors = Arc::new(residents(&pool, accounts).await?);
    let mut order: Vec<Attempt> = attempts.to_vec();
    order.sort_by_key(|a| (a.at_ms, a.account));
    let window_ms = i64::from(window_s) * 1000;
    let (inside, after): (Vec<Attempt>, Vec<Attempt>) = order.into_iter().partition(|a| a.at_ms < window_ms);
    let mut answers = Vec::with_capacity(attempts.len());
    if window_s > 0 {
        clock.set(opening() + Duration::milliseconds(1));
        answers.extend(window_presses(&engine, batch, &actors, inside).await?);
        clock.set(opening() + Duration::milliseconds(window_ms));
    } else {
        answers.extend(slices(&engine, &clock, batch, &actors, inside).await?);
    }
    answers.extend(slices(&engine, &clock, batch, &actors, after).await?);
    drop(engine);
    pool.close().await;
    Ok(answers)
}

async fn press(engine: &Engine, batch: BatchId, actor: &Actor, attempt: Attempt) -> Answer {
    let code = match engine.claim(actor, batch, None, None).await {
        Ok(_) => "claimed".to_owned(),
        Err(e) => quan_engine::Rejection::code(&e).to_owned(),
    };
    Answer { attempt, code }
}

/// The window's presses: all sent, held by the engine, then drawn.
async fn window_presses(
    engine: &Engine,
    batch: BatchId,
    actors: &Arc<Vec<Actor>>,
    inside: Vec<Attempt>,
) -> anyhow::Result<Vec<Answer>> {
    let n = inside.len();
    let mut tasks = tokio::task::JoinSet::new();
    for a in inside {
        let (engine, actors) = (engine.clone(), actors.clone());
        tasks.spawn(async move { press(&engine, batch, &actors[a.account], a).await });
    }
    // Every press is either held for the draw or already answered.
    let started = std::time::Instant::now();
    while engine.admission_waiting(batch) + tasks.len().abs_diff(n) < n {
        anyhow::ensure!(started.elapsed().as_secs() < 120, "the window's presses did not all arrive");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    engine.draw_admission_window(batch).await;
    let mut out = Vec::with_capacity(n);
    while let Some(a) = tasks.join_next().await {
        out.push(a?);
    }
    Ok(out)
}

/// Presses first come, first served: each slice's together, slice by slice.
async fn slices(
    engine: &Engine,
    clock: &FixedClock,
    batch: BatchId,
    actors: &Arc<Vec<Actor>>,
    presses: Vec<Attempt>,
) -> anyhow::Result<Vec<Answer>> {
    let mut by_slice: Vec<(i64, Vec<Attempt>)> = Vec::new();
    for a in presses {
        let s = a.at_ms.div_euclid(SLICE_MS);
        match by_slice.last_mut() {
            Some((k, v)) if *k == s => v.push(a),
            _ => by_slice.push((s, vec![a])),
        }
    }
    let mut out = Vec::new();
    for (s, group) in by_slice {
        clock.set(opening() + Duration::milliseconds(s * SLICE_MS));
        let mut tasks = tokio::task::JoinSet::new();
        for a in group {
            let (engine, actors) = (engine.clone(), actors.clone());
            tasks.spawn(async move { press(&engine, batch, &actors[a.account], a).await });
        }
        while let Some(a) = tasks.join_next().await {
            out.push(a?);
        }
    }
    Ok(out)
}

/// Every account as a resident in the store, and as an actor.
async fn residents(pool: &sqlx::SqlitePool, accounts: &[Account]) -> anyhow::Result<Vec<Actor>> {
    let rows: Vec<(uuid::Uuid, Vec<u8>, String, i64)> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + i as u128);
            let created = (opening() - Duration::minutes(a.registered_min_before)).timestamp_millis();
            (id, crate::setup::phone_hash(i).to_vec(), format!("{}****{:04}", a.prefix, i % 10_000), created)
        })
        .collect();
    crate::setup::sqlite_insert(
        pool,
        "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms)",
        "(?, ?, ?, ?)",
        &rows,
        |q, r| q.bind(r.0).bind(r.1.as_slice()).bind(r.2.as_str()).bind(r.3),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hash, masked, created)| {
            let mut h = [0u8; 32];
            h.copy_from_slice(&hash);
            Actor::Resident {
                session: SessionId::from_uuid(id),
                resident: Resident {
                    id: ResidentId::from_uuid(id),
                    phone_hash: quan_domain::KeyedHash::from_bytes(h),
                    phone_masked: masked,
                    created_at: quan_store::sql::at(created),
                },
            }
        })
        .collect())
}
