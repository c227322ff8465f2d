//! `quan bench redeem`: durable redemptions through the engine on SQLite
//! and PostgreSQL (each one transaction: the voucher's guarded state change,
//! the redemption row, the ledger transfers), and over HTTP on loopback at a
//! paced rate, with the invariants checked after each run.
#![allow(clippy::float_arithmetic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use quan_domain::merchant::{MerchantApplication, ReviewAction};
use quan_domain::{FixedClock, Role, SessionId};
use quan_engine::merchants::OwnerAccount;
use quan_engine::redemptions::OrderInput;
use quan_engine::{Actor, Engine};
use quan_store::Store;
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};

use crate::run::{Run, finish};

#[derive(Debug, Clone)]
pub struct RedeemBench {
    /// Vouchers claimed and then redeemed.
    pub vouchers: usize,
    pub merchants: usize,
    /// Redemptions in flight at once against the engine.
    pub concurrency: usize,
    /// Paced rate of the HTTP run, redemptions per second.
    pub http_rate: u32,
    pub http_connections: usize,
    pub pg_admin_url: String,
    /// Backends and legs to run.
    pub sqlite: bool,
    pub postgres: bool,
    pub engine: bool,
    pub http: bool,
    /// Also the engine leg with the cash-out rules judging every redemption.
    pub cashout: bool,
}

fn opening() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default()
}

/// A campaign with `vouchers` claimed ¥10 instant vouchers and `merchants`
/// approved merchants, each with one cashier: the state a redemption starts from.
pub(crate) struct Ready {
    pub(crate) engine: Engine,
    pub(crate) campaign: quan_domain::CampaignId,
    /// (resident actor, voucher id)
    pub(crate) held: Vec<(Actor, uuid::Uuid)>,
    pub(crate) cashiers: Vec<(Actor, String)>,
}

/// An engine whose cash-out rules judge every redemption and hold or
/// refuse none the benchmark makes: every rule counts and scores, and the
/// one set to refuse (a position sent from over 5 km) cannot be met (the
/// tills send none).
fn judging() -> quan_engine::EngineConfig {
    use quan_domain::cashout::{Action, Rule, Rules, Setting};
    let mut cashout = Rules::default();
    cashout.settings.insert(Rule::FarFromShop, Setting { score: 2, action: Action::Refuse });
    quan_engine::EngineConfig { cashout, ..quan_engine::EngineConfig::default() }
}

/// Which way a leg redeems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Engine,
    /// Through the engine with the cash-out rules judging (`judging`).
    Judged,
    Http,
}

async fn ready(
    store: Arc<dyn Store>,
    pg: Option<&sqlx::PgPool>,
    sqlite: Option<&sqlx::SqlitePool>,
    o: &RedeemBench,
    leg: Leg,
) -> anyhow::Result<Ready> {
    let config = if leg == Leg::Judged { judging() } else { quan_engine::EngineConfig::default() };
    ready_with(store, pg, sqlite, o, config).await
}

/// [`ready`] with an engine of `config`.
pub(crate) async fn ready_with(
    store: Arc<dyn Store>,
    pg: Option<&sqlx::PgPool>,
    sqlite: Option<&sqlx::SqlitePool>,
    o: &RedeemBench,
    config: quan_engine::EngineConfig,
) -> anyhow::Result<Ready> {
    let clock = Arc::new(FixedClock::new(opening() - chrono::Duration::days(10)));
    let engine = crate::setup::engine_with(store, clock.clone(), config);
    let e = |x: &dyn std::fmt::Display| anyhow::anyhow!("{x}");
    let official = crate::setup::staff(&engine, "bench.official", Role::Official).await?;
    let operator = crate::setup::staff(&engine, "bench.operator", Role::Operator).await?;
    let u32_vouchers = u32::try_from(o.vouchers)?;
    let (campaign, batch) =
        crate::setup::open_grab(&engine, &official, u32_vouchers, &crate::setup::Window::december(), false, false)
            .await?;
    let mut cashiers = Vec::new();
    for i in 0..o.merchants {
        let n = u32::try_from(i)?;
        let app: MerchantApplication = serde_json::from_value(serde_json::json!({
            "legal_name": format!("宜昌压测商户{i}"), "credit_code": quan_domain::merchant::CreditCode::sample(n + 1).to_string(),
            "industry": "catering", "scale": "small", "address": "西陵区", "address_district": "420502",
            "contact_name": "张三", "contact_phone": "13812345678",
            "settlement_account": {"bank_name": "中国银行", "account_name": "压测", "account_number": "6222020200112233"}
        }))?;
        let owner = OwnerAccount {
            username: format!("owner{i}"),
            password: crate::setup::PASSWORD.into(),
            display_name: "老板".into(),
        };
        let (m, owner) = engine.apply_merchant(&app, &owner, &format!("bench-{i}")).await.map_err(|x| e(&x))?;
        engine.review_merchant(&operator, m.id, ReviewAction::Approve, "").await.map_err(|x| e(&x))?;
        let owner = Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user: owner };
        let till = engine.create_till(&owner, m.id, "T01", "一号").await.map_err(|x| e(&x))?;
        let (cashier, _) = engine
            .create_cashier(&owner, m.id, &format!("cashier{i}"), "收银", till.id, Some(crate::setup::PASSWORD.into()))
            .await
            .map_err(|x| e(&x))?;
        cashiers.push(cashier);
    }
    let ids = crate::claim::insert_residents(pg, sqlite, o.vouchers).await?;
    clock.set(opening());
    // Logged in at the opening (staff sessions last hours, not days).
    let mut with_tokens = Vec::with_capacity(cashiers.len());
    for cashier in cashiers {
        let token =
            engine.login(cashier.username.as_str(), crate::setup::PASSWORD, "bench").await.map_err(|x| e(&x))?.token;
        with_tokens.push((Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user: cashier }, token));
    }
    let cashiers = with_tokens;
    let held = Arc::new(std::sync::Mutex::new(Vec::with_capacity(o.vouchers)));
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(ids);
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let (engine, ids, next, held) = (engine.clone(), ids.clone(), next.clone(), held.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { return Ok::<(), anyhow::Error>(()) };
                let actor = Actor::Resident {
                    session: SessionId::from_uuid(uuid::Uuid::nil()),
                    resident: quan_store::Resident {
                        id: *id,
                        phone_hash: quan_domain::KeyedHash::from_bytes([0; 32]),
                        phone_masked: String::new(),
                        created_at: opening(),
                    },
                };
                let c = loop {
                    match engine.claim(&actor, batch, None, None).await {
                        Err(quan_engine::claims::ClaimRejection::Busy) => {
                            tokio::time::sleep(Duration::from_millis(5)).await
                        }
                        other => break other.map_err(|x| anyhow::anyhow!("claim: {x}"))?,
                    }
                };
                held.lock().unwrap_or_else(|p| p.into_inner()).push((actor, c.vouchers[0].id));
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let held = std::mem::take(&mut *held.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Ready { engine, campaign, held, cashiers })
}

pub(crate) async fn check(r: &Ready, redeemed: usize, face_fen: i64) -> anyhow::Result<String> {
    let audit = r.engine.audit_campaign_unchecked(r.campaign).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let payable = audit.balances.payable;
    let expected = i128::try_from(redeemed)? * i128::from(face_fen);
    Ok(if audit.is_clean() && payable == expected {
        format!("ok: {redeemed} redeemed once each, payable {payable} fen = redeemed face value, audit clean")
    } else {
        format!("VIOLATED: payable {payable} fen, expected {expected}; audit {:?}", audit.findings)
    })
}

async fn engine_run(name: &str, r: &Ready, o: &RedeemBench) -> anyhow::Result<Run> {
    let codes: Vec<(usize, String)> = {
        let mut v = Vec::with_capacity(r.held.len());
        for (i, (actor, voucher)) in r.held.iter().enumerate() {
            v.push((i, r.engine.voucher_code(actor, *voucher).await.map_err(|e| anyhow::anyhow!("{e}"))?.code));
        }
        v
    };
    let codes = Arc::new(codes);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let cashiers: Arc<Vec<Actor>> = Arc::new(r.cashiers.iter().map(|(a, _)| a.clone()).collect());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..o.concurrency {
        let (engine, codes, next, done, cashiers) =
            (r.engine.clone(), codes.clone(), next.clone(), done.clone(), cashiers.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((k, code)) = codes.get(i) else { break };
                let order = OrderInput { amount: quan_domain::Fen::new(5_000), ..OrderInput::default() };
                let t = Instant::now();
                if engine.redeem_scanned(&cashiers[k % cashiers.len()], code, order).await.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
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
    let n = done.load(Ordering::Relaxed);
    let inv = check(r, n, 1000).await?;
    let inv = if n == r.held.len() { inv } else { format!("VIOLATED: {n} of {} redeemed; {inv}", r.held.len()) };
    Ok(finish(name, codes.len(), n, started, elapsed, elapsed, lat, inv))
}

/// Paced: `rate` redemptions a second spread over the connections, so the
/// latency is measured at that load, not at saturation.
async fn http_run(name: &str, r: &Ready, o: &RedeemBench) -> anyhow::Result<Run> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let engine = r.engine.clone();
    let server = tokio::spawn(async move {
        let http = quan_http::HttpConfig::default();
        quan_http::serve(engine, &http, listener, async move {
            let _ = stop_rx.await;
        })
        .await
    });
    let mut codes = Vec::with_capacity(r.held.len());
    for (actor, voucher) in &r.held {
        codes.push(r.engine.voucher_code(actor, *voucher).await.map_err(|e| anyhow::anyhow!("{e}"))?.code);
    }
    let codes = Arc::new(codes);
    let tokens: Arc<Vec<String>> = Arc::new(r.cashiers.iter().map(|(_, t)| t.clone()).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(o.http_connections as f64 / f64::from(o.http_rate.max(1)));
    let connections = o.http_connections.max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..o.http_connections {
        let (codes, tokens, next, done) = (codes.clone(), tokens.clone(), next.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut conn = quan_http::client::Conn::connect(addr).await?;
            // Workers start spread over one interval.
            let mut due = Instant::now() + interval.mul_f64(w as f64 / connections as f64);
            loop {
                tokio::time::sleep_until(due.into()).await;
                due += interval;
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                let body = format!("{{\"code\":\"{code}\",\"order_amount_fen\":5000}}");
                let req = format!(
                    "POST /api/v1/redemptions HTTP/1.1\r\nHost: quan\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    tokens[i % tokens.len()],
                    body.len()
                );
                let t = Instant::now();
                let (status, _) = conn.request(&req).await?;
                lat.push(t.elapsed());
                if status == 201 {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed();
    let _ = stop_tx.send(());
    let _ = server.await;
    let n = done.load(Ordering::Relaxed);
    let inv = check(r, n, 1000).await?;
    let inv = if n == r.held.len() { inv } else { format!("VIOLATED: {n} of {} redeemed; {inv}", r.held.len()) };
    Ok(finish(&format!("{name} (paced at {}/s)", o.http_rate), codes.len(), n, started, elapsed, elapsed, lat, inv))
}

/// A fresh store for one leg: a new PostgreSQL database `name` (dropped by
/// the caller), or a SQLite file in `dir`; with its pool for direct inserts.
pub(crate) async fn open_store(
    pg: bool,
    pg_admin_url: &str,
    name: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(Arc<dyn Store>, Option<sqlx::PgPool>, Option<sqlx::SqlitePool>)> {
    Ok(if pg {
        let url = crate::setup::create_database(pg_admin_url, name).await?;
        let s = PgStore::open(&url, PgOptions { pool_connections_max: 32, ..PgOptions::default() }).await?;
        let p = s.pool().clone();
        (Arc::new(s), Some(p), None)
    } else {
        let s = SqliteStore::open(&dir.join("bench.db"), SqliteOptions::default()).await?;
        let p = s.pool().clone();
        (Arc::new(s), None, Some(p))
    })
}

async fn on_backend(pg: bool, o: &RedeemBench) -> anyhow::Result<Vec<Run>> {
    let label = if pg { "PostgreSQL" } else { "SQLite" };
    let mut runs = Vec::new();
    for leg in [Leg::Engine, Leg::Judged, Leg::Http] {
        let wanted = match leg {
            Leg::Engine => o.engine,
            Leg::Judged => o.engine && o.cashout,
            Leg::Http => o.http,
        };
        if !wanted {
            continue;
        }
        let dir = tempfile::tempdir()?;
        let name = format!("quan_redeem_bench_{}", std::process::id());
        let (store, pgpool, sqlite) = open_store(pg, &o.pg_admin_url, &name, dir.path()).await?;
        let r = ready(store, pgpool.as_ref(), sqlite.as_ref(), o, leg).await?;
        let run = match leg {
            Leg::Http => {
                http_run(&format!("redeem over HTTP, {label}, {} connections", o.http_connections), &r, o).await
            }
            Leg::Engine => engine_run(&format!("redeem through the engine, {label} (durable)"), &r, o).await,
            Leg::Judged => {
                engine_run(&format!("redeem through the engine, cash-out rules judging, {label}"), &r, o).await
            }
        };
        drop(r);
        if let Some(p) = pgpool {
            p.close().await;
            crate::setup::drop_database(&o.pg_admin_url, &name).await;
        }
        runs.push(run?);
    }
    Ok(runs)
}

pub async fn run(o: &RedeemBench, json: bool) -> anyhow::Result<String> {
    // Its runs carry the machine's CPU too (in `--json`).
    crate::cpu::start();
    let mut runs = Vec::new();
    if o.sqlite {
        runs.extend(on_backend(false, o).await?);
    }
    if o.postgres {
        runs.extend(on_backend(true, o).await?);
    }
    let violated = runs.iter().any(|r| r.invariants.starts_with("VIOLATED"));
    let out = if json {
        serde_json::json!({"vouchers": o.vouchers, "merchants": o.merchants, "concurrency": o.concurrency, "http_rate": o.http_rate, "runs": runs}).to_string() + "\n"
    } else {
        let mut out = format!(
            "{} vouchers redeemed at {} merchants; {} in flight on the engine\n",
            o.vouchers, o.merchants, o.concurrency
        );
        for r in &runs {
            out.push_str(&format!(
                "{:<62} {:>8.0} redemptions/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {}\n",
                r.name, r.claims_per_s, r.p50_ms, r.p99_ms, r.invariants
            ));
        }
        for label in ["SQLite", "PostgreSQL"] {
            let rate = |needle: String| runs.iter().find(|r| r.name.contains(&needle)).map(|r| r.claims_per_s);
            let plain = rate(format!("the engine, {label} (durable)"));
            if let (Some(j), Some(p)) = (rate(format!("rules judging, {label}")), plain) {
                out.push_str(&format!("{label}: with the cash-out rules judging ÷ without: {:.2}\n", j / p.max(1.0)));
            }
        }
        out
    };
    if violated {
        bail!("an invariant was violated:\n{out}");
    }
    Ok(out)
}
