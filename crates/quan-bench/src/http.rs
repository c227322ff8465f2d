//! Claims against the real server in its own process, over HTTP/1.1
//! keep-alive connections from a load generator in this process:
//! `quan bench claim --http` measures the grab end to end, and
//! `quan bench claim --crash N` kills the server with SIGKILL N times during
//! the grab, restarts it, and then checks that every acknowledged claim is on
//! disk, nothing is oversold, nobody is over the limit and the ledger's
//! reservation equals the face value of the claimed vouchers.
#![allow(clippy::float_arithmetic)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quan_domain::{BatchId, CampaignId, FixedClock, Role};
use quan_engine::SystemRandom;
use quan_store::Store;
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};

use crate::load::{Pressing, Target, keep_pressing, load, sold_out_run};
use crate::run::Run;
use quan_http::client::Conn;

/// A defended grab's fair admission window (`defended`).
pub const DEFENDED_WINDOW_S: u32 = 3;
/// The proof of work its server asks for (`risk.pow_bits`).
pub const DEFENDED_POW_BITS: u8 = 4;

/// Which database the server under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpBench {
    pub stock: u32,
    pub residents: usize,
    pub connections: usize,
    pub pg_admin_url: String,
    /// How long sold-out answers are measured after the stock is gone.
    pub memory_seconds: u64,
    /// Every claim carries its own `Idempotency-Key`.
    pub keys: bool,
    /// The batch counts claims per person; every resident has an identity.
    pub per_person: bool,
    /// The batch is open only to a list's members; every resident is on it.
    pub on_list: bool,
    /// Also the grab with the defences in the load (`defended`).
    pub defences: bool,
}

impl HttpBench {
    /// How the sold-out legs keep pressing.
    pub(crate) fn pressing(&self) -> Pressing {
        Pressing { connections: self.connections, residents: self.residents, seconds: self.memory_seconds }
    }
}

/// One grab prepared in a database the server will open.
pub(crate) struct Grab {
    pub(crate) backend: Backend,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) database_url: Option<String>,
    /// `(admin url, database name)` to drop afterwards.
    pub(crate) pg_drop: Option<(String, String)>,
    pub(crate) campaign: CampaignId,
    pub(crate) stock: u32,
    /// The grab's batch and residents, as the load generator names them.
    pub(crate) target: Target,
    /// More of the server's environment (its configuration).
    pub(crate) server_env: Vec<(&'static str, String)>,
}

/// Creates, funds and starts a campaign whose one batch (limit 1 per
/// account, one kind of ¥10 instant vouchers) is open from now on by the
/// system clock (the server's).
/// With `defended`, the batch opens then instead, with the fair admission
/// window (`DEFENDED_WINDOW_S`) and proof of work.
pub(crate) async fn create_grab(
    store: Arc<dyn Store>,
    stock: u32,
    per_person: bool,
    on_list: bool,
    defended: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<(CampaignId, BatchId)> {
    // Whole milliseconds, as the stores keep instants.
    let now = chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
    let engine = crate::setup::engine(store, Arc::new(FixedClock::new(now - chrono::Duration::hours(1))));
    let official = crate::setup::staff(&engine, "bench.official", Role::Official).await?;
    let local = |d: chrono::DateTime<chrono::Utc>| d.with_timezone(&quan_domain::UTC8);
    let window = crate::setup::Window {
        opening_at: local(defended.unwrap_or(now - chrono::Duration::minutes(30)))
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        closing_at: local(now + chrono::Duration::hours(6)).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        starts_on: local(now - chrono::Duration::days(1)).format("%Y-%m-%d").to_string(),
        ends_on: local(now + chrono::Duration::days(30)).format("%Y-%m-%d").to_string(),
        admission_window_s: if defended.is_some() { DEFENDED_WINDOW_S } else { 0 },
    };
    if defended.is_some() {
        let count_by = if per_person { "person" } else { "account" };
        let lists: Vec<&str> = if on_list { vec![crate::setup::LIST_NAME] } else { vec![] };
        let rules = serde_json::json!({"proof_of_work": true, "limits": {"per_batch": 1, "count_by": count_by},
            "eligibility": {"lists": lists}});
        return crate::setup::open_grab_batch(&engine, &official, stock, &window, rules).await;
    }
    crate::setup::open_grab(&engine, &official, stock, &window, per_person, on_list).await
}

/// `n` residents, each with a live session; returns their bearer tokens.
pub(crate) async fn insert_residents_with_sessions(
    pg: Option<&sqlx::PgPool>,
    sqlite: Option<&sqlx::SqlitePool>,
    n: usize,
    per_person: bool,
    on_list: bool,
) -> anyhow::Result<Vec<String>> {
    let now = chrono::Utc::now().timestamp_millis();
    let expires = now + 24 * 3600 * 1000;
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let (token, hash) = quan_engine::secrets::new_token(&SystemRandom);
        rows.push((
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            crate::setup::phone_hash(i).to_vec(),
            hash.to_vec(),
            token,
        ));
    }
    if let Some(pool) = pg {
        for chunk in rows.chunks(10_000) {
            let ids: Vec<uuid::Uuid> = chunk.iter().map(|r| r.0).collect();
            let sids: Vec<uuid::Uuid> = chunk.iter().map(|r| r.1).collect();
            let phones: Vec<Vec<u8>> = chunk.iter().map(|r| r.2.clone()).collect();
            let hashes: Vec<Vec<u8>> = chunk.iter().map(|r| r.3.clone()).collect();
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms) SELECT id, h, 'bench', $3 FROM UNNEST($1::uuid[], $2::bytea[]) AS t(id, h)")
                .bind(&ids).bind(&phones).bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO sessions (id, token_hash, resident_id, created_at_ms, expires_at_ms) SELECT s, h, r, $4, $5 FROM UNNEST($1::uuid[], $2::bytea[], $3::uuid[]) AS t(s, h, r)")
                .bind(&sids).bind(&hashes).bind(&ids).bind(now).bind(expires)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    } else if let Some(pool) = sqlite {
        crate::setup::sqlite_insert(
            pool,
            "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms)",
            "(?, ?, 'bench', ?)",
            &rows,
            |q, r| q.bind(r.0).bind(r.2.as_slice()).bind(now),
        )
        .await?;
        crate::setup::sqlite_insert(
            pool,
            "INSERT INTO sessions (id, token_hash, resident_id, created_at_ms, expires_at_ms)",
            "(?, ?, ?, ?, ?)",
            &rows,
            |q, r| q.bind(r.1).bind(r.3.as_slice()).bind(r.0).bind(now).bind(expires),
        )
        .await?;
    } else {
        bail!("no pool");
    }
    if per_person {
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.0).collect();
        crate::setup::insert_identities(pg, sqlite, &ids).await?;
    }
    if on_list {
        crate::setup::insert_list(pg, sqlite, n).await?;
    }
    Ok(rows.into_iter().map(|r| r.4).collect())
}

/// Opens the grab's store in this process (migrating a new database).
pub(crate) async fn open_store(g: &Grab) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &g.database_url {
        Some(url) => Arc::new(PgStore::open(url, PgOptions::default()).await?),
        None => Arc::new(SqliteStore::open(&g.dir.path().join("quan.db"), SqliteOptions::default()).await?),
    })
}

pub(crate) async fn prepare(o: &HttpBench, backend: Backend) -> anyhow::Result<Grab> {
    prepare_grab(o, backend, None).await
}

/// As [`prepare`]; with `defended`, the batch opens then, with the
/// defences (see [`create_grab`]).
pub(crate) async fn prepare_grab(
    o: &HttpBench,
    backend: Backend,
    defended: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<Grab> {
    let (stock, residents, pg_admin_url) = (o.stock, o.residents, o.pg_admin_url.as_str());
    let dir = tempfile::tempdir()?;
    let (database_url, pg_drop, campaign, batch, tokens) = match backend {
        Backend::Sqlite => {
            let store = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default()).await?;
            let pool = store.pool().clone();
            let (c, b) = create_grab(Arc::new(store), stock, o.per_person, o.on_list, defended).await?;
            let tokens = insert_residents_with_sessions(None, Some(&pool), residents, o.per_person, o.on_list).await?;
            pool.close().await;
            (None, None, c, b, tokens)
        }
        Backend::Postgres => {
            let name = format!("quan_http_bench_{}{}", std::process::id(), if defended.is_some() { "_d" } else { "" });
            let url = crate::setup::create_database(pg_admin_url, &name).await?;
            let store = PgStore::open(&url, PgOptions::default()).await?;
            let pool = store.pool().clone();
            let (c, b) = create_grab(Arc::new(store), stock, o.per_person, o.on_list, defended).await?;
            let tokens = insert_residents_with_sessions(Some(&pool), None, residents, o.per_person, o.on_list).await?;
            pool.close().await;
            (Some(url), Some((pg_admin_url.to_owned(), name)), c, b, tokens)
        }
    };
    let target = Target { batch, tokens: Arc::new(tokens), keys: o.keys, solutions: None };
    let server_env =
        if defended.is_some() { vec![("QUAN_RISK_POW_BITS", DEFENDED_POW_BITS.to_string())] } else { Vec::new() };
    Ok(Grab { backend, dir, database_url, pg_drop, campaign, stock, target, server_env })
}

pub(crate) async fn drop_database(g: &Grab) {
    if let Some((admin, name)) = &g.pg_drop {
        crate::setup::drop_database(admin, name).await;
    }
}

/// The server under test, in its own process.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) async fn start_server(g: &Grab) -> anyhow::Result<Server> {
    let exe = std::env::current_exe().context("the quan executable")?;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(g.dir.path().join("server.log"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve").arg("--listen").arg(addr.to_string()).arg("--data-dir").arg(g.dir.path());
    if let Some(url) = &g.database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd.envs(g.server_env.iter().map(|(k, v)| (*k, v.as_str())));
    let child = cmd
        .env("RUST_LOG", "warn")
        // The load generator stands for a city's phones behind a load balancer.
        .env("QUAN_SERVER_TRUSTED_PROXIES", "127.0.0.1")
        .current_dir(g.dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting quan serve")?;
    let mut server = Server { child, addr };
    wait_ready(&mut server, "quan serve", &g.dir.path().join("server.log").display().to_string()).await?;
    Ok(server)
}

/// Waits up to a minute for `GET /readyz` to answer 200 (`what` and `log`
/// name the server and where to look when it does not).
pub(crate) async fn wait_ready(server: &mut Server, what: &str, log: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut c) = Conn::connect(server.addr).await
            && let Ok((200, _)) = c.request("GET /readyz HTTP/1.1\r\nHost: quan\r\n\r\n").await
        {
            return Ok(());
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            bail!("{what} exited ({status}) before it was ready on {}; see {log}", server.addr);
        }
        if Instant::now() > deadline {
            bail!("{what} did not become ready on {}; see {log}", server.addr);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The line of invariants of a grab the load generator saw (`check`).
pub(crate) async fn checked(g: &Grab, seen: &crate::load::Seen) -> anyhow::Result<String> {
    let (n, problems) = check(g, &seen.acknowledged).await?;
    let acknowledged = seen.acknowledged.len();
    Ok(if problems.is_empty() && n == acknowledged as u64 {
        format!("ok: {n} claims = acknowledged, ≤ stock, 1 per resident, audit clean; answers {:?}", seen.statuses)
    } else {
        format!("VIOLATED: {n} stored, {acknowledged} acknowledged: {}", problems.join("; "))
    })
}

/// The invariants after a grab, read from the database with the server stopped.
pub(crate) async fn check(g: &Grab, acknowledged: &[uuid::Uuid]) -> anyhow::Result<(u64, Vec<String>)> {
    let store = open_store(g).await?;
    let engine = crate::setup::engine(
        store.clone(),
        Arc::new(FixedClock::new(
            chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis()).unwrap_or_default(),
        )),
    );
    let mut problems = Vec::new();
    let stored: HashSet<uuid::Uuid> = store.claim_ids(g.target.batch).await?.into_iter().collect();
    let lost = acknowledged.iter().filter(|id| !stored.contains(id)).count();
    if lost > 0 {
        problems.push(format!("{lost} acknowledged claims are not in the database"));
    }
    let n = stored.len() as u64;
    if n > u64::from(g.stock) {
        problems.push(format!("oversold: {n} claims for {} stock", g.stock));
    }
    let left: i64 = store.remaining_stock(g.target.batch).await?.iter().map(|(_, n)| *n).sum();
    if i64::try_from(n).unwrap_or(i64::MAX) + left != i64::from(g.stock) {
        problems.push(format!("stock not conserved: {n} claims + {left} left ≠ {}", g.stock));
    }
    let over = store.residents_over_limit(g.target.batch, 1).await?;
    if over > 0 {
        problems.push(format!("{over} residents hold more than 1 claim"));
    }
    let audit = engine.audit_campaign_unchecked(g.campaign).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !audit.is_clean() {
        problems.push(format!("audit: {:?}", audit.findings));
    }
    Ok((n, problems))
}

/// `--http`: one grab end to end, then sold-out answers from memory.
pub async fn http_run(o: &HttpBench, backend: Backend) -> anyhow::Result<Vec<Run>> {
    let g = prepare(o, backend).await?;
    let result = http_run_on(o, &g).await;
    if std::env::var_os("QUAN_TEST_BENCH_KEEP").is_some() {
        // The database and the server's log, for a look afterwards.
        eprintln!("kept: {}", g.dir.keep().display());
        return result;
    }
    drop_database(&g).await;
    result
}

pub(crate) async fn http_run_on(o: &HttpBench, g: &Grab) -> anyhow::Result<Vec<Run>> {
    let mut server = start_server(g).await?;
    let order = Arc::new(crate::setup::shuffled_order(o.residents));
    let attempts = order.len();
    let started = Instant::now();
    let last = Arc::new(crate::run::LastSale::default());
    let seen =
        load(server.addr, &g.target, order, o.connections, Arc::new(AtomicBool::new(false)), started, last.clone())
            .await;
    let elapsed = started.elapsed();
    // Sold out now: every answer comes from the node's memory.
    let memory =
        if o.memory_seconds > 0 { Some(keep_pressing(server.addr, &g.target, o.pressing()).await) } else { None };
    let _ = server.child.kill();
    let _ = server.child.wait();
    let invariants = checked(g, &seen).await?;
    let acknowledged = seen.acknowledged.len();
    let name = format!("quan over HTTP, {}, {} connections", g.backend.name(), o.connections);
    let mut runs = vec![crate::run::finish(
        &name,
        attempts,
        acknowledged,
        started,
        elapsed,
        last.get(),
        seen.latencies,
        invariants,
    )];
    if let Some(pressed) = memory {
        runs.push(sold_out_run(
            &format!("quan over HTTP, {}, sold-out answers from memory", g.backend.name()),
            pressed,
        ));
    }
    Ok(runs)
}
