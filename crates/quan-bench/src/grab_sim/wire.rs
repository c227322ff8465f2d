//! `quan simulate grab --http`: the same population through the real
//! server. The engine of the grab (its simulated clock, its store) serves
//! HTTP on a loopback port; every account holds a session and a bearer
//! token, and each challenge and claim is a request with the account's
//! address (`X-Forwarded-For`, the loopback trusted as its proxy) and device
//! (`Quan-Device`), answered by the same routes a phone meets.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use quan_domain::BatchId;
use quan_engine::Engine;
use quan_engine::SystemRandom;
use quan_engine::claims::{ClaimContext, PowSolution};
use quan_http::client::Conn;
use tokio::sync::oneshot;

/// The server and the accounts' tokens.
pub struct Wire {
    addr: SocketAddr,
    tokens: Vec<String>,
    idle: Mutex<Vec<Conn>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A challenge as the account received it.
pub struct Fetched {
    pub challenge: String,
    pub bits: u8,
    pub signals: usize,
}

impl Wire {
    /// A session for each of `accounts` residents (session id = resident id,
    /// as `Actors` has them), and the engine serving on a free port.
    pub async fn start(engine: &Engine, pool: &sqlx::SqlitePool, accounts: usize) -> anyhow::Result<Wire> {
        let now = engine.clock().now().timestamp_millis();
        let expires = now + 40 * 24 * 3600 * 1000;
        let rows: Vec<(uuid::Uuid, Vec<u8>, String)> = (0..accounts)
            .map(|i| {
                let (token, hash) = quan_engine::secrets::new_token(&SystemRandom);
                (super::actors::resident_uuid(i), hash.to_vec(), token)
            })
            .collect();
        crate::setup::sqlite_insert(
            pool,
            "INSERT INTO sessions (id, token_hash, resident_id, created_at_ms, expires_at_ms)",
            "(?, ?, ?, ?, ?)",
            &rows,
            |q, r| q.bind(r.0).bind(r.1.as_slice()).bind(r.0).bind(now).bind(expires),
        )
        .await?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let config = quan_http::HttpConfig {
            trusted_proxies: quan_http::TrustedProxies::parse("127.0.0.1").map_err(anyhow::Error::msg)?,
            ..quan_http::HttpConfig::default()
        };
        let (tx, rx) = oneshot::channel::<()>();
        let engine = engine.clone();
        let server = tokio::spawn(async move {
            quan_http::serve(engine, &config, listener, async move {
                let _ = rx.await;
            })
            .await
        });
        Ok(Wire {
            addr,
            tokens: rows.into_iter().map(|r| r.2).collect(),
            idle: Mutex::new(Vec::new()),
            shutdown: Some(tx),
            server,
        })
    }

    /// Account `i` asks for its challenge.
    pub async fn challenge(&self, i: usize, batch: BatchId, ctx: &ClaimContext) -> anyhow::Result<Fetched> {
        let path = format!("/api/v1/batches/{batch}/challenge");
        let (status, body) = self.post(i, &path, ctx, "{}").await?;
        anyhow::ensure!(status == 200, "challenge refused: {}", code(status, &body));
        let signals = body["signals"].as_array().map_or(0, Vec::len);
        Ok(Fetched {
            challenge: body["challenge"].as_str().unwrap_or_default().to_owned(),
            bits: body["bits"].as_u64().and_then(|b| u8::try_from(b).ok()).unwrap_or(0),
            signals,
        })
    }

    /// Account `i` presses: `claimed`, or the refusal's code.
    pub async fn claim(&self, i: usize, batch: BatchId, ctx: &ClaimContext) -> String {
        let body = match &ctx.pow {
            Some(PowSolution { challenge, nonce }) => {
                serde_json::json!({"pow_challenge": challenge, "pow_nonce": nonce}).to_string()
            }
            None => "{}".to_owned(),
        };
        match self.post(i, &format!("/api/v1/batches/{batch}/claims"), ctx, &body).await {
            Ok((201, _)) => "claimed".to_owned(),
            Ok((status, body)) => code(status, &body),
            Err(e) => format!("unanswered: {e}"),
        }
    }

    async fn post(
        &self,
        i: usize,
        path: &str,
        ctx: &ClaimContext,
        body: &str,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let address = ctx.address.map(|a| a.to_string()).unwrap_or_default();
        let device = ctx.device.as_deref().unwrap_or_default();
        let raw = format!(
            "POST {path} HTTP/1.1\r\nHost: quan\r\nAuthorization: Bearer {}\r\nX-Forwarded-For: {address}\r\nQuan-Device: {device}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.tokens[i],
            body.len()
        );
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match idle {
            Some(c) => c,
            None => Conn::connect(self.addr).await?,
        };
        let (status, bytes) = conn.request(&raw).await?;
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let _ = (&mut self.server).await;
    }
}

/// An error body's code (`http_<status>` when it has none).
fn code(status: u16, body: &serde_json::Value) -> String {
    body["error"]["code"].as_str().map_or_else(|| format!("http_{status}"), str::to_owned)
}
