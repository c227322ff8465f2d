//! `quan bench partner`: signed checkouts (quote → lock → confirm) per
//! second over HTTP, HMAC-SHA256 and SM2-with-SM3, beside the till's
//! redemption over HTTP in the same run on the same database; the signature
//! checks alone per second; and webhook deliveries per second to a local
//! receiver. Invariants checked after (every voucher redeemed once, audit
//! clean, every event delivered).
#![allow(clippy::float_arithmetic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quan_domain::Role;
use quan_domain::partner_auth;
use quan_engine::partners::{NewKey, NewPartner};
use sm2::dsa::signature::{Signer, Verifier};

use crate::redeem::{Ready, RedeemBench};
use crate::run::{Run, finish};

#[derive(Debug, Clone)]
pub struct PartnerBench {
    /// Vouchers each leg redeems (the till's, HMAC's, SM2's).
    pub per_leg: usize,
    pub merchants: usize,
    pub connections: usize,
    pub postgres: bool,
    pub pg_admin_url: String,
}

/// A partner as the load signs for it.
#[derive(Clone)]
struct PartnerKeys {
    id: String,
    serial: String,
    hmac: Option<Vec<u8>>,
    sm2: Option<sm2::dsa::SigningKey>,
}

impl PartnerKeys {
    fn header(&self, method: &str, path: &str, ts: i64, nonce: &str, body: &[u8]) -> String {
        let m = partner_auth::message(method, path, ts, nonce, body);
        let (scheme, sig) = match (&self.hmac, &self.sm2) {
            (Some(secret), _) => ("QUAN-HMAC-SHA256", partner_auth::hmac_sha256(secret, &m)),
            (None, Some(k)) => ("QUAN-SM2-SM3", Signer::<sm2::dsa::Signature>::sign(k, &m).to_bytes().to_vec()),
            (None, None) => ("QUAN-HMAC-SHA256", Vec::new()),
        };
        format!(
            "{scheme} partner_id=\"{}\",serial_no=\"{}\",timestamp=\"{ts}\",nonce_str=\"{nonce}\",signature=\"{}\"",
            self.id,
            self.serial,
            STANDARD.encode(sig)
        )
    }
}

fn sm2_key(seed: u8) -> anyhow::Result<sm2::dsa::SigningKey> {
    let sk = sm2::SecretKey::from_slice(&[seed; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
    sm2::dsa::SigningKey::new(quan_engine::platform_key::SIGNER_ID, &sk).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Registers the two partners (HMAC and SM2) and points the HMAC one's webhooks at `hooks`.
async fn partners(r: &Ready) -> anyhow::Result<(PartnerKeys, PartnerKeys)> {
    let e = |x: &dyn std::fmt::Display| anyhow::anyhow!("{x}");
    let official = crate::setup::staff(&r.engine, "bench.partners", Role::Official).await?;
    let new = |name: &str, key| NewPartner {
        name: name.into(),
        kind: "bank".into(),
        mode: "live".into(),
        scopes: vec!["checkout".into()],
        key,
    };
    let (p, k) = r.engine.create_partner(&official, new("压测银行", NewKey::Hmac)).await.map_err(|x| e(&x))?;
    let hmac =
        PartnerKeys { id: p.id.to_string(), serial: k.serial_no, hmac: k.secret.map(String::into_bytes), sm2: None };
    let key = sm2_key(7)?;
    let public = hex::encode(key.verifying_key().to_sec1_bytes());
    let sm2_new = NewKey::Sm2 { public_key: public, serial_no: None };
    let (p, k) = r.engine.create_partner(&official, new("压测支付", sm2_new)).await.map_err(|x| e(&x))?;
    let sm2 = PartnerKeys { id: p.id.to_string(), serial: k.serial_no, hmac: None, sm2: Some(key) };
    Ok((hmac, sm2))
}

/// What a connection sends for voucher `i` of its leg: one request (the
/// till) or three (quote, lock, confirm), each built when sent.
#[derive(Clone)]
enum Way {
    Till(Arc<Vec<String>>),
    Partner(Arc<PartnerKeys>, String),
}

static NONCE: AtomicUsize = AtomicUsize::new(0);

fn requests(way: &Way, code: &str, i: usize, ts: i64) -> Vec<(String, u16)> {
    match way {
        Way::Till(tokens) => {
            let body = format!("{{\"code\":\"{code}\",\"order_amount_fen\":5000}}");
            vec![(
                format!(
                    "POST /api/v1/redemptions HTTP/1.1\r\nHost: quan\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    tokens[i % tokens.len()],
                    body.len()
                ),
                201,
            )]
        }
        Way::Partner(s, merchant) => {
            let order = format!("{{\"voucher_code\":\"{code}\",\"merchant_id\":\"{merchant}\",\"amount_fen\":5000");
            let no = format!("B{i}");
            let steps = [
                ("/partner/v1/checkout/quotes".to_owned(), format!("{order}}}")),
                ("/partner/v1/checkout/orders".to_owned(), format!("{order},\"out_trade_no\":\"{no}\"}}")),
                (format!("/partner/v1/checkout/orders/{no}/confirm"), format!("{{\"transaction_id\":\"T{i}\"}}")),
            ];
            steps
                .into_iter()
                .map(|(path, body)| {
                    let nonce = format!("n{}", NONCE.fetch_add(1, Ordering::Relaxed));
                    let auth = s.header("POST", &path, ts, &nonce, body.as_bytes());
                    let raw = format!(
                        "POST {path} HTTP/1.1\r\nHost: quan\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    (raw, 200)
                })
                .collect()
        }
    }
}

/// A closed loop over `codes` on `connections` connections: (done, latencies, seconds).
async fn leg(
    addr: SocketAddr,
    way: Way,
    codes: Arc<Vec<String>>,
    connections: usize,
    ts: i64,
) -> anyhow::Result<(usize, Vec<Duration>, Duration, Instant)> {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (codes, next, done, way) = (codes.clone(), next.clone(), done.clone(), way.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = quan_http::client::Conn::connect(addr).await?;
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                let t = Instant::now();
                let mut ok = true;
                for (raw, want) in requests(&way, code, i, ts) {
                    let (status, body) = conn.request(&raw).await?;
                    if status != want && ok {
                        tracing::warn!(status, body = %String::from_utf8_lossy(&body), "a checkout step failed");
                    }
                    ok &= status == want;
                }
                lat.push(t.elapsed());
                if ok {
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
    Ok((done.load(Ordering::Relaxed), lat, started.elapsed(), started))
}

/// Signature work alone, one thread: (SM2 verifies/s, HMAC checks/s, SM2 signatures/s: what
/// the platform key pays for each answer).
fn crypto_alone() -> anyhow::Result<(f64, f64, f64)> {
    let body = br#"{"voucher_code":"QV1.0123456789abcdef","merchant_id":"01a24d1b-0000-7000-8000-000000000000","amount_fen":5000,"out_trade_no":"B1"}"#;
    let m = partner_auth::message("POST", "/partner/v1/checkout/orders", 1_796_460_000, "n1", body);
    let key = sm2_key(9)?;
    let sig: sm2::dsa::Signature = key.sign(&m);
    let vk = key.verifying_key();
    let n = 2_000;
    let t = Instant::now();
    let ok = (0..n).filter(|_| vk.verify(&m, &sig).is_ok()).count();
    let sm2_rate = ok as f64 / t.elapsed().as_secs_f64();
    let secret = b"qps_secretsecretsecretsecretsecretsecret";
    let mac = partner_auth::hmac_sha256(secret, &m);
    let n = 200_000;
    let t = Instant::now();
    let ok = (0..n).filter(|_| partner_auth::check_hmac(secret, &m, &mac).is_ok()).count();
    let hmac_rate = ok as f64 / t.elapsed().as_secs_f64();
    let n = 2_000;
    let t = Instant::now();
    for _ in 0..n {
        let s: sm2::dsa::Signature = key.sign(&m);
        std::hint::black_box(s);
    }
    Ok((sm2_rate, hmac_rate, f64::from(n) / t.elapsed().as_secs_f64()))
}

/// A receiver counting what it is posted.
async fn receiver() -> anyhow::Result<(String, Arc<AtomicUsize>)> {
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let g = g.clone();
            async move {
                g.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}/hooks"), got))
}

/// The figures of one backend.
pub struct Figures {
    pub runs: Vec<Run>,
    pub sm2_verify_per_s: f64,
    pub hmac_per_s: f64,
    pub sm2_sign_per_s: f64,
    pub webhooks_per_s: f64,
    pub webhooks: usize,
}

async fn on_backend(pg: bool, o: &PartnerBench) -> anyhow::Result<Figures> {
    let label = if pg { "PostgreSQL" } else { "SQLite" };
    let dir = tempfile::tempdir()?;
    let name = format!("quan_partner_bench_{}", std::process::id());
    let (store, pgpool, sqlite) = crate::redeem::open_store(pg, &o.pg_admin_url, &name, dir.path()).await?;
    let base = RedeemBench {
        vouchers: o.per_leg * 3,
        merchants: o.merchants,
        concurrency: o.connections,
        http_rate: 0,
        http_connections: o.connections,
        pg_admin_url: o.pg_admin_url.clone(),
        sqlite: !pg,
        postgres: pg,
        engine: false,
        http: true,
        cashout: false,
    };
    let config = quan_engine::EngineConfig { webhooks_allow_private: true, ..quan_engine::EngineConfig::default() };
    let r = crate::redeem::ready_with(store, pgpool.as_ref(), sqlite.as_ref(), &base, config).await?;
    let figures = legs(&r, o, label).await;
    drop(r);
    if let Some(p) = pgpool {
        p.close().await;
        crate::setup::drop_database(&o.pg_admin_url, &name).await;
    }
    figures
}

async fn legs(r: &Ready, o: &PartnerBench, label: &str) -> anyhow::Result<Figures> {
    let (hmac, sm2) = partners(r).await?;
    let (hooks, got) = receiver().await?;
    set_hooks(r, &hmac, &hooks).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let engine = r.engine.clone();
    let server = tokio::spawn(async move {
        quan_http::serve(engine, &quan_http::HttpConfig::default(), listener, async move {
            let _ = stop_rx.await;
        })
        .await
    });
    let mut codes = Vec::with_capacity(r.held.len());
    for (actor, voucher) in &r.held {
        codes.push(r.engine.voucher_code(actor, *voucher).await.map_err(|e| anyhow::anyhow!("{e}"))?.code);
    }
    let merchant = first_merchant(r).await?;
    let ts = r.engine.now().timestamp();
    let tokens: Arc<Vec<String>> = Arc::new(r.cashiers.iter().map(|(_, t)| t.clone()).collect());
    let ways = [
        (format!("till: redeem over HTTP, {label}"), Way::Till(tokens)),
        (format!("partner HMAC-SHA256: quote+lock+confirm, {label}"), Way::Partner(Arc::new(hmac), merchant.clone())),
        (format!("partner SM2-with-SM3: quote+lock+confirm, {label}"), Way::Partner(Arc::new(sm2), merchant)),
    ];
    let mut runs = Vec::new();
    let mut redeemed = 0;
    for (k, (name, way)) in ways.into_iter().enumerate() {
        let part = Arc::new(codes[k * o.per_leg..(k + 1) * o.per_leg].to_vec());
        let (done, lat, elapsed, started) = leg(addr, way, part, o.connections, ts).await?;
        redeemed += done;
        let inv = if done == o.per_leg { "ok".to_owned() } else { format!("VIOLATED: {done} of {} done", o.per_leg) };
        runs.push(finish(&name, o.per_leg, done, started, elapsed, elapsed, lat, inv));
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    let inv = crate::redeem::check(r, redeemed, 1000).await?;
    if let Some(last) = runs.last_mut()
        && inv.starts_with("VIOLATED")
    {
        last.invariants = inv;
    }
    let (webhooks, webhooks_per_s) = deliver_all(r, &got).await?;
    let (sm2_verify_per_s, hmac_per_s, sm2_sign_per_s) = crypto_alone()?;
    Ok(Figures { runs, sm2_verify_per_s, hmac_per_s, sm2_sign_per_s, webhooks_per_s, webhooks })
}

/// Points the partner's webhooks at `url` (through a signed call, as the partner would).
async fn set_hooks(r: &Ready, s: &PartnerKeys, url: &str) -> anyhow::Result<()> {
    let path = "/partner/v1/webhook-endpoint";
    let body = format!("{{\"url\":\"{url}\"}}");
    let header = s.header("PUT", path, r.engine.now().timestamp(), "hooks", body.as_bytes());
    let scope = quan_domain::partner::Scope::Checkout;
    let a = r.engine.authenticate_partner(Some(&header), "PUT", path, body.as_bytes(), scope).await;
    let a = a.map_err(|e| anyhow::anyhow!("{e}"))?;
    r.engine.set_webhook_endpoint(&a, url).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

async fn first_merchant(r: &Ready) -> anyhow::Result<String> {
    r.cashiers
        .iter()
        .find_map(|(a, _)| match a {
            quan_engine::Actor::Staff { user, .. } => user.merchant.map(|m| m.to_string()),
            quan_engine::Actor::Resident { .. } => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no merchant"))
}

/// Delivery rounds until the outbox is empty: (delivered, per second).
async fn deliver_all(r: &Ready, got: &AtomicUsize) -> anyhow::Result<(usize, f64)> {
    let t = Instant::now();
    let mut delivered = 0usize;
    loop {
        let round = r.engine.deliver_webhooks().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        delivered += round.delivered as usize;
        if round.attempted == 0 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let received = got.load(Ordering::Relaxed);
    if received != delivered {
        anyhow::bail!("the receiver got {received} webhooks, the outbox says {delivered} delivered");
    }
    Ok((delivered, delivered as f64 / secs.max(1e-9)))
}

pub async fn run(o: &PartnerBench, json: bool) -> anyhow::Result<String> {
    crate::cpu::start();
    let mut all = vec![on_backend(false, o).await?];
    if o.postgres {
        all.push(on_backend(true, o).await?);
    }
    let violated = all.iter().flat_map(|f| &f.runs).any(|r| r.invariants.starts_with("VIOLATED"));
    let out = if json {
        let list: Vec<_> = all
            .iter()
            .map(|f| {
                serde_json::json!({"runs": f.runs, "sm2_verify_per_s": f.sm2_verify_per_s, "hmac_per_s": f.hmac_per_s, "sm2_sign_per_s": f.sm2_sign_per_s,
                    "webhooks": f.webhooks, "webhooks_per_s": f.webhooks_per_s})
            })
            .collect();
        serde_json::json!({"per_leg": o.per_leg, "connections": o.connections, "backends": list}).to_string() + "\n"
    } else {
        let mut out = format!("{} vouchers per leg, {} connections, closed loop\n", o.per_leg, o.connections);
        for f in &all {
            for r in &f.runs {
                out.push_str(&format!(
                    "{:<58} {:>8.0} checkouts/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {}\n",
                    r.name, r.claims_per_s, r.p50_ms, r.p99_ms, r.invariants
                ));
            }
            let till = f.runs.first().map_or(1.0, |r| r.claims_per_s.max(1.0));
            for r in f.runs.iter().skip(1) {
                out.push_str(&format!("  {} ÷ till: {:.2}\n", r.name, r.claims_per_s / till));
            }
            out.push_str(&format!(
                "  signature work alone (one thread): SM2 verify {:.0}/s, HMAC-SHA256 {:.0}/s, SM2 sign (each answer) {:.0}/s\n",
                f.sm2_verify_per_s, f.hmac_per_s, f.sm2_sign_per_s
            ));
            // Three signed answers per checkout: what signing them alone allows on every core.
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            out.push_str(&format!(
                "  answers' signatures alone cap a checkout at {:.0}/s on {cores:.0} cores ({:.2} of the till)\n",
                f.sm2_sign_per_s * cores / 3.0,
                f.sm2_sign_per_s * cores / 3.0 / till
            ));
            out.push_str(&format!(
                "  webhooks: {} delivered to a local receiver, {:.0}/s\n",
                f.webhooks, f.webhooks_per_s
            ));
        }
        out
    };
    if violated {
        anyhow::bail!("an invariant was violated:\n{out}");
    }
    Ok(out)
}
