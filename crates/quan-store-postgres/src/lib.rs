//! The PostgreSQL backend, for production and for several `quan serve` nodes
//! sharing one database. It behaves exactly like the SQLite backend; the
//! conformance suite in `quan-store` proves it on both.

mod migrate;
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use quan_store::{HealthStore, Migration, PoolStats, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// The migrations of this backend, in order: the one list both backends
/// share (`quan_store::migrations!`), with this backend's SQL files.
pub const MIGRATIONS: &[Migration] = quan_store::migrations!("../migrations");

/// Commits of one committer (claims of a batch, redemptions) that run at
/// once, each on its own connection of the batch pool.
const COMMITS_IN_PARALLEL: usize = 4;

// Commits of one batch run four at a time, each on its own stock buckets,
// never waiting for a bucket another commit holds.
quan_store::impl_sql_store!(
    PgStore,
    sqlx::postgres::PgRow,
    commits_in_parallel: COMMITS_IN_PARALLEL,
    stock_pick_lock: "FOR UPDATE SKIP LOCKED"
);

/// Limits of the connection pool.
#[derive(Debug, Clone)]
pub struct PgOptions {
    pub pool_connections_max: u32,
    pub connect_timeout_ms: u64,
    /// A schema of its own (created when missing) instead of the
    /// database's default: the partner sandbox's data beside the live data,
    /// never mixed with it.
    pub schema: Option<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions { pool_connections_max: 16, connect_timeout_ms: 5_000, schema: None }
    }
}

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    batch_pool: PgPool,
    max: u32,
    commit_retries: std::sync::Arc<quan_store::CommitRetryCounters>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the
    /// schema up to date. Fails quickly with the driver's reason when the
    /// server cannot be reached.
    pub async fn open(url: &str, opts: PgOptions) -> Result<PgStore, StoreError> {
        Self::open_migrating(url, opts, MIGRATIONS).await
    }

    /// Connects to `url` with the schema brought up to migration `version`
    /// only: for tests of a migration over the rows of the layout before it.
    #[doc(hidden)]
    pub async fn open_at_migration(url: &str, opts: PgOptions, version: i64) -> Result<PgStore, StoreError> {
        let upto = MIGRATIONS.iter().take_while(|m| m.version <= version).count();
        Self::open_migrating(url, opts, &MIGRATIONS[..upto]).await
    }

    async fn open_migrating(url: &str, opts: PgOptions, migrations: &[Migration]) -> Result<PgStore, StoreError> {
        let mut connect = PgConnectOptions::from_str(url).map_err(StoreError::other)?.application_name("quan");
        if let Some(schema) = &opts.schema {
            connect = in_schema(connect, schema, opts.connect_timeout_ms).await?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(opts.pool_connections_max)
            .acquire_timeout(Duration::from_millis(opts.connect_timeout_ms))
            .connect_with(connect.clone())
            .await
            .map_err(StoreError::other)?;
        migrate::run(&pool, migrations).await?;
        // The committers' own connections: room for the claim committer's
        // and the redemption committer's parallel commits.
        let batch_pool = PgPoolOptions::new()
            .max_connections(2 * COMMITS_IN_PARALLEL as u32)
            .acquire_timeout(Duration::from_millis(opts.connect_timeout_ms))
            .connect_lazy_with(connect);
        Ok(PgStore { pool, batch_pool, max: opts.pool_connections_max, commit_retries: std::sync::Arc::default() })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        migrate::applied_versions(&self.pool).await
    }

    /// The pool the claim and redemption committers write through, apart
    /// from the one requests read through: a few connections that each run
    /// many commits, so PostgreSQL plans the commit's statements once per
    /// connection (and switches to its generic plans after five runs)
    /// instead of on every connection of the shared pool, and a commit
    /// never waits for a connection behind reads.
    pub fn batch_pool(&self) -> &PgPool {
        &self.batch_pool
    }

    pub fn commit_retry_counters(&self) -> &quan_store::CommitRetryCounters {
        &self.commit_retries
    }

    pub async fn close(&self) {
        self.batch_pool.close().await;
        self.pool.close().await;
    }
}

/// Connection options whose statements read and write `schema` only
/// (created when missing); its name is letters, digits and `_`.
async fn in_schema(connect: PgConnectOptions, schema: &str, timeout_ms: u64) -> Result<PgConnectOptions, StoreError> {
    let plain = !schema.is_empty() && schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !plain {
        return Err(StoreError::message(format!("schema name `{schema}` is not lower-case letters, digits and _")));
    }
    let once = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(timeout_ms))
        .connect_with(connect.clone())
        .await
        .map_err(StoreError::other)?;
    let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
    // Two nodes starting at once may both create it: the loser's error is no error.
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&once).await {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&once)
            .await
            .map_err(StoreError::other)?;
        if !exists {
            return Err(StoreError::other(e));
        }
    }
    once.close().await;
    Ok(connect.options([("search_path", schema)]))
}

#[async_trait]
impl HealthStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(StoreError::other)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.max,
        }
    }
}
