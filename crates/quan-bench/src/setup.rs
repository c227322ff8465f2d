//! What every benchmark sets up the same way: an engine on a store with a
//! cheap password hash, staff accounts, an open grab batch, the residents'
//! arrival order, and a throwaway PostgreSQL database.

use std::sync::Arc;

use anyhow::Context;
use quan_domain::campaign::CampaignCommand as Cmd;
use quan_domain::{BatchId, CampaignId, FixedClock, Region, Role, SessionId, Username};
use quan_engine::campaigns::CampaignFile;
use quan_engine::{Actor, Engine, EngineConfig, EngineParts, MemorySmsSender, PiiKey, Random, SystemRandom};
use quan_store::Store;

/// An engine for a benchmark: a random personal-data key, the in-memory SMS
/// outbox, and a cheap password hash (accounts are made by the thousand).
pub fn engine(store: Arc<dyn Store>, clock: Arc<FixedClock>) -> Engine {
    engine_with(store, clock, EngineConfig::default())
}

/// As [`engine`], from `config` (its password hash made cheap).
pub fn engine_with(store: Arc<dyn Store>, clock: Arc<FixedClock>, config: EngineConfig) -> Engine {
    let mut key = [0u8; 32];
    SystemRandom.fill(&mut key);
    Engine::new(EngineParts {
        store,
        clock,
        random: Arc::new(SystemRandom),
        sms: Arc::new(MemorySmsSender::default()),
        pii_key: PiiKey::from_bytes(key),
        config: EngineConfig {
            password: quan_engine::PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 },
            ..config
        },
    })
}

/// The password every benchmark account gets.
pub const PASSWORD: &str = "bench password 1";

/// A staff account of Yichang (4205), as an actor without a session.
pub async fn staff(engine: &Engine, username: &str, role: Role) -> anyhow::Result<Actor> {
    let new = quan_engine::users::NewAccount {
        username: Username::parse(username)?,
        role,
        region: Region::parse("4205")?,
        display_name: "bench".into(),
        password: Some(PASSWORD.into()),
    };
    let (user, _) = engine.create_user_unchecked(new, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user })
}

/// When a grab runs: the batch's window (RFC 3339) and the campaign's days.
#[derive(Debug, Clone)]
pub struct Window {
    pub opening_at: String,
    pub closing_at: String,
    pub starts_on: String,
    pub ends_on: String,
    /// The fair admission window (0: first come, first served from the opening).
    pub admission_window_s: u32,
}

impl Window {
    /// 2026-12-05, 10:00 to 22:00 in UTC+8, in a December campaign.
    pub fn december() -> Window {
        Window {
            opening_at: "2026-12-05T10:00:00+08:00".into(),
            closing_at: "2026-12-05T22:00:00+08:00".into(),
            starts_on: "2026-12-01".into(),
            ends_on: "2026-12-31".into(),
            admission_window_s: 0,
        }
    }
}

/// The name of the list a grab with `on_list` is open to.
pub const LIST_NAME: &str = "bench-list";

/// Creates, funds and starts a campaign with one grab batch of `stock` ¥10
/// instant vouchers (one per account, or per person when `per_person`;
/// open only to the members of `LIST_NAME` when `on_list`; valid three days
/// after the claim), with an admission window of `w.admission_window_s`.
pub async fn open_grab(
    engine: &Engine,
    official: &Actor,
    stock: u32,
    w: &Window,
    per_person: bool,
    on_list: bool,
) -> anyhow::Result<(CampaignId, BatchId)> {
    let count_by = if per_person { "person" } else { "account" };
    let lists: Vec<&str> = if on_list { vec![LIST_NAME] } else { vec![] };
    let rules = serde_json::json!({"limits": {"per_batch": 1, "count_by": count_by}, "eligibility": {"lists": lists}});
    open_grab_batch(engine, official, stock, w, rules).await
}

/// A grab as `open_grab` makes it (one per account, no list), asking for
/// proof of work when `pow` and a real-name check when `real_name`.
pub async fn open_grab_with(
    engine: &Engine,
    official: &Actor,
    stock: u32,
    w: &Window,
    pow: bool,
    real_name: bool,
) -> anyhow::Result<(CampaignId, BatchId)> {
    let rules = serde_json::json!({"proof_of_work": pow, "require_real_name": real_name,
        "limits": {"per_batch": 1, "count_by": "account"}});
    open_grab_batch(engine, official, stock, w, rules).await
}

/// The campaign of both: its one batch's fields besides the stock and the
/// window are `rules` (an object merged into the batch).
pub(crate) async fn open_grab_batch(
    engine: &Engine,
    official: &Actor,
    stock: u32,
    w: &Window,
    rules: serde_json::Value,
) -> anyhow::Result<(CampaignId, BatchId)> {
    let face = 1000i64;
    let budget = i64::from(stock) * face;
    let mut batch = serde_json::json!({"name": "grab", "opening_at": w.opening_at, "closing_at": w.closing_at, "admission_window_s": w.admission_window_s,
        "kinds": [{"stock": stock, "kind": {"code": "k", "name": "立减", "discount": {"type": "instant", "off_fen": face}, "validity": {"type": "days_after_claim", "days": 3}}}]});
    if let (Some(b), Some(r)) = (batch.as_object_mut(), rules.as_object()) {
        b.extend(r.clone());
    }
    let file: CampaignFile = serde_json::from_value(serde_json::json!({
        "campaign": {"name": "bench", "region": "4205", "budget_fen": budget, "funding_source": "bench", "starts_on": w.starts_on, "ends_on": w.ends_on},
        "batches": [batch]
    }))?;
    let e = |x: &dyn std::fmt::Display| anyhow::anyhow!("{x}");
    let (c, batches) = engine.create_campaign(official, file).await.map_err(|x| e(&x))?;
    engine
        .change_campaign(official, c.id, Cmd::Fund { amount: quan_domain::Fen::new(budget) }, "bench")
        .await
        .map_err(|x| e(&x))?;
    engine.change_campaign(official, c.id, Cmd::Start, "").await.map_err(|x| e(&x))?;
    Ok((c.id, batches[0].id))
}

/// Rows a SQLite setup statement inserts at once (bench setup only).
const SQLITE_ROWS_AT_ONCE: usize = 500;

/// A SQLite setup statement's argument list.
pub type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Inserts `items` into SQLite in one transaction, `SQLITE_ROWS_AT_ONCE`
/// rows a statement: `head` is `INSERT INTO t (columns)`, `row` one row's
/// values with `?` for what `bind` binds (a million residents took two
/// minutes a row at a time, a few seconds this way).
pub async fn sqlite_insert<'q, T>(
    pool: &sqlx::SqlitePool,
    head: &str,
    row: &str,
    items: &'q [T],
    bind: impl Fn(SqliteQuery<'q>, &'q T) -> SqliteQuery<'q>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in items.chunks(SQLITE_ROWS_AT_ONCE) {
        let sql = format!("{head} VALUES {}", vec![row; chunk.len()].join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for item in chunk {
            q = bind(q, item);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A verified identity for each resident (a distinct ID hash each,
/// household 420502), as residents of a per-person grab have.
pub async fn insert_identities(
    pg: Option<&sqlx::PgPool>,
    sqlite: Option<&sqlx::SqlitePool>,
    residents: &[uuid::Uuid],
) -> anyhow::Result<()> {
    let hash = |r: &uuid::Uuid| {
        let mut h = [0x1du8; 32];
        h[..16].copy_from_slice(r.as_bytes());
        h.to_vec()
    };
    const SQL: &str = "INSERT INTO resident_identities (resident_id, id_hash, id_masked, household_region, birth_date, verified_at_ms)";
    if let Some(pool) = pg {
        for chunk in residents.chunks(10_000) {
            let hashes: Vec<Vec<u8>> = chunk.iter().map(hash).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!("{SQL} SELECT r, h, '4****************1', '420502', '1990-01-01', 0 FROM UNNEST($1::uuid[], $2::bytea[]) AS t(r, h)")))
                .bind(chunk)
                .bind(&hashes)
                .execute(pool)
                .await?;
        }
    } else if let Some(pool) = sqlite {
        sqlite_insert(pool, SQL, "(?, ?, '4****************1', '420502', '1990-01-01', 0)", residents, |q, r| {
            q.bind(r).bind(hash(r))
        })
        .await?;
    }
    Ok(())
}

/// The keyed hash of the `i`th bench resident's phone number.
pub fn phone_hash(i: usize) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&(i as u64).to_le_bytes());
    h[8] = 0xbe;
    h
}

/// The list `LIST_NAME` with the phones of the first `n` bench residents.
pub async fn insert_list(pg: Option<&sqlx::PgPool>, sqlite: Option<&sqlx::SqlitePool>, n: usize) -> anyhow::Result<()> {
    let id = uuid::Uuid::now_v7();
    const LIST: &str =
        "INSERT INTO eligibility_lists (id, name, region, created_by, created_at_ms) VALUES ($1, $2, '4205', $1, 0)";
    const MEMBER: &str = "INSERT INTO list_members (list_id, kind, member_hash, added_at_ms)";
    if let Some(pool) = pg {
        sqlx::query(LIST).bind(id).bind(LIST_NAME).execute(pool).await?;
        for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
            let hashes: Vec<Vec<u8>> = chunk.iter().map(|i| phone_hash(*i).to_vec()).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{MEMBER} SELECT $1, 'phone', h, 0 FROM UNNEST($2::bytea[]) AS t(h)"
            )))
            .bind(id)
            .bind(&hashes)
            .execute(pool)
            .await?;
        }
    } else if let Some(pool) = sqlite {
        sqlx::query(LIST).bind(id).bind(LIST_NAME).execute(pool).await?;
        let members: Vec<usize> = (0..n).collect();
        sqlite_insert(pool, MEMBER, "(?, 'phone', ?, 0)", &members, |q, i| q.bind(id).bind(phone_hash(*i).to_vec()))
            .await?;
    }
    Ok(())
}

/// Every resident once and a fifth of them again (repeat attempts), shuffled.
pub fn shuffled_order(residents: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..residents).collect();
    order.extend((0..residents).step_by(5));
    let mut r = [0u8; 8];
    for i in (1..order.len()).rev() {
        SystemRandom.fill(&mut r);
        order.swap(i, (u64::from_le_bytes(r) % (i as u64 + 1)) as usize);
    }
    order
}

/// A new, empty database `name` on the PostgreSQL server at `admin_url`
/// (dropped first if a crashed run left it); returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin =
        <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await.context("PostgreSQL for the benchmark")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    let url = {
        use std::str::FromStr;
        sqlx::postgres::PgConnectOptions::from_str(admin_url)?.database(name)
    };
    Ok(sqlx::ConnectOptions::to_url_lossy(&url).to_string())
}

/// Drops a benchmark database; a failure is only reported.
pub async fn drop_database(admin_url: &str, name: &str) {
    let dropped = match <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await {
        Ok(mut c) => sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut c)
            .await
            .map(|_| ())
            .map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = dropped {
        eprintln!("could not drop the benchmark database {name}: {e:#}");
    }
}

/// One resident to store: id, phone hash, masked phone, registration instant (ms).
pub type ResidentRow = (uuid::Uuid, Vec<u8>, String, i64);

/// Stores `rows` as residents and gives each as the engine's actor (its
/// session id is its resident id).
pub async fn resident_actors(pool: &sqlx::SqlitePool, rows: Vec<ResidentRow>) -> anyhow::Result<Vec<Actor>> {
    sqlite_insert(
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
                resident: quan_store::Resident {
                    id: quan_domain::ResidentId::from_uuid(id),
                    phone_hash: quan_domain::KeyedHash::from_bytes(h),
                    phone_masked: masked,
                    created_at: quan_store::sql::at(created),
                },
            }
        })
        .collect())
}
