//! `quan bench claim`: quan's claim engine against the peer approaches in
//! one run — the naive PostgreSQL hot row, and the classic Redis Lua script
//! (durable and not) — with the invariants checked after each run.
#![allow(clippy::float_arithmetic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quan_domain::{FixedClock, ResidentId, Role, SessionId};
use quan_engine::Actor;
use quan_store::{ClaimStore, Resident, Store};
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::run::{LastSale, Run, finish};

#[derive(Debug, Clone)]
pub struct ClaimBench {
    pub stock: u32,
    pub residents: usize,
    pub concurrency: usize,
    pub peer_seconds: u64,
    pub pg_admin_url: String,
    pub redis: String,
    pub skip_peers: bool,
    /// The batch counts claims per person; every resident has an identity.
    pub per_person: bool,
    /// The batch is open only to a list's members; every resident is on it.
    pub on_list: bool,
    /// End to end over HTTP too, on these backends.
    pub http: Option<(crate::http::HttpBench, Vec<crate::http::Backend>)>,
}

/// The 10:00:00 of the benchmark's batch.
fn opening() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default()
}

/// The lines of [`database_alone`].
const DATABASE_ALONE_SQLITE: &str = "database alone, SQLite: the claims' rows";
const DATABASE_ALONE_POSTGRES: &str = "database alone, PostgreSQL: the claims' rows";

pub(crate) async fn insert_residents(
    pg: Option<&sqlx::PgPool>,
    sqlite: Option<&sqlx::SqlitePool>,
    n: usize,
) -> anyhow::Result<Vec<ResidentId>> {
    let ids: Vec<ResidentId> = (0..n).map(|_| ResidentId::from_uuid(uuid::Uuid::now_v7())).collect();
    let hashes: Vec<Vec<u8>> = (0..n).map(|i| crate::setup::phone_hash(i).to_vec()).collect();
    if let Some(pool) = pg {
        for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
            let u: Vec<uuid::Uuid> = chunk.iter().map(|i| ids[*i].as_uuid()).collect();
            let h: Vec<Vec<u8>> = chunk.iter().map(|i| hashes[*i].clone()).collect();
            let m: Vec<String> = chunk.iter().map(|_| "bench".to_owned()).collect();
            let t: Vec<i64> = chunk.iter().map(|_| 0).collect();
            sqlx::query("INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms) SELECT * FROM UNNEST($1::uuid[], $2::bytea[], $3::text[], $4::bigint[])")
                .bind(u).bind(h).bind(m).bind(t)
                .execute(pool)
                .await?;
        }
    } else if let Some(pool) = sqlite {
        let rows: Vec<(uuid::Uuid, &Vec<u8>)> = ids.iter().map(|r| r.as_uuid()).zip(&hashes).collect();
        crate::setup::sqlite_insert(
            pool,
            "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms)",
            "(?, ?, 'bench', 0)",
            &rows,
            |q, (id, hash)| q.bind(*id).bind(hash.as_slice()),
        )
        .await?;
    } else {
        bail!("no pool");
    }
    Ok(ids)
}

async fn engine_run(
    name: &str,
    store: Arc<dyn Store>,
    pg: Option<&sqlx::PgPool>,
    sqlite: Option<&sqlx::SqlitePool>,
    o: &ClaimBench,
) -> anyhow::Result<Run> {
    let clock = Arc::new(FixedClock::new(opening() - chrono::Duration::days(10)));
    let engine = crate::setup::engine(store.clone(), clock.clone());
    let official = crate::setup::staff(&engine, "bench.official", Role::Official).await?;
    let (c, batch) = crate::setup::open_grab(
        &engine,
        &official,
        o.stock,
        &crate::setup::Window::december(),
        o.per_person,
        o.on_list,
    )
    .await?;
    let ids = insert_residents(pg, sqlite, o.residents).await?;
    if o.on_list {
        crate::setup::insert_list(pg, sqlite, o.residents).await?;
    }
    if o.per_person {
        let uuids: Vec<uuid::Uuid> = ids.iter().map(|r| r.as_uuid()).collect();
        crate::setup::insert_identities(pg, sqlite, &uuids).await?;
    }
    let order = crate::setup::shuffled_order(o.residents);
    let actors: Arc<Vec<Actor>> = Arc::new(
        ids.iter()
            .enumerate()
            .map(|(i, id)| Actor::Resident {
                session: SessionId::from_uuid(uuid::Uuid::nil()),
                resident: Resident {
                    id: *id,
                    phone_hash: quan_domain::KeyedHash::from_bytes(crate::setup::phone_hash(i)),
                    phone_masked: String::new(),
                    created_at: opening(),
                },
            })
            .collect(),
    );
    clock.set(opening());
    // As `quan serve` does before it listens: residents' sessions,
    // identities and the open batches' lists into memory (the clock stands still, so they stay trusted).
    engine.follow_sessions().await?;
    engine.load_lists_of_open_batches().await?;
    let order = Arc::new(order);
    let next = Arc::new(AtomicUsize::new(0));
    let claimed = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(LastSale::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..o.concurrency {
        let (engine, actors, order, next, claimed, last) =
            (engine.clone(), actors.clone(), order.clone(), next.clone(), claimed.clone(), last.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&who) = order.get(i) else { break };
                let t = Instant::now();
                match engine.claim(&actors[who], batch, None, None).await {
                    Ok(_) => {
                        claimed.fetch_add(1, Ordering::Relaxed);
                        last.mark(started);
                    }
                    Err(quan_engine::claims::ClaimRejection::Busy) => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(_) => {}
                }
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::with_capacity(order.len());
    for t in tasks {
        lat.extend(t.await?);
    }
    let elapsed = started.elapsed();
    // Invariants: nothing oversold, nobody over the limit, books balanced.
    let n_claims = store.claim_count(batch).await?;
    let expected = u64::from(o.stock).min(o.residents as u64);
    let audit = engine.audit_campaign_unchecked(c).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let got = claimed.load(Ordering::Relaxed) as u64;
    let ok = n_claims == got && n_claims <= u64::from(o.stock) && n_claims == expected && audit.is_clean();
    let invariants = if ok {
        format!("ok: {n_claims} claims = acknowledged, ≤ stock, 1 per resident, audit clean")
    } else {
        format!(
            "VIOLATED: {n_claims} claims stored, {got} acknowledged, stock {}, expected {expected}, audit {:?}",
            o.stock, audit.findings
        )
    };
    Ok(finish(name, order.len(), got as usize, started, elapsed, last.get(), lat, invariants))
}

/// The database alone, as far as it goes for a grab's rows on this
/// machine: one `vouchers` row per claim (quan's schema and the committer's
/// own insert), for the stock's worth of residents in a grab's shuffled
/// order, in transactions of as many rows as the engine has claims in
/// flight (shared among the `parallel` commits it runs at once) — and
/// nothing else: no requests, limits, stock or ledger. The engine's claims
/// per second over this is how much of the database's reach it uses.
async fn database_alone<R: quan_store::sql::bulk::BulkClaims>(
    name: &str,
    store: &dyn Store,
    pool: &sqlx::Pool<<R as sqlx::Row>::Database>,
    parallel: usize,
    o: &ClaimBench,
) -> anyhow::Result<Run> {
    let residents: Vec<uuid::Uuid> = (0..o.residents).map(|_| uuid::Uuid::now_v7()).collect();
    let mut first = std::collections::HashSet::new();
    let rows: Arc<Vec<(uuid::Uuid, uuid::Uuid)>> = Arc::new(
        crate::setup::shuffled_order(o.residents)
            .into_iter()
            .filter(|i| first.insert(*i))
            .take(o.stock as usize)
            .map(|i| (uuid::Uuid::now_v7(), residents[i]))
            .collect(),
    );
    let per_tx = (o.concurrency / parallel.max(1)).max(1);
    let (campaign, batch) = (uuid::Uuid::now_v7(), quan_domain::BatchId::from_uuid(uuid::Uuid::now_v7()));
    let next = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(LastSale::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..parallel.max(1) {
        let (pool, rows, next, last) = (pool.clone(), rows.clone(), next.clone(), last.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut stored) = (Vec::new(), 0usize);
            loop {
                let from = next.fetch_add(per_tx, Ordering::Relaxed);
                let Some(chunk) = rows.get(from..(from + per_tx).min(rows.len())).filter(|c| !c.is_empty()) else {
                    break;
                };
                let t = Instant::now();
                let vouchers: Vec<quan_store::sql::bulk::VoucherRow<'_>> = chunk
                    .iter()
                    .map(|(id, resident)| quan_store::sql::bulk::VoucherRow {
                        id: *id,
                        claim_id: *id,
                        kind_code: "bench",
                        tier: 0,
                        resident_id: *resident,
                        face_fen: 1_000,
                        slot: Some(0),
                        person_hash: None,
                        claim_district: None,
                    })
                    .collect();
                let mut tx = pool.begin().await?;
                stored += R::insert_vouchers(&mut *tx, campaign, batch.as_uuid(), 0, "", &vouchers).await?.len();
                tx.commit().await?;
                last.mark(started);
                lat.extend(std::iter::repeat_n(t.elapsed(), chunk.len()));
            }
            Ok::<_, sqlx::Error>((lat, stored))
        }));
    }
    let (mut lat, mut stored) = (Vec::with_capacity(rows.len()), 0);
    for t in tasks {
        let (l, n) = t.await??;
        lat.extend(l);
        stored += n;
    }
    let elapsed = started.elapsed();
    let on_disk = store.claim_count(batch).await?;
    let invariants = if stored == rows.len() && on_disk == rows.len() as u64 {
        format!("ok: {on_disk} rows, {per_tx} a transaction, {parallel} at once")
    } else {
        format!("VIOLATED: {} rows written, {stored} stored, {on_disk} on disk", rows.len())
    };
    Ok(finish(name, rows.len(), stored, started, elapsed, last.get(), lat, invariants))
}

async fn naive_pg(admin: &str, o: &ClaimBench) -> anyhow::Result<Run> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(50).connect(admin).await?;
    sqlx::raw_sql("DROP TABLE IF EXISTS bench_stock, bench_claims; CREATE TABLE bench_stock (id INT PRIMARY KEY, n BIGINT NOT NULL); CREATE TABLE bench_claims (resident BIGINT PRIMARY KEY)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO bench_stock VALUES (1, $1)").bind(i64::from(o.stock)).execute(&pool).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let claimed = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(LastSale::default());
    let deadline = Instant::now() + Duration::from_secs(o.peer_seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (pool, next, claimed, last) = (pool.clone(), next.clone(), claimed.clone(), last.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let who = next.fetch_add(1, Ordering::Relaxed) as i64;
                let t = Instant::now();
                let Ok(mut tx) = pool.begin().await else { break };
                let took = sqlx::query("UPDATE bench_stock SET n = n - 1 WHERE id = 1 AND n > 0")
                    .execute(&mut *tx)
                    .await
                    .map(|r| r.rows_affected())
                    .unwrap_or(0);
                if took == 1
                    && sqlx::query("INSERT INTO bench_claims VALUES ($1)").bind(who).execute(&mut *tx).await.is_ok()
                    && tx.commit().await.is_ok()
                {
                    claimed.fetch_add(1, Ordering::Relaxed);
                    last.mark(started);
                }
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let elapsed = started.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bench_claims").fetch_one(&pool).await?;
    let left: i64 = sqlx::query_scalar("SELECT n FROM bench_stock WHERE id = 1").fetch_one(&pool).await?;
    let ok = stored + left == i64::from(o.stock) && stored as usize == claimed.load(Ordering::Relaxed);
    sqlx::raw_sql("DROP TABLE bench_stock, bench_claims").execute(&pool).await?;
    let n = next.load(Ordering::Relaxed);
    Ok(finish(
        "naive PostgreSQL hot row (50 clients)",
        n,
        claimed.load(Ordering::Relaxed),
        started,
        elapsed,
        last.get(),
        lat,
        if ok { "ok".into() } else { "VIOLATED".into() },
    ))
}

/// A minimal RESP client: enough to run a Lua script against Redis.
async fn resp(stream: &mut tokio::net::TcpStream, args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(cmd.as_bytes()).await?;
    let mut buf = vec![0u8; 512];
    let n = stream.read(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

const LUA: &str = "if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return -1 end \
    local n = tonumber(redis.call('GET', KEYS[1])) if n <= 0 then return 0 end \
    redis.call('DECR', KEYS[1]) redis.call('SADD', KEYS[2], ARGV[1]) return 1";

async fn redis_lua(addr: &str, durable: bool, o: &ClaimBench) -> anyhow::Result<Run> {
    let mut admin = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("Redis at {addr}"))?;
    let before = resp(&mut admin, &["CONFIG", "GET", "appendfsync"]).await?;
    let before_aof = resp(&mut admin, &["CONFIG", "GET", "appendonly"]).await?;
    if durable {
        resp(&mut admin, &["CONFIG", "SET", "appendonly", "yes"]).await?;
        resp(&mut admin, &["CONFIG", "SET", "appendfsync", "always"]).await?;
    } else {
        resp(&mut admin, &["CONFIG", "SET", "appendonly", "no"]).await?;
    }
    resp(&mut admin, &["DEL", "quan:bench:stock", "quan:bench:users"]).await?;
    resp(&mut admin, &["SET", "quan:bench:stock", &o.stock.to_string()]).await?;
    let sha_reply = resp(&mut admin, &["SCRIPT", "LOAD", LUA]).await?;
    let sha = sha_reply.lines().nth(1).unwrap_or_default().to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let claimed = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(LastSale::default());
    let deadline = Instant::now() + Duration::from_secs(o.peer_seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (next, claimed, sha, addr, last) =
            (next.clone(), claimed.clone(), sha.clone(), addr.to_owned(), last.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else { return lat };
            while Instant::now() < deadline {
                let who = next.fetch_add(1, Ordering::Relaxed).to_string();
                let t = Instant::now();
                let reply = resp(&mut s, &["EVALSHA", &sha, "2", "quan:bench:stock", "quan:bench:users", &who]).await;
                if reply.is_ok_and(|r| r.starts_with(":1")) {
                    claimed.fetch_add(1, Ordering::Relaxed);
                    last.mark(started);
                }
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let elapsed = started.elapsed();
    let users = resp(&mut admin, &["SCARD", "quan:bench:users"]).await?;
    resp(&mut admin, &["DEL", "quan:bench:stock", "quan:bench:users"]).await?;
    // Put the server's persistence back as it was.
    let restore = |r: &str| r.lines().nth(3).unwrap_or("").to_owned();
    resp(&mut admin, &["CONFIG", "SET", "appendfsync", &restore(&before)]).await?;
    resp(&mut admin, &["CONFIG", "SET", "appendonly", &restore(&before_aof)]).await?;
    let ok = users.trim_start_matches(':').trim().parse::<usize>().ok() == Some(claimed.load(Ordering::Relaxed));
    let name =
        if durable { "Redis Lua, appendfsync always (50 clients)" } else { "Redis Lua, no persistence (50 clients)" };
    Ok(finish(
        name,
        next.load(Ordering::Relaxed),
        claimed.load(Ordering::Relaxed),
        started,
        elapsed,
        last.get(),
        lat,
        match (ok, durable) {
            (true, true) => "ok".into(),
            (true, false) => "ok (nothing on disk: a crash loses every claim)".into(),
            (false, _) => "VIOLATED".into(),
        },
    ))
}

pub async fn run(o: &ClaimBench, json: bool) -> anyhow::Result<String> {
    crate::cpu::start();
    let mut runs = Vec::new();
    let dir = tempfile::tempdir()?;
    let sqlite = SqliteStore::open(&dir.path().join("bench.db"), SqliteOptions::default()).await?;
    let pool = sqlite.pool().clone();
    runs.push(
        engine_run("quan engine, SQLite (durable, WAL + FULL sync)", Arc::new(sqlite), None, Some(&pool), o).await?,
    );
    pool.close().await;
    let alone = SqliteStore::open(&dir.path().join("alone.db"), SqliteOptions::default()).await?;
    let parallel = alone.commits_in_parallel();
    runs.push(
        database_alone::<sqlx::sqlite::SqliteRow>(DATABASE_ALONE_SQLITE, &alone, alone.batch_pool(), parallel, o)
            .await?,
    );
    alone.close().await;
    let name = format!("quan_bench_{}", std::process::id());
    let url = crate::setup::create_database(&o.pg_admin_url, &name).await?;
    let pg = PgStore::open(&url, PgOptions { pool_connections_max: 32, ..PgOptions::default() }).await?;
    let pgpool = pg.pool().clone();
    let result = engine_run("quan engine, PostgreSQL (durable)", Arc::new(pg), Some(&pgpool), None, o).await;
    pgpool.close().await;
    crate::setup::drop_database(&o.pg_admin_url, &name).await;
    runs.push(result?);
    let url = crate::setup::create_database(&o.pg_admin_url, &name).await?;
    let alone = PgStore::open(&url, PgOptions::default()).await?;
    let parallel = alone.commits_in_parallel();
    let result =
        database_alone::<sqlx::postgres::PgRow>(DATABASE_ALONE_POSTGRES, &alone, alone.pool(), parallel, o).await;
    alone.close().await;
    crate::setup::drop_database(&o.pg_admin_url, &name).await;
    runs.push(result?);
    if let Some((h, backends)) = &o.http {
        for b in backends {
            runs.extend(crate::http::http_run(h, *b).await?);
            if h.defences {
                runs.push(crate::defended::defended_run(h, *b).await?);
            }
        }
        if h.memory_seconds > 0 {
            runs.push(crate::floor::floor_run(h).await?);
        }
    }
    if !o.skip_peers {
        runs.push(naive_pg(&o.pg_admin_url, o).await?);
        match redis_lua(&o.redis, true, o).await {
            Ok(r) => runs.push(r),
            Err(e) => eprintln!("Redis (durable) skipped: {e:#}"),
        }
        match redis_lua(&o.redis, false, o).await {
            Ok(r) => runs.push(r),
            Err(e) => eprintln!("Redis skipped: {e:#}"),
        }
    }
    let ratios = ratios(&runs);
    let violated = runs.iter().any(|r| r.invariants.starts_with("VIOLATED"));
    if json {
        let out = serde_json::json!({"stock": o.stock, "residents": o.residents, "concurrency": o.concurrency, "runs": runs, "ratios": ratios});
        if violated {
            bail!("an invariant was violated: {out}");
        }
        return Ok(out.to_string() + "\n");
    }
    let mut out = format!(
        "stock {}, {} residents (+20% repeat attempts), {} concurrent claimers on the engine, one voucher per {}{}\n",
        o.stock,
        o.residents,
        o.concurrency,
        if o.per_person { "person (each claim needs the resident's verified identity)" } else { "account" },
        if o.on_list { ", open only to the members of an imported list (every resident is on it)" } else { "" }
    );
    for r in &runs {
        let cpu = r.cpu.map_or_else(
            || "cpu ?".to_owned(),
            |c| {
                let each = if r.claimed > 0 { "claim" } else { "answer" };
                format!("cores busy {:.2}/{}, {:>5.1} µs CPU a {each}", c.busy_cores, c.cores, c.cpu_us_each)
            },
        );
        out.push_str(&format!(
            "{:<52} {:>9.0} claims/s  {:>9.0} answers/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {cpu}  {}\n",
            r.name, r.claims_per_s, r.answers_per_s, r.p50_ms, r.p99_ms, r.invariants
        ));
    }
    out.push_str(&format!("ratios: {ratios}\n"));
    if violated {
        bail!("an invariant was violated:\n{out}");
    }
    Ok(out)
}

/// Each engine leg against its peers and the database alone, and quan's
/// answers over HTTP against the bare floor.
fn ratios(runs: &[Run]) -> serde_json::Value {
    let rate = |needle: &str| runs.iter().find(|r| r.name.contains(needle)).map(|r| r.claims_per_s);
    let answers = |needle: &str| runs.iter().find(|r| r.name.contains(needle)).map(|r| r.answers_per_s);
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| (a / b.max(1.0) * 100.0).round() / 100.0);
    let sqlite_rate = rate("engine, SQLite");
    serde_json::json!({
        "sqlite_engine_over_naive_pg": ratio(sqlite_rate, rate("hot row")),
        "sqlite_engine_over_redis_durable": ratio(sqlite_rate, rate("appendfsync")),
        "sqlite_engine_over_redis_no_persistence": ratio(sqlite_rate, rate("no persistence")),
        "pg_engine_over_naive_pg": ratio(rate("engine, PostgreSQL"), rate("hot row")),
        "sqlite_engine_over_database_alone": ratio(sqlite_rate, rate(DATABASE_ALONE_SQLITE)),
        "pg_engine_over_database_alone": ratio(rate("engine, PostgreSQL"), rate(DATABASE_ALONE_POSTGRES)),
        "http_sqlite_over_redis_durable": ratio(rate("HTTP, SQLite, "), rate("appendfsync")),
        "http_postgres_over_redis_durable": ratio(rate("HTTP, PostgreSQL, "), rate("appendfsync")),
        "http_sqlite_defended_over_undefended": ratio(rate(&format!("{}, SQLite", crate::defended::DEFENDED_RUN)), rate("HTTP, SQLite, ")),
        "http_postgres_defended_over_undefended": ratio(rate(&format!("{}, PostgreSQL", crate::defended::DEFENDED_RUN)), rate("HTTP, PostgreSQL, ")),
        "memory_answers_sqlite_over_http_floor": ratio(answers("SQLite, sold-out"), answers(crate::floor::FLOOR_RUN)),
        "memory_answers_postgres_over_http_floor": ratio(answers("PostgreSQL, sold-out"), answers(crate::floor::FLOOR_RUN)),
    })
}
