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

/// The migrations of this backend, in order: the same versions and names as
/// the SQLite backend's (a test checks it).
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "accounts", sql: include_str!("../migrations/0001_accounts.sql") },
    Migration { version: 2, name: "campaigns", sql: include_str!("../migrations/0002_campaigns.sql") },
    Migration { version: 3, name: "merchants", sql: include_str!("../migrations/0003_merchants.sql") },
    Migration { version: 4, name: "districts", sql: include_str!("../migrations/0004_districts.sql") },
    Migration { version: 5, name: "eligibility", sql: include_str!("../migrations/0005_eligibility.sql") },
    Migration { version: 6, name: "ledger", sql: include_str!("../migrations/0006_ledger.sql") },
    Migration { version: 7, name: "idempotency", sql: include_str!("../migrations/0007_idempotency.sql") },
    Migration { version: 8, name: "claims", sql: include_str!("../migrations/0008_claims.sql") },
    Migration { version: 9, name: "redemptions", sql: include_str!("../migrations/0009_redemptions.sql") },
    Migration { version: 10, name: "settlements", sql: include_str!("../migrations/0010_settlements.sql") },
    Migration { version: 11, name: "closed_campaigns", sql: include_str!("../migrations/0011_closed_campaigns.sql") },
    Migration {
        version: 12,
        name: "netting_and_matching",
        sql: include_str!("../migrations/0012_netting_and_matching.sql"),
    },
    Migration { version: 13, name: "report_snapshots", sql: include_str!("../migrations/0013_report_snapshots.sql") },
    Migration {
        version: 14,
        name: "voucher_claim_index",
        sql: include_str!("../migrations/0014_voucher_claim_index.sql"),
    },
    Migration {
        version: 15,
        name: "drop_redundant_redemption_index",
        sql: include_str!("../migrations/0015_drop_redundant_redemption_index.sql"),
    },
    Migration {
        version: 16,
        name: "redemption_write_path",
        sql: include_str!("../migrations/0016_redemption_write_path.sql"),
    },
    Migration { version: 17, name: "claim_write_path", sql: include_str!("../migrations/0017_claim_write_path.sql") },
    Migration { version: 18, name: "session_ends", sql: include_str!("../migrations/0018_session_ends.sql") },
    Migration { version: 19, name: "identity_feed", sql: include_str!("../migrations/0019_identity_feed.sql") },
    Migration { version: 20, name: "one_row_per_claim", sql: include_str!("../migrations/0020_one_row_per_claim.sql") },
    Migration { version: 21, name: "list_member_feed", sql: include_str!("../migrations/0021_list_member_feed.sql") },
    Migration { version: 22, name: "person_slot", sql: include_str!("../migrations/0022_person_slot.sql") },
    Migration { version: 23, name: "identity_changes", sql: include_str!("../migrations/0023_identity_changes.sql") },
    Migration { version: 24, name: "claim_district", sql: include_str!("../migrations/0024_claim_district.sql") },
    Migration {
        version: 25,
        name: "merchant_phone_sealed",
        sql: include_str!("../migrations/0025_merchant_phone_sealed.sql"),
    },
];

quan_store::impl_account_stores!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_merchant_store!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_district_store!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_eligibility_store!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_ledger_store!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_idempotency_store!(PgStore, sqlx::postgres::PgRow);
// Commits of one batch run four at a time, each on its own stock buckets.
/// Commits of one committer (claims of a batch, redemptions) that run at
/// once, each on its own connection of the batch pool.
const COMMITS_IN_PARALLEL: usize = 4;

quan_store::impl_claim_store!(PgStore, sqlx::postgres::PgRow, COMMITS_IN_PARALLEL, "FOR UPDATE SKIP LOCKED");

quan_store::impl_campaign_store!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_redemption_store!(PgStore, sqlx::postgres::PgRow);
quan_store::impl_report_store!(PgStore, sqlx::postgres::PgRow);

/// Limits of the connection pool.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    pub pool_connections_max: u32,
    pub connect_timeout_ms: u64,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions { pool_connections_max: 16, connect_timeout_ms: 5_000 }
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
        let connect = PgConnectOptions::from_str(url).map_err(StoreError::other)?.application_name("quan");
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
