//! `ClaimStore` in SQL, for `impl_claim_store!`.

/// Implements `ClaimStore` for `$store` (which has `fn pool(&self)`), whose
/// rows are `$row`. Needs `impl_ledger_store!` expanded in the same crate.
// `crate::ledger_sql` is meant: it lives in the expanding backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_claim_store {
    ($store:ty, $row:ty) => {
        mod claim_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::DateTime;
            use quan_domain::ledger::{Account, AccountKind, Reason};
            use quan_domain::{BatchId, CampaignId, Fen, ResidentId};
            use quan_store::{ClaimBatch, ClaimOutcome, ClaimRequest, STOCK_BUCKETS, StoreError, Transfer, Voucher};
            use sqlx::{Connection, Row};

            type R = $row;
            type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            /// A deadlock or serialization failure (PostgreSQL, when nodes
            /// meet on the same stock buckets) is worth retrying.
            fn err(e: sqlx::Error) -> StoreError {
                match &e {
                    sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")) => StoreError::Conflict { what: "retry" },
                    _ => StoreError::other(e),
                }
            }

            /// How often a batch is retried after a deadlock before giving up.
            const ATTEMPTS_MAX: u32 = 5;

            fn get<T>(row: &R, col: &str) -> Result<T, StoreError>
            where
                T: for<'r> sqlx::Decode<'r, <R as Row>::Database> + sqlx::Type<<R as Row>::Database>,
            {
                row.try_get(col).map_err(StoreError::other)
            }

            /// One request inside the batch's transaction; `Ok(None)` is
            /// success, `Ok(Some(outcome))` a refusal (whose writes the
            /// caller rolls back with the savepoint).
            async fn one(tx: &mut Tx<'_>, b: &ClaimBatch, r: &ClaimRequest) -> Result<Option<ClaimOutcome>, StoreError> {
                let at = b.at.timestamp_millis();
                sqlx::query(
                    "INSERT INTO claims (id, batch_id, campaign_id, kind_code, resident_id, face_fen, business_day, claimed_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(r.claim_id)
                .bind(b.batch.as_uuid())
                .bind(b.campaign.as_uuid())
                .bind(&r.kind_code)
                .bind(r.resident.as_uuid())
                .bind(r.face.as_i64())
                .bind(r.business_day.format("%Y-%m-%d").to_string())
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                for (scope, size) in &r.slots {
                    let mut took = false;
                    for slot in 0..*size {
                        let n = sqlx::query("INSERT INTO claim_slots (scope, slot, claim_id) VALUES ($1, $2, $3) ON CONFLICT (scope, slot) DO NOTHING")
                            .bind(scope)
                            .bind(i64::from(slot))
                            .bind(r.claim_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(err)?
                            .rows_affected();
                        if n == 1 {
                            took = true;
                            break;
                        }
                    }
                    if !took {
                        return Ok(Some(ClaimOutcome::LimitReached { scope: scope.clone() }));
                    }
                }
                let mut stocked = false;
                for i in 0..STOCK_BUCKETS {
                    let bucket = (r.bucket_hint + i) % STOCK_BUCKETS;
                    let n = sqlx::query(
                        "UPDATE batch_stock SET remaining = remaining - 1
                         WHERE batch_id = $1 AND kind_code = $2 AND bucket = $3 AND remaining > 0",
                    )
                    .bind(b.batch.as_uuid())
                    .bind(&r.kind_code)
                    .bind(i64::from(bucket))
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if n == 1 {
                        stocked = true;
                        break;
                    }
                }
                if !stocked {
                    return Ok(Some(ClaimOutcome::SoldOut));
                }
                for (id, tier, face) in &r.vouchers {
                    sqlx::query(
                        "INSERT INTO vouchers (id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'claimed', $9)",
                    )
                    .bind(*id)
                    .bind(r.claim_id)
                    .bind(b.campaign.as_uuid())
                    .bind(b.batch.as_uuid())
                    .bind(&r.kind_code)
                    .bind(i64::from(*tier))
                    .bind(r.resident.as_uuid())
                    .bind(face.as_i64())
                    .bind(at)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                }
                Ok(None)
            }

            fn voucher(row: &R) -> Result<Voucher, StoreError> {
                let at: i64 = get(row, "created_at_ms")?;
                Ok(Voucher {
                    id: get(row, "id")?,
                    claim_id: get(row, "claim_id")?,
                    campaign_id: CampaignId::from_uuid(get(row, "campaign_id")?),
                    batch_id: BatchId::from_uuid(get(row, "batch_id")?),
                    kind_code: get(row, "kind_code")?,
                    tier: u32::try_from(get::<i64>(row, "tier")?).unwrap_or(0),
                    resident_id: ResidentId::from_uuid(get(row, "resident_id")?),
                    face: Fen::new(get(row, "face_fen")?),
                    state: get(row, "state")?,
                    created_at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                })
            }

            async fn commit_once(pool: &sqlx::Pool<<R as Row>::Database>, b: &ClaimBatch) -> Result<Vec<ClaimOutcome>, StoreError> {
                let mut tx = pool.begin().await.map_err(err)?;
                    let mut outcomes = Vec::with_capacity(b.requests.len());
                let mut reserved = Fen::ZERO;
                for r in &b.requests {
                    let mut sp = Connection::begin(&mut *tx).await.map_err(err)?;
                    match one(&mut sp, b, r).await? {
                        None => {
                            sp.commit().await.map_err(err)?;
                            reserved = reserved.checked_add(r.face).ok_or_else(|| StoreError::message("reserved face value overflows"))?;
                            outcomes.push(ClaimOutcome::Claimed);
                        }
                        Some(refused) => {
                            sp.rollback().await.map_err(err)?;
                            outcomes.push(refused);
                        }
                    }
                }
                if reserved > Fen::ZERO {
                    let t = Transfer {
                        id: b.transfer_id,
                        debit: Account::campaign(b.campaign, AccountKind::Available),
                        credit: Account::campaign(b.campaign, AccountKind::Reserved),
                        amount: reserved,
                        reason: Reason::ClaimReservation,
                        reference: format!("batch:{}", b.batch),
                        at: b.at,
                    };
                    crate::ledger_sql::post_in_tx(&mut tx, &[t]).await?;
                }
                tx.commit().await.map_err(err)?;
                Ok(outcomes)
            }

            #[async_trait::async_trait]
            impl quan_store::ClaimStore for $store {
                async fn commit_claims(&self, b: &ClaimBatch) -> Result<Vec<ClaimOutcome>, StoreError> {
                    let mut attempt = 1;
                    loop {
                        match commit_once(self.pool(), b).await {
                            Err(StoreError::Conflict { what: "retry" }) if attempt < ATTEMPTS_MAX => attempt += 1,
                            other => return other,
                        }
                    }
                }

                async fn remaining_stock(&self, batch: BatchId) -> Result<Vec<(String, i64)>, StoreError> {
                    let rows = sqlx::query("SELECT kind_code, CAST(SUM(remaining) AS BIGINT) AS left FROM batch_stock WHERE batch_id = $1 GROUP BY kind_code ORDER BY kind_code")
                        .bind(batch.as_uuid())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(|r| Ok((get(r, "kind_code")?, get(r, "left")?))).collect()
                }

                async fn taken_slots(&self, prefix: &str) -> Result<Vec<(String, u32)>, StoreError> {
                    let rows = sqlx::query("SELECT scope, CAST(COUNT(*) AS BIGINT) AS n FROM claim_slots WHERE substr(scope, 1, length($1)) = $1 GROUP BY scope")
                        .bind(prefix)
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(|r| Ok((get(r, "scope")?, u32::try_from(get::<i64>(r, "n")?).unwrap_or(u32::MAX)))).collect()
                }

                async fn vouchers_of(&self, resident: ResidentId) -> Result<Vec<Voucher>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms
                         FROM vouchers WHERE resident_id = $1 ORDER BY created_at_ms, id",
                    )
                    .bind(resident.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(voucher).collect()
                }

                async fn reserved_face(&self, campaign: CampaignId) -> Result<i128, StoreError> {
                    let n: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(face_fen), 0) AS BIGINT) FROM vouchers WHERE campaign_id = $1 AND state = 'claimed'")
                        .bind(campaign.as_uuid())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    Ok(i128::from(n))
                }

                async fn claim_count(&self, batch: BatchId) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM claims WHERE batch_id = $1")
                        .bind(batch.as_uuid())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }
            }
        }
    };
}
