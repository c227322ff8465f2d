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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quan_domain::{BatchId, CampaignId, FixedClock, Role};
use quan_engine::{Random, SystemRandom};
use quan_store::Store;
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::bench_claim::Run;
use super::bench_setup;

/// Which database the server under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
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
}

/// What the load generator's requests name: a batch, the residents'
/// tokens, and whether each claim carries an `Idempotency-Key`
/// (`HttpBench::keys`).
struct Target {
    batch: BatchId,
    tokens: Arc<Vec<String>>,
    keys: bool,
}

/// One grab prepared in a database the server will open.
struct Grab {
    backend: Backend,
    dir: tempfile::TempDir,
    database_url: Option<String>,
    /// `(admin url, database name)` to drop afterwards.
    pg_drop: Option<(String, String)>,
    campaign: CampaignId,
    stock: u32,
    /// The grab's batch and residents, as the load generator names them.
    target: Target,
}

/// Creates, funds and starts a campaign whose one batch (limit 1 per
/// account, one kind of ¥10 instant vouchers) is open from now on by the
/// system clock (the server's).
async fn create_open_grab(
    store: Arc<dyn Store>,
    stock: u32,
    per_person: bool,
    on_list: bool,
) -> anyhow::Result<(CampaignId, BatchId)> {
    // Whole milliseconds, as the stores keep instants.
    let now = chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
    let engine = bench_setup::engine(store, Arc::new(FixedClock::new(now - chrono::Duration::hours(1))));
    let official = bench_setup::staff(&engine, "bench.official", Role::Official).await?;
    let local = |d: chrono::DateTime<chrono::Utc>| d.with_timezone(&quan_domain::UTC8);
    let window = bench_setup::Window {
        opening_at: local(now - chrono::Duration::minutes(30)).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        closing_at: local(now + chrono::Duration::hours(6)).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        starts_on: local(now - chrono::Duration::days(1)).format("%Y-%m-%d").to_string(),
        ends_on: local(now + chrono::Duration::days(30)).format("%Y-%m-%d").to_string(),
    };
    bench_setup::open_grab(&engine, &official, stock, &window, per_person, on_list).await
}

/// `n` residents, each with a live session; returns their bearer tokens.
async fn insert_residents_with_sessions(
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
            bench_setup::phone_hash(i).to_vec(),
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
        bench_setup::sqlite_insert(
            pool,
            "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms)",
            "(?, ?, 'bench', ?)",
            &rows,
            |q, r| q.bind(r.0).bind(r.2.as_slice()).bind(now),
        )
        .await?;
        bench_setup::sqlite_insert(
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
        bench_setup::insert_identities(pg, sqlite, &ids).await?;
    }
    if on_list {
        bench_setup::insert_list(pg, sqlite, n).await?;
    }
    Ok(rows.into_iter().map(|r| r.4).collect())
}

/// Opens the grab's store in this process (migrating a new database).
async fn open_store(g: &Grab) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &g.database_url {
        Some(url) => Arc::new(PgStore::open(url, PgOptions::default()).await?),
        None => Arc::new(SqliteStore::open(&g.dir.path().join("quan.db"), SqliteOptions::default()).await?),
    })
}

async fn prepare(o: &HttpBench, backend: Backend) -> anyhow::Result<Grab> {
    let (stock, residents, pg_admin_url) = (o.stock, o.residents, o.pg_admin_url.as_str());
    let dir = tempfile::tempdir()?;
    let (database_url, pg_drop, campaign, batch, tokens) = match backend {
        Backend::Sqlite => {
            let store = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default()).await?;
            let pool = store.pool().clone();
            let (c, b) = create_open_grab(Arc::new(store), stock, o.per_person, o.on_list).await?;
            let tokens = insert_residents_with_sessions(None, Some(&pool), residents, o.per_person, o.on_list).await?;
            pool.close().await;
            (None, None, c, b, tokens)
        }
        Backend::Postgres => {
            let name = format!("quan_http_bench_{}", std::process::id());
            let url = bench_setup::create_database(pg_admin_url, &name).await?;
            let store = PgStore::open(&url, PgOptions::default()).await?;
            let pool = store.pool().clone();
            let (c, b) = create_open_grab(Arc::new(store), stock, o.per_person, o.on_list).await?;
            let tokens = insert_residents_with_sessions(Some(&pool), None, residents, o.per_person, o.on_list).await?;
            pool.close().await;
            (Some(url), Some((pg_admin_url.to_owned(), name)), c, b, tokens)
        }
    };
    let target = Target { batch, tokens: Arc::new(tokens), keys: o.keys };
    Ok(Grab { backend, dir, database_url, pg_drop, campaign, stock, target })
}

async fn drop_database(g: &Grab) {
    if let Some((admin, name)) = &g.pg_drop {
        bench_setup::drop_database(admin, name).await;
    }
}

/// The server under test, in its own process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start_server(g: &Grab) -> anyhow::Result<Server> {
    let exe = std::env::current_exe().context("the quan executable")?;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(g.dir.path().join("server.log"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve").arg("--listen").arg(addr.to_string()).arg("--data-dir").arg(g.dir.path());
    if let Some(url) = &g.database_url {
        cmd.arg("--database-url").arg(url);
    }
    let child = cmd
        .env("RUST_LOG", "warn")
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
async fn wait_ready(server: &mut Server, what: &str, log: &str) -> anyhow::Result<()> {
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

/// A keep-alive HTTP/1.1 connection: just enough client for the load
/// generator (requests are written whole; responses carry Content-Length).
pub(crate) struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn { stream: BufReader::new(s) })
    }

    pub(crate) async fn request(&mut self, raw: &str) -> std::io::Result<(u16, Vec<u8>)> {
        self.stream.get_mut().write_all(raw.as_bytes()).await?;
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut len = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().map_err(std::io::Error::other)?;
            }
        }
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// A claim; with `key`, the `Idempotency-Key` of that tap.
fn claim_request(batch: BatchId, token: &str, key: Option<usize>) -> String {
    let key = key.map(|k| format!("Idempotency-Key: tap-{k}\r\n")).unwrap_or_default();
    format!(
        "POST /api/v1/batches/{batch}/claims HTTP/1.1\r\nHost: quan\r\nAuthorization: Bearer {token}\r\n{key}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    )
}

/// What the load generator saw.
#[derive(Debug, Default)]
struct Seen {
    /// Claim ids answered 201.
    acknowledged: Vec<uuid::Uuid>,
    /// Answers by status code.
    statuses: std::collections::BTreeMap<u16, usize>,
    latencies: Vec<Duration>,
    /// Residents whose request got no answer (to try again).
    unanswered: Vec<usize>,
    /// Residents taken from the order (answered or not).
    processed: usize,
}

/// Sends each resident of `order` (indices into the grab's tokens) one claim
/// over `connections` connections, until the order is done or `stop` is set.
async fn load(
    addr: SocketAddr,
    target: &Target,
    order: Arc<Vec<usize>>,
    connections: usize,
    stop: Arc<AtomicBool>,
    started: Instant,
    last_sale: Arc<super::bench_claim::LastSale>,
) -> Seen {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (order, next, stop, tokens, last_sale) =
            (order.clone(), next.clone(), stop.clone(), target.tokens.clone(), last_sale.clone());
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
                match c.request(&claim_request(batch, &tokens[who], keys.then_some(i))).await {
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

/// The invariants after a grab, read from the database with the server stopped.
async fn check(g: &Grab, acknowledged: &[uuid::Uuid]) -> anyhow::Result<(u64, Vec<String>)> {
    let store = open_store(g).await?;
    let engine = bench_setup::engine(
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

async fn http_run_on(o: &HttpBench, g: &Grab) -> anyhow::Result<Vec<Run>> {
    let mut server = start_server(g).await?;
    let order = Arc::new(bench_setup::shuffled_order(o.residents));
    let attempts = order.len();
    let started = Instant::now();
    let last = Arc::new(super::bench_claim::LastSale::default());
    let seen =
        load(server.addr, &g.target, order, o.connections, Arc::new(AtomicBool::new(false)), started, last.clone())
            .await;
    let elapsed = started.elapsed();
    // Sold out now: every answer comes from the node's memory.
    let memory = if o.memory_seconds > 0 { Some(keep_pressing(server.addr, &g.target, o).await) } else { None };
    let _ = server.child.kill();
    let _ = server.child.wait();
    let (n, problems) = check(g, &seen.acknowledged).await?;
    let acknowledged = seen.acknowledged.len();
    let invariants = if problems.is_empty() && n == acknowledged as u64 {
        format!("ok: {n} claims = acknowledged, ≤ stock, 1 per resident, audit clean; answers {:?}", seen.statuses)
    } else {
        format!("VIOLATED: {n} stored, {acknowledged} acknowledged: {}", problems.join("; "))
    };
    let name = format!("quan over HTTP, {}, {} connections", g.backend.name(), o.connections);
    let mut runs = vec![super::bench_claim::finish(
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

/// Residents who keep pressing after the stock is gone, for
/// `o.memory_seconds`: two per connection, over and over (their tokens and
/// the sold-out batch are in the node's memory). Returns what was seen,
/// when it started and how long it took.
async fn keep_pressing(addr: SocketAddr, target: &Target, o: &HttpBench) -> Pressed {
    let stop = Arc::new(AtomicBool::new(false));
    let keen = (o.connections * 2).min(o.residents).min(target.tokens.len()).max(1);
    let repeat: Arc<Vec<usize>> = Arc::new((0..2_000).flat_map(|_| 0..keen).collect());
    let s2 = stop.clone();
    let seconds = o.memory_seconds;
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
struct Pressed {
    seen: Seen,
    started: Instant,
    took: Duration,
}

/// The route and answer of a claim on a sold-out batch, served by axum and
/// tokio as `quan serve` runs them but with nothing of quan behind it: the
/// most any server on this stack answers on this machine, the floor under
/// quan's sold-out answers from memory (`quan bench claim --http`). Runs
/// until killed; started as `quan bench http-floor --listen ADDR`.
pub async fn floor_server(listen: SocketAddr) -> anyhow::Result<()> {
    use axum::Json;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    let app = axum::Router::new().route("/readyz", get(|| async { "ready" })).route(
        "/api/v1/batches/{id}/claims",
        post(|Path(id): Path<String>| async move {
            let body = serde_json::json!({"error": "sold_out", "message": format!("batch {id} has no vouchers left")});
            (StatusCode::CONFLICT, Json(body))
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The HTTP floor: the same load generator, connections and seconds as the
/// sold-out answers from memory, against [`floor_server`] in its own
/// process.
pub async fn floor_run(o: &HttpBench) -> anyhow::Result<Run> {
    let exe = std::env::current_exe().context("the quan executable")?;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let child = Command::new(exe)
        .args(["bench", "http-floor", "--listen", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("starting the bare axum server")?;
    let mut server = Server { child, addr };
    wait_ready(&mut server, "the bare axum server", "its standard error").await?;
    let tokens: Arc<Vec<String>> =
        Arc::new((0..(o.connections * 2).max(1)).map(|i| format!("floor-{i:040}")).collect());
    let target = Target { batch: BatchId::from_uuid(uuid::Uuid::now_v7()), tokens, keys: false };
    let pressed = keep_pressing(addr, &target, o).await;
    let _ = server.child.kill();
    let _ = server.child.wait();
    Ok(sold_out_run(FLOOR_RUN, pressed))
}

/// The line of a run of sold-out answers: every answer should be a 409.
fn sold_out_run(name: &str, p: Pressed) -> Run {
    let answers: usize = p.seen.statuses.values().sum();
    let ok = if p.seen.statuses.keys().all(|s| *s == 409) {
        "ok: every answer 409 sold_out".to_owned()
    } else {
        format!("answers {:?}", p.seen.statuses)
    };
    super::bench_claim::finish(name, answers, 0, p.started, p.took, p.took, p.seen.latencies, ok)
}

/// The name of [`floor_run`]'s line.
pub const FLOOR_RUN: &str = "HTTP floor: bare axum route, no quan";

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
    let mut todo: Vec<usize> = bench_setup::shuffled_order(o.residents);
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
