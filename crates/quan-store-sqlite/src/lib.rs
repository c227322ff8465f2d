//! The SQLite backend: one file in WAL mode with `synchronous = FULL`, so a
//! committed transaction is on disk before quan answers. It is the default:
//! `quan serve` with no options needs no other service.

mod migrate;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use quan_store::{HealthStore, Migration, PoolStats, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// The migrations of this backend, in order: the one list both backends
/// share (`quan_store::migrations!`), with this backend's SQL files.
pub const MIGRATIONS: &[Migration] = quan_store::migrations!("../migrations");

// One writer at a time in SQLite: commits of one batch run one by one, and
// a stock bucket needs no lock.
quan_store::impl_sql_store!(SqliteStore, sqlx::sqlite::SqliteRow, commits_in_parallel: 1, stock_pick_lock: "");

/// Limits of the connection pool. SQLite has one writer at a time; readers
/// run alongside it in WAL mode.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    pub pool_connections_max: u32,
    pub busy_timeout_ms: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { pool_connections_max: 8, busy_timeout_ms: 5_000 }
    }
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection of its own for the claim and redemption committers:
    /// SQLite has one writer anyway, and this way a commit never queues for
    /// a connection behind hundreds of reads.
    batch_pool: SqlitePool,
    max: u32,
    commit_retries: std::sync::Arc<quan_store::CommitRetryCounters>,
    /// Ends the background checkpoints when the last clone of the store goes.
    _checkpointer: std::sync::Arc<Checkpointer>,
}

/// How often the WAL is copied into the database file in the background.
pub const CHECKPOINT_EVERY_MS: u64 = 100;
/// The committers' connection checkpoints itself only when the WAL has
/// grown this many pages past the last checkpoint (the background ones
/// fell behind): a bound on the WAL, off the commit path otherwise.
pub const COMMITTER_CHECKPOINT_PAGES: u32 = 10_000;

/// The background checkpoint task, stopped when dropped.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Copies the WAL into the database file every `CHECKPOINT_EVERY_MS`
/// (`PASSIVE`: it never waits for the writer, and the writer never waits for
/// it), so that a commit of claims or redemptions does not run a checkpoint
/// itself: with SQLite's default, the committing connection copied ~1 000
/// pages into the database file and synced it every second or third commit
/// of a grab (docs/PERFORMANCE.md, ninth session).
async fn checkpoint_in_background(pool: SqlitePool) {
    let mut every = tokio::time::interval(Duration::from_millis(CHECKPOINT_EVERY_MS));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::debug!(error = %e, "background checkpoint skipped");
        }
    }
}

/// A database created if missing, in WAL mode with `synchronous = FULL`
/// (every commit is on disk), foreign keys on.
fn durable(connect: SqliteConnectOptions, opts: &SqliteOptions) -> SqliteConnectOptions {
    connect
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(opts.busy_timeout_ms))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, and brings its
    /// schema up to date.
    /// The database file and its WAL and shared-memory files are the
    /// owner's only (0600): SQLite gives the `-wal` and `-shm` files the
    /// mode of the database file, which is created here before SQLite
    /// opens it; files of an older version are narrowed to 0600.
    pub async fn open(path: &Path, opts: SqliteOptions) -> Result<SqliteStore, StoreError> {
        owner_only_files(path)?;
        let store = Self::connect(durable(SqliteConnectOptions::new().filename(path), &opts), opts, MIGRATIONS).await?;
        owner_only_files(path)?;
        Ok(store)
    }

    /// Opens a `sqlite://` URL (e.g. `sqlite:///var/lib/quan/quan.db`).
    pub async fn open_url(url: &str, opts: SqliteOptions) -> Result<SqliteStore, StoreError> {
        let connect = SqliteConnectOptions::from_str(url).map_err(StoreError::other)?;
        Self::connect(durable(connect, &opts), opts, MIGRATIONS).await
    }

    /// Opens the database file at `path` with its schema brought up to
    /// migration `version` only: for tests of a migration over the rows of
    /// the layout before it.
    #[doc(hidden)]
    pub async fn open_at_migration(path: &Path, opts: SqliteOptions, version: i64) -> Result<SqliteStore, StoreError> {
        let upto = MIGRATIONS.iter().take_while(|m| m.version <= version).count();
        Self::connect(durable(SqliteConnectOptions::new().filename(path), &opts), opts, &MIGRATIONS[..upto]).await
    }

    async fn connect(
        connect: SqliteConnectOptions,
        opts: SqliteOptions,
        migrations: &[Migration],
    ) -> Result<SqliteStore, StoreError> {
        // 32 MiB of page cache per connection (SQLite's default is 2 MiB):
        // a grab's claim, slot and voucher indexes outgrow 2 MiB within
        // seconds, and every insert then re-reads pages from the OS.
        let connect = connect.pragma("cache_size", "-32768");
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.pool_connections_max)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect.clone())
            .await
            .map_err(StoreError::other)?;
        migrate::run(&pool, migrations).await?;
        // The committers' connection: statement journals in memory (a
        // multi-row insert that may fail half way keeps the pages it changed
        // in one; past 64 KiB SQLite spilled it to a temporary file, written
        // for nothing on every statement of a commit), and checkpoints left
        // to the background task.
        let committer =
            connect.pragma("temp_store", "memory").pragma("wal_autocheckpoint", COMMITTER_CHECKPOINT_PAGES.to_string());
        let batch_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(committer)
            .await
            .map_err(StoreError::other)?;
        let checkpointer = std::sync::Arc::new(Checkpointer(tokio::spawn(checkpoint_in_background(pool.clone()))));
        Ok(SqliteStore {
            pool,
            batch_pool,
            max: opts.pool_connections_max,
            commit_retries: std::sync::Arc::default(),
            _checkpointer: checkpointer,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Versions of the migrations applied to this database.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        migrate::applied_versions(&self.pool).await
    }

    /// The claim and redemption committers' own connection.
    pub fn batch_pool(&self) -> &SqlitePool {
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

#[async_trait]
impl HealthStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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

/// Creates the database file 0600 if it is missing, and narrows the mode of
/// the database, WAL and shared-memory files that exist to 0600.
fn owner_only_files(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(StoreError::other)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let p = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(m) = std::fs::metadata(&p)
                && m.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).map_err(StoreError::other)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
