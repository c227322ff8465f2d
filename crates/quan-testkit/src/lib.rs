//! Test helpers: a real quan server on port 0 over a fresh SQLite file or a
//! fresh PostgreSQL database, with a fixed clock, a seeded random source and
//! an in-memory SMS gateway, plus typed helpers for calling it.

pub mod fixtures;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use quan_domain::{FixedClock, Region, Role, Username};
use quan_engine::users::NewAccount;
use quan_engine::{Engine, EngineConfig, EngineParts, MemorySmsSender, PasswordParams, PiiKey, SeededRandom};
use quan_store::{Store, User};
use quan_store_postgres::testing::{TestDatabase, fresh_database};
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use quan_store_postgres::testing::fresh_database as fresh_pg_database;

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A direct handle on the test database, for fault injection.
#[derive(Debug, Clone)]
enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[derive(Debug)]
#[allow(dead_code)] // Held only to be dropped at the end of the test.
enum Guard {
    Dir(tempfile::TempDir),
    Pg(TestDatabase),
}

/// 10:00:00 on 2026-11-26 in Beijing.
pub fn default_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

/// Options for [`TestApp::start`].
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub backend: Backend,
    /// Production-strength argon2 (slow); otherwise a cheap setting.
    pub real_password_hashing: bool,
    pub body_bytes_max: usize,
    pub metrics: quan_http::MetricsAccess,
    pub trusted_proxies: quan_http::TrustedProxies,
    /// The cash-out rules at redemption (the defaults otherwise).
    pub cashout: quan_domain::cashout::Rules,
    /// Webhooks may go to this machine (a test's receiver).
    pub webhooks_allow_private: bool,
    /// Roots (PEM) webhook deliveries trust beside the system's.
    pub webhooks_roots_pem: Option<String>,
    /// A partner sandbox attached, as `quan serve` has: `sandbox.db` beside
    /// the database, or the `quan_sandbox` schema on PostgreSQL.
    pub sandbox: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            backend: Backend::Sqlite,
            real_password_hashing: false,
            body_bytes_max: 64 * 1024,
            metrics: quan_http::MetricsAccess::default(),
            trusted_proxies: quan_http::TrustedProxies::default(),
            cashout: quan_domain::cashout::Rules::default(),
            webhooks_allow_private: false,
            webhooks_roots_pem: None,
            sandbox: false,
        }
    }
}

/// The sandbox's store: `sandbox.db` in the test's folder, or the
/// `quan_sandbox` schema of its PostgreSQL database.
async fn sandbox_store(guard: &Guard, pg_url: Option<&str>) -> Arc<dyn Store> {
    match (guard, pg_url) {
        (_, Some(url)) => {
            let opts = PgOptions { schema: Some("quan_sandbox".into()), ..PgOptions::default() };
            Arc::new(PgStore::open(url, opts).await.unwrap_or_else(|e| panic!("sandbox schema: {e}")))
        }
        (Guard::Dir(dir), None) => Arc::new(
            SqliteStore::open(&dir.path().join("sandbox.db"), SqliteOptions::default())
                .await
                .unwrap_or_else(|e| panic!("sandbox: {e}")),
        ),
        (Guard::Pg(_), None) => panic!("a PostgreSQL test has its database's URL"),
    }
}

/// A running server and what a test needs to drive it.
#[derive(Debug)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub clock: Arc<FixedClock>,
    pub sms: Arc<MemorySmsSender>,
    raw: RawDb,
    /// For PostgreSQL: the database URL, so a second node can join.
    pub database_url: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    _guard: Guard,
}

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl TestApp {
    /// A server on SQLite.
    pub async fn sqlite() -> TestApp {
        match Self::start(TestOptions::default()).await {
            Some(app) => app,
            None => panic!("SQLite is always available"),
        }
    }

    /// A server on a fresh PostgreSQL database; `None` when PostgreSQL is
    /// unreachable outside CI (in CI that panics instead).
    pub async fn postgres() -> Option<TestApp> {
        Self::start(TestOptions { backend: Backend::Postgres, ..TestOptions::default() }).await
    }

    pub async fn start(opts: TestOptions) -> Option<TestApp> {
        let mut database_url = None;
        let (store, raw, guard): (Arc<dyn Store>, RawDb, Guard) = match opts.backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
                let s = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("sqlite: {e}"));
                let raw = RawDb::Sqlite(s.pool().clone());
                (Arc::new(s), raw, Guard::Dir(dir))
            }
            Backend::Postgres => {
                let db = fresh_database().await?;
                let s = PgStore::open(&db.url, PgOptions::default()).await.unwrap_or_else(|e| panic!("postgres: {e}"));
                let raw = RawDb::Postgres(s.pool().clone());
                database_url = Some(db.url.clone());
                (Arc::new(s), raw, Guard::Pg(db))
            }
        };
        let clock = Arc::new(FixedClock::new(default_now()));
        let sms = Arc::new(MemorySmsSender::default());
        let password = if opts.real_password_hashing {
            PasswordParams::default()
        } else {
            PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 }
        };
        let engine = Engine::new(EngineParts {
            store: store.clone(),
            clock: clock.clone(),
            random: Arc::new(SeededRandom::new(0x5eed)),
            sms: sms.clone(),
            pii_key: PiiKey::from_bytes([0x42; 32]),
            config: EngineConfig {
                password,
                cashout: opts.cashout.clone(),
                webhooks_allow_private: opts.webhooks_allow_private,
                webhooks_roots_pem: opts.webhooks_roots_pem.clone(),
                ..EngineConfig::default()
            },
        });
        if opts.sandbox {
            engine.attach_sandbox(sandbox_store(&guard, database_url.as_deref()).await);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        let (tx, rx) = oneshot::channel::<()>();
        let http = quan_http::HttpConfig {
            body_bytes_max: opts.body_bytes_max,
            metrics: opts.metrics.clone(),
            trusted_proxies: opts.trusted_proxies.clone(),
            pages: Some(quan_web::router),
            ..quan_http::HttpConfig::default()
        };
        let server_engine = engine.clone();
        let server = tokio::spawn(async move {
            quan_http::serve(server_engine, &http, listener, async move {
                let _ = rx.await;
            })
            .await
        });
        Some(TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            engine,
            store,
            clock,
            sms,
            raw,
            database_url,
            shutdown: Some(tx),
            server: Some(server),
            _guard: guard,
        })
    }

    /// Creates a staff account directly (as `quan admin create-user` does)
    /// and returns it with its password.
    pub async fn create_staff(&self, username: &str, role: Role, region: &str) -> (User, String) {
        let password = format!("{username}-password-123");
        let new = NewAccount {
            username: Username::parse(username).unwrap_or_else(|e| panic!("{e}")),
            role,
            region: Region::parse(region).unwrap_or_else(|e| panic!("{e}")),
            display_name: username.to_owned(),
            password: Some(password.clone()),
        };
        let (user, _) =
            self.engine.create_user_unchecked(new, None).await.unwrap_or_else(|e| panic!("create {username}: {e}"));
        (user, password)
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .post("/api/v1/auth/login", None, &serde_json::json!({"username": username, "password": password}))
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().unwrap_or_default().to_owned()
    }

    /// A staff account created and logged in: its id and token.
    pub async fn staff(&self, username: &str, role: Role, region: &str) -> (User, String) {
        let (user, pw) = self.create_staff(username, role, region).await;
        let token = self.login(username, &pw).await;
        (user, token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> (StatusCode, Value) {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = resp.status();
        let text = resp.text().await.map_err(fail("body")).unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, body)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path)), token).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(self.client.delete(self.url(path)), token).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.send(self.client.post(self.url(path)).json(body), token).await
    }

    /// POSTs JSON with extra headers (a device token, a forwarded address).
    pub async fn post_headers(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self.client.post(self.url(path)).json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req, token).await
    }

    /// Creates campaign `doc` as `official`, funds its whole budget and
    /// starts it: (campaign id, first batch id).
    pub async fn running_campaign(&self, official: &str, doc: &Value) -> (String, String) {
        let (status, created) = self.post("/api/v1/campaigns", Some(official), doc).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
        let batch = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
        let budget = doc["campaign"]["budget_fen"].clone();
        self.post(
            &format!("/api/v1/campaigns/{cid}/funding"),
            Some(official),
            &serde_json::json!({"amount_fen": budget}),
        )
        .await;
        self.post(&format!("/api/v1/campaigns/{cid}/start"), Some(official), &serde_json::json!({})).await;
        (cid, batch)
    }

    /// POSTs raw bytes with a content type, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        self.send(self.client.post(self.url(path)).header("content-type", content_type).body(body), None).await
    }

    /// A second server process on the same PostgreSQL database, as a second
    /// node of a deployment would be (own engine, memory and sequencers; the
    /// same clock, key and SMS outbox). `None` for SQLite.
    pub async fn second_node(&self) -> Option<TestApp> {
        let url = self.database_url.clone()?;
        let s = PgStore::open(&url, PgOptions::default()).await.unwrap_or_else(|e| panic!("postgres: {e}"));
        let raw = RawDb::Postgres(s.pool().clone());
        let store: Arc<dyn Store> = Arc::new(s);
        let engine = Engine::new(EngineParts {
            store: store.clone(),
            clock: self.clock.clone(),
            random: Arc::new(SeededRandom::new(0x5eed_0002)),
            sms: self.sms.clone(),
            pii_key: PiiKey::from_bytes([0x42; 32]),
            config: EngineConfig {
                password: PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 },
                webhooks_allow_private: self.engine.config().webhooks_allow_private,
                webhooks_roots_pem: self.engine.config().webhooks_roots_pem.clone(),
                ..EngineConfig::default()
            },
        });
        if self.engine.sandbox().is_some() {
            engine.attach_sandbox(sandbox_store(&self._guard, Some(&url)).await);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        let (tx, rx) = oneshot::channel::<()>();
        let http = quan_http::HttpConfig::default();
        let server_engine = engine.clone();
        let server = tokio::spawn(async move {
            quan_http::serve(server_engine, &http, listener, async move {
                let _ = rx.await;
            })
            .await
        });
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        Some(TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            engine,
            store,
            clock: self.clock.clone(),
            sms: self.sms.clone(),
            raw,
            database_url: Some(url),
            shutdown: Some(tx),
            server: Some(server),
            _guard: Guard::Dir(dir),
        })
    }

    /// Runs SQL directly on the test database, behind the server's back
    /// (fault injection: damage the schema, then check the answers).
    pub async fn exec_sql(&self, sql: &'static str) {
        let r = match &self.raw {
            RawDb::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
            RawDb::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column of every row `sql` returns, as text (for tests
    /// that look at what is stored, behind the API's back).
    pub async fn query_text(&self, sql: &'static str) -> Vec<String> {
        use sqlx::Row as _;
        match &self.raw {
            RawDb::Sqlite(p) => sqlx::query(sql)
                .fetch_all(p)
                .await
                .map(|rows| rows.iter().map(|r| r.try_get::<String, _>(0).unwrap_or_default()).collect()),
            RawDb::Postgres(p) => sqlx::query(sql)
                .fetch_all(p)
                .await
                .map(|rows| rows.iter().map(|r| r.try_get::<String, _>(0).unwrap_or_default()).collect()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Closes every database connection of the server, as if the database
    /// had gone away.
    pub async fn close_database(&self) {
        match &self.raw {
            RawDb::Sqlite(p) => p.close().await,
            RawDb::Postgres(p) => p.close().await,
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}

/// Asserts the uniform error shape and returns the code.
pub fn error_code(body: &Value) -> &str {
    let e = &body["error"];
    assert!(e["request_id"].as_str().is_some_and(|s| !s.is_empty()), "error without request id: {body}");
    assert!(e["message"].as_str().is_some(), "error without message: {body}");
    e["code"].as_str().unwrap_or_else(|| panic!("not an error body: {body}"))
}
