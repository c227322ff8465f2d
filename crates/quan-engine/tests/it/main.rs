//! Engine use cases over a real SQLite store, with a fixed clock and a
//! seeded random source.

mod accounts;
mod districts;
mod session_memory;

use std::sync::Arc;

use chrono::DateTime;
use quan_domain::FixedClock;
use quan_engine::{Engine, EngineConfig, EngineParts, MemorySmsSender, PasswordParams, PiiKey, SeededRandom};
use quan_store_sqlite::{SqliteOptions, SqliteStore};

#[derive(Debug)]
pub struct Harness {
    pub engine: Engine,
    pub clock: Arc<FixedClock>,
    pub sms: Arc<MemorySmsSender>,
    _dir: tempfile::TempDir,
}

pub async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store =
        SqliteStore::open(&dir.path().join("q.db"), SqliteOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(FixedClock::new(DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()));
    let sms = Arc::new(MemorySmsSender::default());
    let config =
        EngineConfig { password: PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 }, ..EngineConfig::default() };
    let engine = Engine::new(EngineParts {
        store: Arc::new(store),
        clock: clock.clone(),
        random: Arc::new(SeededRandom::new(42)),
        sms: sms.clone(),
        pii_key: PiiKey::from_bytes([7; 32]),
        config,
    });
    Harness { engine, clock, sms, _dir: dir }
}
