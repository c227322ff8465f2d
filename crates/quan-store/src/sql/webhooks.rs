//! Webhooks in SQL: endpoints, the outbox written inside other changes'
//! transactions, and delivery workers claiming due events (for
//! `impl_webhook_store!`).

/// The columns of `webhook_events` a read selects.
pub const EVENT_COLUMNS: &str =
    "e.seq, e.id, e.partner_id, e.type, e.subject, e.payload, e.created_at_ms, e.status, e.attempts,
     e.next_attempt_ms, e.last_status, e.last_error, e.done_at_ms";

/// How a backend claims rows other workers are claiming at the same time.
pub trait SkipLocked {
    /// ` FOR UPDATE OF e SKIP LOCKED` on PostgreSQL (several nodes' workers
    /// share the outbox); nothing on SQLite (one writer at a time).
    const CLAIM: &'static str;
}

impl SkipLocked for sqlx::sqlite::SqliteRow {
    const CLAIM: &'static str = "";
}

impl SkipLocked for sqlx::postgres::PgRow {
    const CLAIM: &'static str = " FOR UPDATE OF e SKIP LOCKED";
}

/// Implements `WebhookStore` for `$store` (which has `fn pool(&self)`), and
/// `webhook_sql::insert_in_tx` for other changes' transactions.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_webhook_store {
    ($store:ty, $row:ty) => {
        pub(crate) mod webhook_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_store::sql::webhooks::{EVENT_COLUMNS, SkipLocked};
            use quan_store::sql::{at, err, get};
            use quan_store::{AttemptOutcome, NewEvent, StoreError, WebhookEndpoint, WebhookEvent};
            use sqlx::Row;
            use uuid::Uuid;

            type R = $row;
            pub(crate) type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            /// Writes an event inside the transaction of the change it tells of.
            pub(crate) async fn insert_in_tx(tx: &mut Tx<'_>, e: &NewEvent) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO webhook_events (id, partner_id, type, subject, payload, created_at_ms, status, next_attempt_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6) ON CONFLICT (id) DO NOTHING",
                )
                .bind(e.id)
                .bind(e.partner_id)
                .bind(&e.kind)
                .bind(&e.subject)
                .bind(&e.payload)
                .bind(e.at.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(())
            }

            /// The events of vouchers of a batch's kind that just expired
            /// (`expired`) and that residents bound to active partners held.
            pub(crate) async fn expiry_events_in_tx(
                tx: &mut Tx<'_>,
                (batch, kind_code, claimed_before): (quan_domain::BatchId, &str, DateTime<Utc>),
                expired: &std::collections::HashSet<Uuid>,
                tell: &quan_store::TellExpired<'_>,
            ) -> Result<(), StoreError> {
                let rows = sqlx::query(
                    "SELECT v.id, v.face_fen, b.partner_id, b.openid FROM partner_bindings b
                     JOIN partners p ON p.id = b.partner_id
                     JOIN vouchers v ON v.resident_id = b.resident_id
                     WHERE b.revoked_at_ms IS NULL AND p.status = 'active'
                       AND v.batch_id = $1 AND v.kind_code = $2 AND v.state = 'expired' AND v.created_at_ms < $3
                     ORDER BY v.id, b.partner_id",
                )
                .bind(batch.as_uuid())
                .bind(kind_code)
                .bind(claimed_before.timestamp_millis())
                .fetch_all(&mut **tx)
                .await
                .map_err(err)?;
                for r in &rows {
                    let voucher_id: Uuid = get(r, "id")?;
                    if !expired.contains(&voucher_id) {
                        continue;
                    }
                    let bound = quan_store::ExpiredBound {
                        voucher_id,
                        face: quan_domain::Fen::new(get(r, "face_fen")?),
                        partner_id: get(r, "partner_id")?,
                        openid: get(r, "openid")?,
                    };
                    insert_in_tx(tx, &tell(&bound)).await?;
                }
                Ok(())
            }

            fn event(row: &R) -> Result<WebhookEvent, StoreError> {
                Ok(WebhookEvent {
                    seq: get(row, "seq")?,
                    id: get(row, "id")?,
                    partner_id: get(row, "partner_id")?,
                    kind: get(row, "type")?,
                    subject: get(row, "subject")?,
                    payload: get(row, "payload")?,
                    created_at: at(get(row, "created_at_ms")?),
                    status: get(row, "status")?,
                    attempts: u32::try_from(get::<_, i64>(row, "attempts")?).unwrap_or(0),
                    next_attempt_at: at(get(row, "next_attempt_ms")?),
                    last_status: get::<_, Option<i64>>(row, "last_status")?.and_then(|s| u16::try_from(s).ok()),
                    last_error: get(row, "last_error")?,
                    done_at: get::<_, Option<i64>>(row, "done_at_ms")?.map(at),
                })
            }

            fn endpoint(row: &R) -> Result<WebhookEndpoint, StoreError> {
                Ok(WebhookEndpoint {
                    partner_id: get(row, "partner_id")?,
                    url: get(row, "url")?,
                    sealed_secret: get(row, "sealed_secret")?,
                    status: get(row, "status")?,
                    status_reason: get(row, "status_reason")?,
                    updated_at: at(get(row, "updated_at_ms")?),
                })
            }

            const ENDPOINT_COLUMNS: &str =
                "w.partner_id, w.url, w.sealed_secret, w.status, w.status_reason, w.updated_at_ms";

            #[async_trait::async_trait]
            impl quan_store::WebhookStore for $store {
                async fn set_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO webhook_endpoints (partner_id, url, sealed_secret, status, status_reason, updated_at_ms)
                         VALUES ($1, $2, $3, 'active', '', $4)
                         ON CONFLICT (partner_id) DO UPDATE SET url = excluded.url, sealed_secret = excluded.sealed_secret,
                           status = 'active', status_reason = '', updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(e.partner_id)
                    .bind(&e.url)
                    .bind(&e.sealed_secret)
                    .bind(e.updated_at.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                async fn webhook_endpoint(&self, partner: Uuid) -> Result<Option<WebhookEndpoint>, StoreError> {
                    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.partner_id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(partner)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?;
                    row.as_ref().map(endpoint).transpose()
                }

                async fn add_webhook_event(&self, e: &NewEvent) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    insert_in_tx(&mut tx, e).await?;
                    tx.commit().await.map_err(err)
                }

                async fn claim_webhook_events(
                    &self,
                    now: DateTime<Utc>,
                    lease_until: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<(WebhookEvent, WebhookEndpoint)>, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    // One UPDATE … RETURNING: it writes first (SQLite's write lock
                    // is taken at once, never upgraded from a read) and on
                    // PostgreSQL skips what other workers hold.
                    let sql = format!(
                        "UPDATE webhook_events SET next_attempt_ms = $3 WHERE seq IN (
                           SELECT e.seq FROM webhook_events e
                           JOIN webhook_endpoints w ON w.partner_id = e.partner_id AND w.status = 'active'
                           JOIN partners p ON p.id = e.partner_id AND p.status = 'active'
                           WHERE e.status = 'pending' AND e.next_attempt_ms <= $1
                             AND NOT EXISTS (SELECT 1 FROM webhook_events o
                                             WHERE o.partner_id = e.partner_id AND o.subject = e.subject
                                               AND o.seq < e.seq AND o.status = 'pending')
                           ORDER BY e.seq LIMIT $2{})
                         RETURNING seq",
                        <R as SkipLocked>::CLAIM
                    );
                    let mut seqs: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(now.timestamp_millis())
                        .bind(i64::from(limit))
                        .bind(lease_until.timestamp_millis())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?;
                    seqs.sort_unstable();
                    let mut out = Vec::with_capacity(seqs.len());
                    for seq in seqs {
                        let sql = format!(
                            "SELECT {EVENT_COLUMNS}, {ENDPOINT_COLUMNS} FROM webhook_events e
                             JOIN webhook_endpoints w ON w.partner_id = e.partner_id WHERE e.seq = $1"
                        );
                        let row =
                            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(seq).fetch_one(&mut *tx).await.map_err(err)?;
                        out.push((event(&row)?, endpoint(&row)?));
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(out)
                }

                async fn record_webhook_attempt(
                    &self,
                    e: &WebhookEvent,
                    outcome: &AttemptOutcome,
                    when: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let (status, code, error, next, done) = match outcome {
                        AttemptOutcome::Delivered { status } => ("delivered", Some(*status), "", when, Some(when)),
                        AttemptOutcome::Retry { status, error, next_at } => {
                            ("pending", *status, error.as_str(), *next_at, None)
                        }
                        AttemptOutcome::Dead { status, error, .. } => {
                            ("dead", *status, error.as_str(), when, Some(when))
                        }
                    };
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    sqlx::query(
                        "UPDATE webhook_events SET status = $2, attempts = attempts + 1, last_status = $3, last_error = $4,
                           next_attempt_ms = $5, done_at_ms = $6 WHERE seq = $1",
                    )
                    .bind(e.seq)
                    .bind(status)
                    .bind(code.map(i64::from))
                    .bind(error.chars().take(500).collect::<String>())
                    .bind(next.timestamp_millis())
                    .bind(done.map(|d| d.timestamp_millis()))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    if let AttemptOutcome::Dead { reason, .. } = outcome {
                        sqlx::query(
                            "UPDATE webhook_endpoints SET status = 'disabled', status_reason = $2, updated_at_ms = $3 WHERE partner_id = $1",
                        )
                        .bind(e.partner_id)
                        .bind(reason)
                        .bind(when.timestamp_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn webhook_events(&self, partner: Uuid) -> Result<Vec<WebhookEvent>, StoreError> {
                    let sql =
                        format!("SELECT {EVENT_COLUMNS} FROM webhook_events e WHERE e.partner_id = $1 ORDER BY e.seq");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(partner)
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(event).collect()
                }
            }
        }
    };
}
