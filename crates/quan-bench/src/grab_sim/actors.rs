//! The simulation's accounts as the engine sees them (residents with their
//! numbers and registration times, devices and addresses), the engine they
//! meet, and how long each kind takes to solve a proof of work.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;

use chrono::Duration;
use quan_domain::FixedClock;
use quan_engine::claims::{ClaimContext, PowSolution};
use quan_engine::risk::config::RiskConfig;
use quan_engine::{Actor, Engine, EngineConfig, EngineParts, MemorySmsSender, PiiKey, SeededRandom};
use quan_store::Store;
use quan_store_sqlite::{SqliteOptions, SqliteStore};

use super::population::{Account, Kind};

/// The grab's opening second.
pub fn opening() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default()
}

/// The bits a deployment asks of everyone (`risk.pow_bits`), and the bits
/// each point of signal adds (`risk.signals.bits_per_point`).
pub const NOMINAL_BASE_BITS: u8 = 15;
pub const NOMINAL_BITS_PER_POINT: u8 = 3;

/// SHA-256 hashes a second one account of each kind can spend on its
/// challenge: a phone's browser (the H5's worker did ~111 000 a second in
/// headless Chromium on one core here; a mid-range phone taken as a third
/// of that), a farm's servers shared by its accounts, a replayer's PC, a
/// GPU shared by its accounts.
pub fn hashes_per_s(kind: Kind) -> f64 {
    match kind {
        Kind::Human | Kind::Card => 37_000.0,
        Kind::Farm => 800_000.0,
        Kind::Replay => 1_000_000.0,
        Kind::Gpu => 3_000_000.0,
    }
}

/// The simulation's engine asks for `real` bits (few, so solving costs the
/// simulation nothing): base 0 and one bit a point. They stand for
/// `NOMINAL_BASE_BITS + NOMINAL_BITS_PER_POINT × real` bits of a real
/// deployment, and that is what the time to solve is reckoned from.
pub fn solve_seconds(kind: Kind, real_bits: u8) -> f64 {
    let nominal = f64::from(NOMINAL_BASE_BITS) + f64::from(NOMINAL_BITS_PER_POINT) * f64::from(real_bits);
    2f64.powf(nominal) / hashes_per_s(kind)
}

pub async fn engine(seed: u64, dir: &Path, clock: Arc<FixedClock>) -> anyhow::Result<(Engine, sqlx::SqlitePool)> {
    let store = SqliteStore::open(&dir.join("quan.db"), SqliteOptions::default()).await?;
    let pool = store.pool().clone();
    let store: Arc<dyn Store> = Arc::new(store);
    let mut risk = RiskConfig { pow_bits: 0, ..RiskConfig::default() };
    risk.signals.bits_per_point = 1;
    risk.signals.extra_bits_max = 4;
    let engine = Engine::new(EngineParts {
        store,
        clock,
        random: Arc::new(SeededRandom::new(seed)),
        sms: Arc::new(MemorySmsSender::default()),
        pii_key: PiiKey::from_bytes([7; 32]),
        config: EngineConfig {
            password: quan_engine::PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 },
            admission_drawn_by_caller: true,
            risk,
            ..EngineConfig::default()
        },
    });
    Ok((engine, pool))
}

/// Account `i`'s resident (and session) id.
pub fn resident_uuid(i: usize) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + i as u128)
}

/// Every account as the engine sees it.
pub struct Actors {
    actors: Vec<Actor>,
    kinds: Vec<Kind>,
    devices: Vec<String>,
    addresses: Vec<IpAddr>,
}

impl Actors {
    /// Stores every account as a resident (number prefix, registration time).
    pub async fn new(pool: &sqlx::SqlitePool, accounts: &[Account]) -> anyhow::Result<Actors> {
        let rows: Vec<(uuid::Uuid, Vec<u8>, String, i64)> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let id = resident_uuid(i);
                let created = (opening() - Duration::minutes(a.registered_min_before)).timestamp_millis();
                (id, crate::setup::phone_hash(i).to_vec(), format!("{}****{:04}", a.prefix, i % 10_000), created)
            })
            .collect();
        let actors = crate::setup::resident_actors(pool, rows).await?;
        Ok(Actors {
            actors,
            kinds: accounts.iter().map(|a| a.kind).collect(),
            devices: accounts.iter().map(|a| format!("device-{:012}", a.device)).collect(),
            addresses: accounts.iter().map(|a| IpAddr::V4(Ipv4Addr::from(a.address))).collect(),
        })
    }

    pub fn actor(&self, i: usize) -> Actor {
        self.actors[i].clone()
    }

    pub fn kind(&self, i: usize) -> Kind {
        self.kinds[i]
    }

    pub fn context(&self, i: usize, pow: Option<PowSolution>) -> ClaimContext {
        ClaimContext { device: Some(self.devices[i].clone()), address: Some(self.addresses[i]), pow }
    }
}

/// Real-name-checked identities for the accounts marked in `checked` (a
/// number of their own each, checked the day before).
pub async fn checked_identities(pool: &sqlx::SqlitePool, checked: &[bool]) -> anyhow::Result<()> {
    let day_before = (opening() - Duration::days(1)).timestamp_millis();
    let rows: Vec<(uuid::Uuid, [u8; 32])> = checked
        .iter()
        .enumerate()
        .filter(|(_, c)| **c)
        .map(|(i, _)| {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
            (resident_uuid(i), hash)
        })
        .collect();
    crate::setup::sqlite_insert(
        pool,
        "INSERT INTO resident_identities (resident_id, id_hash, id_masked, household_region, birth_date, verified_at_ms, real_name_at_ms)",
        "(?, ?, '4****************X', '420502', '1990-01-01', ?, ?)",
        &rows,
        |q, r| q.bind(r.0).bind(r.1.as_slice()).bind(day_before).bind(day_before),
    )
    .await
}
