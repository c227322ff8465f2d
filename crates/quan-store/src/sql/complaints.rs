//! `ComplaintStore` in SQL, for `impl_complaint_store!`.

/// The columns of a ticket, in the order `complaint()` reads them.
pub const COMPLAINT_COLS: &str = "id, ticket, resident_id, kind, body, region, voucher_id, redemption_id, merchant_id,
    campaign_id, photo_type, state, outcome, assignee, merchant_asked, filed_at_ms, answer_due_ms, close_due_ms,
    answered_at_ms, closed_at_ms, version";

/// Implements `ComplaintStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_complaint_store {
    ($store:ty, $row:ty) => {
        mod complaint_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::complaint::{ComplaintKind, ComplaintState, Outcome};
            use quan_domain::{CampaignId, MerchantId, Region, ResidentId, Role, UserId};
            use quan_store::sql::complaints::COMPLAINT_COLS;
            use quan_store::sql::{at, err, get, state, unique};
            use quan_store::{Complaint, ComplaintEvent, ComplaintFilter, StoreError};
            use uuid::Uuid;

            type R = $row;

            fn bad(what: &str, v: &str) -> StoreError {
                StoreError::message(format!("stored {what} `{v}` is unknown"))
            }

            fn complaint(row: &R) -> Result<Complaint, StoreError> {
                let kind: String = get(row, "kind")?;
                let region: String = get(row, "region")?;
                let outcome: Option<String> = get(row, "outcome")?;
                let ms = |c: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
                    Ok(get::<_, Option<i64>>(row, c)?.map(at))
                };
                Ok(Complaint {
                    id: get(row, "id")?,
                    ticket: get(row, "ticket")?,
                    resident: ResidentId::from_uuid(get(row, "resident_id")?),
                    kind: ComplaintKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
                    body: get(row, "body")?,
                    region: Region::parse(&region).map_err(|_| bad("region", &region))?,
                    voucher: get(row, "voucher_id")?,
                    redemption: get(row, "redemption_id")?,
                    merchant: get::<_, Option<Uuid>>(row, "merchant_id")?.map(MerchantId::from_uuid),
                    campaign: get::<_, Option<Uuid>>(row, "campaign_id")?.map(CampaignId::from_uuid),
                    photo_type: get(row, "photo_type")?,
                    state: state(row, ComplaintState::parse)?,
                    outcome: match outcome {
                        Some(o) => Some(Outcome::parse(&o).ok_or_else(|| bad("outcome", &o))?),
                        None => None,
                    },
                    assignee: get::<_, Option<Uuid>>(row, "assignee")?.map(UserId::from_uuid),
                    merchant_asked: get::<_, i64>(row, "merchant_asked")? != 0,
                    filed_at: at(get(row, "filed_at_ms")?),
                    answer_due: at(get(row, "answer_due_ms")?),
                    close_due: at(get(row, "close_due_ms")?),
                    answered_at: ms("answered_at_ms")?,
                    closed_at: ms("closed_at_ms")?,
                    version: get(row, "version")?,
                })
            }

            fn event(row: &R) -> Result<ComplaintEvent, StoreError> {
                let role: String = get(row, "actor_role")?;
                Ok(ComplaintEvent {
                    id: get(row, "id")?,
                    complaint: get(row, "complaint_id")?,
                    action: get(row, "action")?,
                    actor_user: get::<_, Option<Uuid>>(row, "actor_user")?.map(UserId::from_uuid),
                    actor_role: role.parse::<Role>().map_err(|_| bad("role", &role))?,
                    body: get(row, "body")?,
                    resident_reads: get::<_, i64>(row, "resident_reads")? != 0,
                    merchant_reads: get::<_, i64>(row, "merchant_reads")? != 0,
                    at: at(get(row, "at_ms")?),
                })
            }

            async fn insert_event<'e, E>(ex: E, e: &ComplaintEvent) -> Result<(), StoreError>
            where
                E: sqlx::Executor<'e, Database = <R as sqlx::Row>::Database>,
            {
                sqlx::query(
                    "INSERT INTO complaint_events (id, complaint_id, action, actor_user, actor_role, body,
                         resident_reads, merchant_reads, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(e.id)
                .bind(e.complaint)
                .bind(&e.action)
                .bind(e.actor_user.map(|u| u.as_uuid()))
                .bind(e.actor_role.as_str())
                .bind(&e.body)
                .bind(i64::from(e.resident_reads))
                .bind(i64::from(e.merchant_reads))
                .bind(e.at.timestamp_millis())
                .execute(ex)
                .await
                .map_err(err)?;
                Ok(())
            }

            #[async_trait::async_trait]
            impl quan_store::ComplaintStore for $store {
                async fn insert_complaint(
                    &self,
                    c: &Complaint,
                    photo: Option<&[u8]>,
                    ev: &ComplaintEvent,
                    since: DateTime<Utc>,
                    per_day_max: u32,
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    // A write to the resident's row comes first: it queues one
                    // resident's filings (PostgreSQL's row lock, SQLite's write
                    // lock) so the count below sees every filing before it.
                    let n = sqlx::query("UPDATE residents SET phone_masked = phone_masked WHERE id = $1")
                        .bind(c.resident.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?
                        .rows_affected();
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    let filed: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM complaints WHERE resident_id = $1 AND filed_at_ms >= $2",
                    )
                    .bind(c.resident.as_uuid())
                    .bind(since.timestamp_millis())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
                    if filed >= i64::from(per_day_max) {
                        return Err(StoreError::Conflict { what: "complaint_limit" });
                    }
                    sqlx::query(
                        "INSERT INTO complaints (id, ticket, resident_id, kind, body, region, voucher_id, redemption_id,
                             merchant_id, campaign_id, photo_type, state, outcome, assignee, merchant_asked, filed_at_ms,
                             answer_due_ms, close_due_ms, answered_at_ms, closed_at_ms, version)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                    )
                    .bind(c.id)
                    .bind(&c.ticket)
                    .bind(c.resident.as_uuid())
                    .bind(c.kind.as_str())
                    .bind(&c.body)
                    .bind(c.region.as_str())
                    .bind(c.voucher)
                    .bind(c.redemption)
                    .bind(c.merchant.map(|m| m.as_uuid()))
                    .bind(c.campaign.map(|m| m.as_uuid()))
                    .bind(c.photo_type.as_deref())
                    .bind(c.state.as_str())
                    .bind(c.outcome.map(|o| o.as_str()))
                    .bind(c.assignee.map(|u| u.as_uuid()))
                    .bind(i64::from(c.merchant_asked))
                    .bind(c.filed_at.timestamp_millis())
                    .bind(c.answer_due.timestamp_millis())
                    .bind(c.close_due.timestamp_millis())
                    .bind(c.answered_at.map(|t| t.timestamp_millis()))
                    .bind(c.closed_at.map(|t| t.timestamp_millis()))
                    .bind(c.version)
                    .execute(&mut *tx)
                    .await
                    .map_err(unique("ticket"))?;
                    if let Some(bytes) = photo {
                        sqlx::query("INSERT INTO complaint_photos (complaint_id, bytes) VALUES ($1, $2)")
                            .bind(c.id)
                            .bind(bytes)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    insert_event(&mut *tx, ev).await?;
                    tx.commit().await.map_err(err)
                }

                async fn complaint_by_id(&self, id: Uuid) -> Result<Complaint, StoreError> {
                    let sql = format!("SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1");
                    let row =
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(self.pool()).await.map_err(err)?;
                    complaint(&row)
                }

                async fn complaint_photo(&self, id: Uuid) -> Result<Vec<u8>, StoreError> {
                    sqlx::query_scalar("SELECT bytes FROM complaint_photos WHERE complaint_id = $1")
                        .bind(id)
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)
                }

                async fn complaints_of_resident(
                    &self,
                    resident: ResidentId,
                    limit: u32,
                ) -> Result<Vec<Complaint>, StoreError> {
                    let sql = format!(
                        "SELECT {COMPLAINT_COLS} FROM complaints WHERE resident_id = $1 ORDER BY filed_at_ms DESC, id DESC LIMIT $2"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(resident.as_uuid())
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(complaint).collect()
                }

                async fn list_complaints(
                    &self,
                    f: &ComplaintFilter,
                    before: Option<Uuid>,
                    limit: u32,
                ) -> Result<Vec<Complaint>, StoreError> {
                    let sql = format!(
                        "SELECT {COMPLAINT_COLS} FROM complaints
                         WHERE substr(region, 1, length($1)) = $1 AND ($2 IS NULL OR state = $2)
                           AND ($3 = 0 OR state <> 'closed') AND ($4 IS NULL OR merchant_id = $4)
                           AND ($5 = 0 OR merchant_asked = 1)
                           AND ($6 IS NULL OR (answered_at_ms IS NULL AND answer_due_ms < $6)
                                OR (closed_at_ms IS NULL AND close_due_ms < $6))
                           AND ($7 IS NULL OR (filed_at_ms, id) < (SELECT b.filed_at_ms, b.id FROM complaints b WHERE b.id = $7))
                         ORDER BY filed_at_ms DESC, id DESC LIMIT $8"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(f.within.as_str())
                        .bind(f.state.map(|s| s.as_str()))
                        .bind(i64::from(f.open_only))
                        .bind(f.merchant.map(|m| m.as_uuid()))
                        .bind(i64::from(f.merchant_asked))
                        .bind(f.overdue_at.map(|t| t.timestamp_millis()))
                        .bind(before)
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(complaint).collect()
                }

                async fn complaint_events(&self, id: Uuid) -> Result<Vec<ComplaintEvent>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, complaint_id, action, actor_user, actor_role, body, resident_reads, merchant_reads, at_ms
                         FROM complaint_events WHERE complaint_id = $1 ORDER BY at_ms, id",
                    )
                    .bind(id)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(event).collect()
                }

                async fn update_complaint(&self, c: &Complaint, ev: &ComplaintEvent) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let n = sqlx::query(
                        "UPDATE complaints SET state = $2, outcome = $3, assignee = $4, merchant_asked = $5,
                             answered_at_ms = $6, closed_at_ms = $7, version = $8
                         WHERE id = $1 AND version = $9",
                    )
                    .bind(c.id)
                    .bind(c.state.as_str())
                    .bind(c.outcome.map(|o| o.as_str()))
                    .bind(c.assignee.map(|u| u.as_uuid()))
                    .bind(i64::from(c.merchant_asked))
                    .bind(c.answered_at.map(|t| t.timestamp_millis()))
                    .bind(c.closed_at.map(|t| t.timestamp_millis()))
                    .bind(c.version)
                    .bind(c.version - 1)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::Conflict { what: "complaint_changed" });
                    }
                    insert_event(&mut *tx, ev).await?;
                    tx.commit().await.map_err(err)
                }

                async fn complaints_filed_before(
                    &self,
                    within: &Region,
                    until: DateTime<Utc>,
                ) -> Result<Vec<Complaint>, StoreError> {
                    let sql = format!(
                        "SELECT {COMPLAINT_COLS} FROM complaints
                         WHERE substr(region, 1, length($1)) = $1 AND filed_at_ms < $2 ORDER BY filed_at_ms, id"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(within.as_str())
                        .bind(until.timestamp_millis())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(complaint).collect()
                }

                async fn count_complaints_of_merchant(&self, merchant: MerchantId) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints WHERE merchant_id = $1")
                        .bind(merchant.as_uuid())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }
            }
        }
    };
}
