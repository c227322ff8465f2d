//! A small migration runner: each migration runs in its own transaction and
//! is recorded with its checksum, so an edited migration is refused at start.

use quan_store::{Migration, StoreError, check_applied};
use sqlx::{Row, SqlitePool};

const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
) STRICT";

pub(crate) async fn applied(pool: &SqlitePool) -> Result<Vec<(i64, String)>, StoreError> {
    sqlx::query(CREATE).execute(pool).await.map_err(StoreError::other)?;
    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .map_err(StoreError::other)?;
    rows.iter()
        .map(|r| Ok((r.try_get(0).map_err(StoreError::other)?, r.try_get(1).map_err(StoreError::other)?)))
        .collect()
}

pub(crate) async fn applied_versions(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    Ok(applied(pool).await?.into_iter().map(|(v, _)| v).collect())
}

pub(crate) async fn run(pool: &SqlitePool, migrations: &[Migration]) -> Result<(), StoreError> {
    let done = applied(pool).await?;
    let todo = check_applied(migrations, &done).map_err(StoreError::message)?;
    for m in todo {
        if m.sql.starts_with(FOREIGN_KEYS_OFF) {
            run_without_foreign_keys(pool, m).await?;
        } else {
            let mut conn = pool.acquire().await.map_err(StoreError::other)?;
            apply(&mut conn, m).await?;
        }
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

/// The first line of a migration that rebuilds tables (SQLite cannot change
/// a table's constraints in place): it runs with foreign keys off, as
/// SQLite's documented procedure does, and every foreign key is checked
/// before it commits.
const FOREIGN_KEYS_OFF: &str = "-- quan: foreign keys off";

/// Applies `m` and records it, in one transaction.
async fn apply(conn: &mut sqlx::SqliteConnection, m: &Migration) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await.map_err(StoreError::other)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::message(format!("migration {} ({}) failed: {e}", m.version, m.name)))?;
    if m.sql.starts_with(FOREIGN_KEYS_OFF) {
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await.map_err(StoreError::other)?;
        if let Some(row) = broken.first() {
            let table: String = row.try_get(0).map_err(StoreError::other)?;
            return Err(StoreError::message(format!(
                "migration {} ({}) failed: {} rows break a foreign key (first in table {table})",
                m.version,
                m.name,
                broken.len()
            )));
        }
    }
    sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) VALUES ($1, $2, $3, CAST(unixepoch('subsec') * 1000 AS INTEGER))")
        .bind(m.version)
        .bind(m.name)
        .bind(m.checksum())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::other)?;
    tx.commit().await.map_err(StoreError::other)
}

/// `apply` on a connection with foreign keys off (the pragma has no effect
/// inside a transaction, so it is set before); the connection is closed
/// afterwards rather than handed back to the pool with them off.
async fn run_without_foreign_keys(pool: &SqlitePool, m: &Migration) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = pool.acquire().await.map_err(StoreError::other)?.detach();
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut conn).await.map_err(StoreError::other)?;
    let applied = apply(&mut conn, m).await;
    let _ = conn.close().await;
    applied
}
