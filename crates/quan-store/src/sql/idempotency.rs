//! `IdempotencyStore` in SQL, for `impl_idempotency_store!`.

/// Implements `IdempotencyStore` for `$store` (which has `fn pool(&self)`).
#[macro_export]
macro_rules! impl_idempotency_store {
    ($store:ty, $row:ty) => {
        mod idempotency_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_store::{IdempotencyBegin, StoreError};
            use sqlx::Row;

            use quan_store::sql::err;

            #[async_trait::async_trait]
            impl quan_store::IdempotencyStore for $store {
                async fn begin_idempotent(
                    &self,
                    scope: &str,
                    key: &str,
                    request_hash: &[u8; 32],
                    now: DateTime<Utc>,
                ) -> Result<IdempotencyBegin, StoreError> {
                    let inserted = sqlx::query(
                        "INSERT INTO idempotency_keys (scope, key, request_hash, status, response_body, created_at_ms)
                         VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (scope, key) DO NOTHING",
                    )
                    .bind(scope)
                    .bind(key)
                    .bind(&request_hash[..])
                    .bind(now.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if inserted == 1 {
                        return Ok(IdempotencyBegin::New);
                    }
                    Ok(self.find_idempotent(scope, key, request_hash).await?.unwrap_or(IdempotencyBegin::InFlight))
                }

                async fn find_idempotent(
                    &self,
                    scope: &str,
                    key: &str,
                    request_hash: &[u8; 32],
                ) -> Result<Option<IdempotencyBegin>, StoreError> {
                    let row: Option<$row> = sqlx::query(
                        "SELECT request_hash, status, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2",
                    )
                    .bind(scope)
                    .bind(key)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    let Some(row) = row else { return Ok(None) };
                    let hash: Vec<u8> = row.try_get("request_hash").map_err(err)?;
                    if hash.as_slice() != &request_hash[..] {
                        return Ok(Some(IdempotencyBegin::Mismatch));
                    }
                    let status: Option<i64> = row.try_get("status").map_err(err)?;
                    let body: Option<String> = row.try_get("response_body").map_err(err)?;
                    Ok(Some(match (status, body) {
                        (Some(s), Some(b)) => {
                            IdempotencyBegin::Replay { status: u16::try_from(s).unwrap_or(500), body: b }
                        }
                        _ => IdempotencyBegin::InFlight,
                    }))
                }

                async fn complete_idempotent(
                    &self,
                    scope: &str,
                    key: &str,
                    status: u16,
                    body: &str,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE idempotency_keys SET status = $3, response_body = $4 WHERE scope = $1 AND key = $2",
                    )
                    .bind(scope)
                    .bind(key)
                    .bind(i64::from(status))
                    .bind(body)
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL")
                        .bind(scope)
                        .bind(key)
                        .execute(self.pool())
                        .await
                        .map_err(err)?;
                    Ok(())
                }

                async fn prune_idempotent(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
                    let r = sqlx::query("DELETE FROM idempotency_keys WHERE created_at_ms < $1")
                        .bind(before.timestamp_millis())
                        .execute(self.pool())
                        .await
                        .map_err(err)?;
                    Ok(r.rows_affected())
                }
            }
        }
    };
}
