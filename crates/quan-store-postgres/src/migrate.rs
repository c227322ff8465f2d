//! A small migration runner. Several `quan serve` nodes may start at once
//! against one database, so the runner holds a PostgreSQL advisory lock while
//! it checks and applies migrations; each migration runs in its own
//! transaction and is recorded with its checksum.

use quan_store::{Migration, StoreError, check_applied};
use sqlx::{PgConnection, PgPool, Row};

/// An arbitrary constant naming quan's migration lock.
const LOCK_KEY: i64 = 0x7175_616e_6d69_6772; // "quanmigr"

const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL
)";

async fn applied(conn: &mut PgConnection) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::other)?;
    rows.iter()
        .map(|r| Ok((r.try_get(0).map_err(StoreError::other)?, r.try_get(1).map_err(StoreError::other)?)))
        .collect()
}

pub(crate) async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>, StoreError> {
    let mut conn = pool.acquire().await.map_err(StoreError::other)?;
    Ok(applied(&mut conn).await?.into_iter().map(|(v, _)| v).collect())
}

pub(crate) async fn run(pool: &PgPool, migrations: &[Migration]) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(StoreError::other)?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY).execute(&mut *conn).await.map_err(StoreError::other)?;
    let result = apply(&mut conn, migrations).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut *conn).await;
    result?;
    unlock.map_err(StoreError::other)?;
    Ok(())
}

async fn apply(conn: &mut PgConnection, migrations: &[Migration]) -> Result<(), StoreError> {
    sqlx::query(CREATE).execute(&mut *conn).await.map_err(StoreError::other)?;
    let done = applied(conn).await?;
    let todo = check_applied(migrations, &done).map_err(StoreError::message)?;
    for m in todo {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(StoreError::other)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::message(format!("migration {} ({}) failed: {e}", m.version, m.name)))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at_ms)
             VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(m.checksum())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::other)?;
        tx.commit().await.map_err(StoreError::other)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}
