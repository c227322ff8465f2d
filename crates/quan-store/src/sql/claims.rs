//! `ClaimStore` in SQL, for `impl_claim_store!`.

/// Implements `ClaimStore` for `$store` (which has `fn pool(&self)`,
/// `fn batch_pool(&self)` for the batched commits, and
/// `fn commit_retry_counters(&self) -> &quan_store::CommitRetryCounters`), whose
/// rows are `$row`, committing up to `$parallel` claim batches of one voucher
/// batch at once. `$pick_lock` ends the statement that picks a stock bucket:
/// on a backend with row locks it must lock the bucket without waiting for
/// one another transaction holds (`FOR UPDATE SKIP LOCKED`), so that claim
/// batches never wait on each other's buckets and cannot deadlock there.
/// Needs `impl_ledger_store!` expanded in the same crate.
// `crate::ledger_sql` is meant: it lives in the expanding backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_claim_store {
    ($store:ty, $row:ty, $parallel:expr, $pick_lock:expr) => {
        mod claim_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::DateTime;
            use quan_domain::ledger::{Account, AccountKind, Reason};
            use quan_domain::{BatchId, CampaignId, Fen, ResidentId};
            use quan_store::{
                ClaimBatch, ClaimKey, ClaimOutcome, ClaimRequest, STOCK_BUCKETS, StoreError, Transfer, Voucher,
            };
            use sqlx::{Connection, Row};

            type R = $row;
            type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            // A deadlock or serialization failure (PostgreSQL, when nodes
            // meet on the same stock buckets) is `Retry`: worth retrying.
            use quan_store::sql::err;

            /// How often a batch is retried after a deadlock before giving up.
            const ATTEMPTS_MAX: u32 = 5;
            /// How often a batch is retried, a few milliseconds apart, while
            /// the last stock it needs sits in buckets other batches hold
            /// (they never wait on buckets, so they finish soon).
            const STOCK_HELD_ATTEMPTS_MAX: u32 = 400;

            use quan_store::sql::get;

            use quan_store::sql::{shaped, values};

            /// Stores the `Idempotency-Key` records of the batch's keyed
            /// requests; a request whose key is already stored, or came
            /// earlier in this batch, gets `KeyTaken`. Returns the indexes of
            /// the requests whose record was stored.
            async fn insert_keys(
                tx: &mut Tx<'_>,
                b: &ClaimBatch,
                plan: &mut quan_store::ClaimPlan<'_>,
            ) -> Result<Vec<usize>, StoreError> {
                let mut first = std::collections::HashMap::new();
                let mut todo = Vec::new();
                for (i, r) in b.requests.iter().enumerate() {
                    let Some(k) = &r.key else { continue };
                    if first.insert((k.scope.as_str(), k.key.as_str()), i).is_some() {
                        plan.key_taken(i);
                    } else {
                        todo.push(i);
                    }
                }
                // In key order, as every batch does: two batches that meet
                // on keys then wait for each other in one direction only.
                todo.sort_by(|x, y| {
                    let (kx, ky) = (b.requests[*x].key.as_ref(), b.requests[*y].key.as_ref());
                    kx.map(|k| (&k.scope, &k.key)).cmp(&ky.map(|k| (&k.scope, &k.key)))
                });
                let mut stored = std::collections::HashSet::new();
                for chunk in shaped(&todo) {
                    let sql = format!(
                        "INSERT INTO idempotency_keys (scope, key, request_hash, status, response_body, created_at_ms) VALUES {} ON CONFLICT (scope, key) DO NOTHING RETURNING scope, key",
                        values::<R>(chunk.len(), 6)
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for i in chunk {
                        let k = b.requests[*i]
                            .key
                            .as_ref()
                            .ok_or_else(|| StoreError::message("a keyed request lost its key"))?;
                        q = q
                            .bind(k.scope.clone())
                            .bind(k.key.clone())
                            .bind(k.request_hash.to_vec())
                            .bind(i64::from(k.status))
                            .bind(k.body.clone())
                            .bind(b.at.timestamp_millis());
                    }
                    for row in q.fetch_all(&mut **tx).await.map_err(err)? {
                        let scope: String = get(&row, "scope")?;
                        let key: String = get(&row, "key")?;
                        stored.insert((scope, key));
                    }
                }
                let mut keyed = Vec::new();
                for i in todo {
                    let k = b.requests[i]
                        .key
                        .as_ref()
                        .ok_or_else(|| StoreError::message("a keyed request lost its key"))?;
                    if stored.contains(&(k.scope.clone(), k.key.clone())) {
                        keyed.push(i);
                    } else {
                        plan.key_taken(i);
                    }
                }
                Ok(keyed)
            }

            /// The voucher rows of `rows` (request, voucher, slot of the
            /// batch's limit for a claim's first voucher), inserted; returns
            /// the claim id of each row stored (see `BulkClaims`).
            async fn insert_vouchers(
                tx: &mut Tx<'_>,
                b: &ClaimBatch,
                rows: &[(&ClaimRequest, &(uuid::Uuid, u32, Fen), Option<u32>)],
            ) -> Result<Vec<uuid::Uuid>, StoreError> {
                let rows: Vec<quan_store::sql::bulk::VoucherRow<'_>> = rows
                    .iter()
                    .map(|(r, (id, tier, face), slot)| quan_store::sql::bulk::VoucherRow {
                        id: *id,
                        claim_id: r.claim_id,
                        kind_code: &r.kind_code,
                        tier: *tier,
                        resident_id: r.resident.as_uuid(),
                        face_fen: face.as_i64(),
                        slot: *slot,
                        person_hash: slot.and(r.person.as_ref()).map(|p| p.as_bytes()),
                        claim_district: r.district.as_deref(),
                    })
                    .collect();
                <R as quan_store::sql::bulk::BulkClaims>::insert_vouchers(
                    &mut **tx,
                    b.campaign.as_uuid(),
                    b.batch.as_uuid(),
                    b.at.timestamp_millis(),
                    &b.channel,
                    &rows,
                )
                .await
                .map_err(err)
            }

            /// Set-based: a handful of statements for the whole batch, however
            /// many requests it holds; what each round means is the
            /// `ClaimPlan`'s.
            async fn commit_once(
                pool: &sqlx::Pool<<R as Row>::Database>,
                b: &ClaimBatch,
            ) -> Result<Vec<ClaimOutcome>, StoreError> {
                let mut tx = pool.begin().await.map_err(err)?;
                let mut plan = quan_store::ClaimPlan::new(b);
                // 0. Idempotency-Key records: a key already stored (or twice
                //    in this batch) stands for another request's claim.
                let keyed = insert_keys(&mut tx, b, &mut plan).await?;
                // 1. Every claim's first voucher, 2. the other limits' slots,
                // 3. stock per kind for the requests still standing.
                first_vouchers(&mut tx, b, &mut plan).await?;
                limit_slots(&mut tx, b, &mut plan).await?;
                for kind in plan.kinds() {
                    take_stock(&mut tx, b, &mut plan, kind).await?;
                }
                // 4. Undo the refused: their keys, slots and claim rows.
                undo_refused(&mut tx, &plan, &keyed).await?;
                // 5. The other vouchers of the granted packs, and one reservation.
                let granted = plan.granted();
                let rows: Vec<(&ClaimRequest, &(uuid::Uuid, u32, Fen), Option<u32>)> =
                    granted.iter().flat_map(|r| r.vouchers.iter().skip(1).map(move |v| (*r, v, None))).collect();
                if insert_vouchers(&mut tx, b, &rows).await?.len() != rows.len() {
                    return Err(StoreError::message("a voucher of a granted pack was not stored (its id is taken)"));
                }
                let reserved = plan.reserved().ok_or_else(|| StoreError::message("reserved face value overflows"))?;
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
                for e in granted.iter().filter_map(|r| r.event.as_ref()) {
                    crate::webhook_sql::insert_in_tx(&mut tx, e).await?;
                }
                tx.commit().await.map_err(err)?;
                Ok(plan.outcomes())
            }

            /// Every standing claim's first voucher, in the plan's rounds
            /// (refused ones are deleted again by `undo_refused`).
            async fn first_vouchers(
                tx: &mut Tx<'_>,
                b: &ClaimBatch,
                plan: &mut quan_store::ClaimPlan<'_>,
            ) -> Result<(), StoreError> {
                let mut rounds = plan.first_voucher_rounds();
                while let Some(round) = plan.first_voucher_round(&mut rounds) {
                    let rows: Vec<(&ClaimRequest, &(uuid::Uuid, u32, Fen), Option<u32>)> = round
                        .iter()
                        .filter_map(|(i, slot)| {
                            let r = &b.requests[*i];
                            r.vouchers.first().map(|v| (r, v, *slot))
                        })
                        .collect();
                    let got: std::collections::HashSet<uuid::Uuid> =
                        insert_vouchers(tx, b, &rows).await?.into_iter().collect();
                    plan.first_vouchers_stored(&mut rounds, &got).map_err(|e| StoreError::message(e.0))?;
                }
                Ok(())
            }

            /// The other limits' slot rows, in the plan's rounds.
            async fn limit_slots(
                tx: &mut Tx<'_>,
                b: &ClaimBatch,
                plan: &mut quan_store::ClaimPlan<'_>,
            ) -> Result<(), StoreError> {
                let mut rounds = plan.slot_rounds();
                while let Some((slot, pending)) = plan.slot_round(&mut rounds) {
                    let mut got = std::collections::HashSet::new();
                    for chunk in shaped(&pending) {
                        let sql = format!(
                            "INSERT INTO claim_slots (scope, slot, claim_id) VALUES {} ON CONFLICT (scope, slot) DO NOTHING RETURNING claim_id, scope",
                            values::<R>(chunk.len(), 3)
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for (i, j) in chunk {
                            let r = &b.requests[*i];
                            q = q.bind(r.slots[*j].0.clone()).bind(i64::from(slot)).bind(r.claim_id);
                        }
                        for row in q.fetch_all(&mut **tx).await.map_err(err)? {
                            let id: uuid::Uuid = get(&row, "claim_id")?;
                            let scope: String = get(&row, "scope")?;
                            got.insert((id, scope));
                        }
                    }
                    plan.slots_stored(&mut rounds, &got);
                }
                Ok(())
            }

            /// Stock of `kind` for its standing requests, in arrival order:
            /// a bucket at a time, nearest the hint first, skipping (on
            /// PostgreSQL) those another commit holds right now. Short while
            /// stock sits in held buckets: `StockHeld` (tried again soon).
            async fn take_stock(
                tx: &mut Tx<'_>,
                b: &ClaimBatch,
                plan: &mut quan_store::ClaimPlan<'_>,
                kind: &str,
            ) -> Result<(), StoreError> {
                let (wanting, hint) = plan.wanting(kind);
                let mut need = wanting.len() as i64;
                let mut granted = 0i64;
                let pick = format!(
                    "SELECT bucket, remaining FROM batch_stock WHERE batch_id = $1 AND kind_code = $2 AND channel = $4 AND remaining > 0 ORDER BY (bucket + {STOCK_BUCKETS} - $3) % {STOCK_BUCKETS} LIMIT 1 {}",
                    $pick_lock
                );
                while need > 0 {
                    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(pick.clone()))
                        .bind(b.batch.as_uuid())
                        .bind(kind)
                        .bind(i64::from(hint % STOCK_BUCKETS))
                        .bind(&b.channel)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                    else {
                        break;
                    };
                    let bucket: i64 = get(&row, "bucket")?;
                    let take = get::<_, i64>(&row, "remaining")?.min(need);
                    sqlx::query("UPDATE batch_stock SET remaining = remaining - $4 WHERE batch_id = $1 AND kind_code = $2 AND bucket = $3")
                        .bind(b.batch.as_uuid())
                        .bind(kind)
                        .bind(bucket)
                        .bind(take)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    granted += take;
                    need -= take;
                }
                if need > 0 {
                    let held: i64 = sqlx::query_scalar(
                        "SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM batch_stock WHERE batch_id = $1 AND kind_code = $2 AND channel = $3 AND remaining > 0",
                    )
                    .bind(b.batch.as_uuid())
                    .bind(kind)
                    .bind(&b.channel)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(err)?;
                    if held > 0 {
                        return Err(StoreError::StockHeld);
                    }
                }
                plan.stock_granted(&wanting, granted);
                Ok(())
            }

            /// Deletes what refused requests wrote: their keys, their first
            /// vouchers (by id) and their slot rows (by claim).
            async fn undo_refused(
                tx: &mut Tx<'_>,
                plan: &quan_store::ClaimPlan<'_>,
                keyed: &[usize],
            ) -> Result<(), StoreError> {
                for chunk in shaped(&plan.refused_keys(keyed)) {
                    let sql = format!(
                        "DELETE FROM idempotency_keys WHERE (scope, key) IN (VALUES {})",
                        values::<R>(chunk.len(), 2)
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for k in chunk {
                        q = q.bind(k.scope.as_str()).bind(k.key.as_str());
                    }
                    q.execute(&mut **tx).await.map_err(err)?;
                }
                let undo = [
                    ("vouchers WHERE id", plan.refused_first_vouchers()),
                    ("claim_slots WHERE claim_id", plan.refused_slot_claims()),
                ];
                for (table, ids) in undo {
                    for chunk in shaped(&ids) {
                        let sql = format!("DELETE FROM {table} IN ({})", quan_store::sql::list::<R>(chunk.len()));
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for id in chunk {
                            q = q.bind(*id);
                        }
                        q.execute(&mut **tx).await.map_err(err)?;
                    }
                }
                Ok(())
            }

            /// The columns `voucher` reads.
            pub(crate) const VOUCHER_COLUMNS: &str = "id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms, frozen_at_ms, frozen_reason, lock_id, locked_until_ms";

            pub(crate) fn voucher(row: &R) -> Result<Voucher, StoreError> {
                let at: i64 = get(row, "created_at_ms")?;
                Ok(Voucher {
                    id: get(row, "id")?,
                    claim_id: get(row, "claim_id")?,
                    campaign_id: CampaignId::from_uuid(get(row, "campaign_id")?),
                    batch_id: BatchId::from_uuid(get(row, "batch_id")?),
                    kind_code: get(row, "kind_code")?,
                    tier: u32::try_from(get::<_, i64>(row, "tier")?).unwrap_or(0),
                    resident_id: ResidentId::from_uuid(get(row, "resident_id")?),
                    face: Fen::new(get(row, "face_fen")?),
                    state: quan_store::sql::state(row, quan_domain::redemption::VoucherState::parse)?,
                    created_at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                    frozen: match (
                        get::<_, Option<i64>>(row, "frozen_at_ms")?,
                        get::<_, Option<String>>(row, "frozen_reason")?,
                    ) {
                        (Some(t), Some(r)) => Some((
                            DateTime::from_timestamp_millis(t).unwrap_or_default(),
                            quan_domain::redemption::FreezeReason::parse(&r)
                                .ok_or_else(|| StoreError::message(format!("bad freeze reason {r:?}")))?,
                        )),
                        _ => None,
                    },
                    lock: match (
                        get::<_, Option<uuid::Uuid>>(row, "lock_id")?,
                        get::<_, Option<i64>>(row, "locked_until_ms")?,
                    ) {
                        (Some(id), Some(t)) => Some((id, DateTime::from_timestamp_millis(t).unwrap_or_default())),
                        _ => None,
                    },
                })
            }

            #[async_trait::async_trait]
            impl quan_store::ClaimStore for $store {
                fn commits_in_parallel(&self) -> usize {
                    $parallel
                }

                fn commit_retries(&self) -> quan_store::CommitRetries {
                    self.commit_retry_counters().read()
                }

                async fn commit_claims(&self, b: &ClaimBatch) -> Result<Vec<ClaimOutcome>, StoreError> {
                    use std::sync::atomic::Ordering::Relaxed;
                    let (mut deadlocks, mut held) = (1, 1);
                    loop {
                        match commit_once(self.batch_pool(), b).await {
                            Err(StoreError::Retry) if deadlocks < ATTEMPTS_MAX => {
                                deadlocks += 1;
                                self.commit_retry_counters().deadlocks.fetch_add(1, Relaxed);
                            }
                            Err(StoreError::StockHeld) if held < STOCK_HELD_ATTEMPTS_MAX => {
                                held += 1;
                                self.commit_retry_counters().stock_held.fetch_add(1, Relaxed);
                                tokio::time::sleep(std::time::Duration::from_millis(u64::from(held.min(10)))).await;
                            }
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

                async fn vouchers_of(&self, resident: ResidentId) -> Result<Vec<Voucher>, StoreError> {
                    let sql = format!(
                        "SELECT {VOUCHER_COLUMNS} FROM vouchers WHERE resident_id = $1 ORDER BY created_at_ms, id"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
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

                async fn claims_unlike_records(&self, campaign: CampaignId) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(
                           (SELECT COUNT(*) FROM vouchers v WHERE v.campaign_id = $1
                              AND (NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = v.batch_id AND b.campaign_id = v.campaign_id)
                                   OR NOT EXISTS (SELECT 1 FROM residents r WHERE r.id = v.resident_id)))
                         + (SELECT COUNT(*) FROM vouchers v WHERE v.campaign_id = $1 AND v.tier > 0
                              AND NOT EXISTS (SELECT 1 FROM vouchers f WHERE f.claim_id = v.claim_id AND f.tier = 0 AND f.campaign_id = v.campaign_id
                                              AND f.batch_id = v.batch_id AND f.kind_code = v.kind_code AND f.resident_id = v.resident_id))
                         + (SELECT COUNT(*) FROM claim_slots s WHERE NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.claim_id = s.claim_id))
                         AS BIGINT)",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn claim_ids(&self, batch: BatchId) -> Result<Vec<uuid::Uuid>, StoreError> {
                    sqlx::query_scalar("SELECT claim_id FROM vouchers WHERE batch_id = $1 AND tier = 0")
                        .bind(batch.as_uuid())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)
                }

                async fn residents_over_limit(&self, batch: BatchId, limit: u32) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT resident_id FROM vouchers WHERE batch_id = $1 AND tier = 0 GROUP BY resident_id HAVING COUNT(*) > $2) AS over_limit",
                    )
                    .bind(batch.as_uuid())
                    .bind(i64::from(limit))
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn claim_count(&self, batch: BatchId) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers WHERE batch_id = $1 AND tier = 0",
                    )
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
