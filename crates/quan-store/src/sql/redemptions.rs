//! `RedemptionStore` in SQL, for `impl_redemption_store!`.

/// Implements `RedemptionStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`. Needs `impl_ledger_store!` and
/// `impl_claim_store!` expanded in the same crate.
// `crate::ledger_sql` is meant: it lives in the expanding backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_redemption_store {
    ($store:ty, $row:ty) => {
        pub(crate) mod redemption_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, NaiveDate, Utc};
            use quan_domain::{BatchId, CampaignId, Fen, MerchantId, ResidentId, TillId, UserId};
            use quan_store::{
                Direction, MerchantEarned, Owed, Redemption, Refund, Settlement, StoreError, Transfer, Voucher,
            };
            use sqlx::Row;

            use quan_store::sql::bulk::BulkRedemptions;
            use quan_store::sql::get;

            type R = $row;

            /// The partial unique index: a second standing redemption.
            fn err(e: sqlx::Error) -> StoreError {
                quan_store::sql::unique("already_redeemed")(e)
            }

            const COLUMNS: &str = quan_store::sql::bulk::REDEMPTION_COLUMNS;
            /// A redemption as read: its columns and its risk hold's, if any.
            const READ: &str = quan_store::sql::bulk::REDEMPTION_READ_COLUMNS;
            const FROM: &str = "redemptions LEFT JOIN risk_holds ON risk_holds.redemption_id = redemptions.id";

            use quan_store::sql::{at, day};

            pub(crate) fn redemption(row: &R) -> Result<Redemption, StoreError> {
                let direction: String = get(row, "direction")?;
                let id: uuid::Uuid = get(row, "id")?;
                Ok(Redemption {
                    id,
                    voucher_id: get(row, "voucher_id")?,
                    campaign_id: CampaignId::from_uuid(get(row, "campaign_id")?),
                    batch_id: BatchId::from_uuid(get(row, "batch_id")?),
                    kind_code: get(row, "kind_code")?,
                    resident_id: ResidentId::from_uuid(get(row, "resident_id")?),
                    merchant_id: MerchantId::from_uuid(get(row, "merchant_id")?),
                    till_id: get::<_, Option<uuid::Uuid>>(row, "till_id")?.map(TillId::from_uuid),
                    cashier_id: get::<_, Option<uuid::Uuid>>(row, "cashier_id")?.map(UserId::from_uuid),
                    direction: Direction::parse(&direction)
                        .ok_or_else(|| StoreError::message(format!("bad direction {direction:?}")))?,
                    order_ref: get(row, "order_ref")?,
                    order: Fen::new(get(row, "order_fen")?),
                    basis: Fen::new(get(row, "basis_fen")?),
                    discount: Fen::new(get(row, "discount_fen")?),
                    face: Fen::new(get(row, "face_fen")?),
                    subsidy: Fen::new(get(row, "subsidy_fen")?),
                    refunded: Fen::new(get(row, "refunded_fen")?),
                    platform_match: Fen::new(get(row, "platform_match_fen")?),
                    merchant_match: Fen::new(get(row, "merchant_match_fen")?),
                    state: quan_store::sql::state(row, quan_domain::redemption::RedemptionState::parse)?,
                    business_day: day(&get::<_, String>(row, "business_day")?)?,
                    redeemed_at: at(get(row, "redeemed_at_ms")?),
                    // NULL: recorded before postings were merged (migration 0016).
                    ledger_ref: get::<_, Option<String>>(row, "ledger_ref")?
                        .unwrap_or_else(|| format!("redemption:{id}")),
                    risk: match get::<_, Option<i64>>(row, "held_fen")? {
                        None => None,
                        Some(held) => Some(quan_store::RiskMark {
                            held: Fen::new(held),
                            still_held: Fen::new(get(row, "amount_fen")?),
                            rules: get(row, "rules")?,
                            score: u32::try_from(get::<_, i64>(row, "score")?).unwrap_or(0),
                            outcome: get(row, "outcome")?,
                        }),
                    },
                })
            }

            fn refund(row: &R) -> Result<Refund, StoreError> {
                Ok(Refund {
                    id: get(row, "id")?,
                    redemption_id: get(row, "redemption_id")?,
                    amount: Fen::new(get(row, "amount_fen")?),
                    subsidy_returned: Fen::new(get(row, "subsidy_returned_fen")?),
                    voucher_back: get::<_, i64>(row, "voucher_back")? == 1,
                    actor: UserId::from_uuid(get(row, "actor_id")?),
                    business_day: day(&get::<_, String>(row, "business_day")?)?,
                    at: at(get(row, "refunded_at_ms")?),
                })
            }

            async fn redeem_batch_once(
                pool: &sqlx::Pool<<R as Row>::Database>,
                items: &[(Redemption, Vec<Transfer>)],
            ) -> Result<Vec<bool>, StoreError> {
                let mut tx = pool.begin().await.map_err(err)?;
                // Vouchers in id order, so concurrent batches lock them in one
                // order; a few statements per commit, not one per voucher.
                let mut ids: Vec<uuid::Uuid> = items.iter().map(|(r, _)| r.voucher_id).collect();
                ids.sort_unstable();
                ids.dedup();
                // A partner's lock holds a voucher until its end: the batch's
                // earliest moment decides.
                let now_ms = items.iter().map(|(r, _)| r.redeemed_at.timestamp_millis()).min().unwrap_or(0);
                let mut redeemed: std::collections::HashSet<uuid::Uuid> =
                    <R as BulkRedemptions>::mark_redeemed(&mut *tx, &ids, now_ms)
                        .await
                        .map_err(err)?
                        .into_iter()
                        .collect();
                // A voucher twice in the batch: the earlier request has it.
                let won: Vec<bool> = items.iter().map(|(r, _)| redeemed.remove(&r.voucher_id)).collect();
                let rows: Vec<&Redemption> = items.iter().zip(&won).filter(|(_, w)| **w).map(|((r, _), _)| r).collect();
                <R as BulkRedemptions>::insert_redemptions(&mut *tx, &rows).await.map_err(err)?;
                crate::risk_hold_sql::insert_in_tx(&mut tx, &rows).await?;
                let transfers = quan_store::merge_transfers(
                    items.iter().zip(&won).filter(|(_, w)| **w).flat_map(|((_, t), _)| t.iter()),
                )?;
                crate::ledger_sql::post_many_in_tx(&mut tx, &transfers).await?;
                tx.commit().await.map_err(err)?;
                Ok(won)
            }

            #[async_trait::async_trait]
            impl quan_store::RedemptionStore for $store {
                async fn expire_vouchers(
                    &self,
                    batch: BatchId,
                    kind_code: &str,
                    claimed_before: DateTime<Utc>,
                    release: &Transfer,
                    rollover_to: Option<BatchId>,
                    tell: &quan_store::TellExpired<'_>,
                ) -> Result<(u64, Fen), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let rows = sqlx::query(
                        "UPDATE vouchers SET state = 'expired' WHERE batch_id = $1 AND kind_code = $2 AND state = 'claimed' AND created_at_ms < $3 RETURNING id, face_fen",
                    )
                    .bind(batch.as_uuid())
                    .bind(kind_code)
                    .bind(claimed_before.timestamp_millis())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?;
                    let mut faces = Vec::with_capacity(rows.len());
                    let mut expired = std::collections::HashSet::with_capacity(rows.len());
                    for r in &rows {
                        expired.insert(get::<_, uuid::Uuid>(r, "id")?);
                        faces.push(get::<_, i64>(r, "face_fen")?);
                    }
                    let total = Fen::checked_sum(faces.iter().map(|f| Fen::new(*f)))
                        .ok_or_else(|| StoreError::message("expired face value overflows"))?;
                    if total > Fen::ZERO {
                        let t = Transfer { amount: total, ..release.clone() };
                        crate::ledger_sql::post_in_tx(&mut tx, &[t]).await?;
                    }
                    if !expired.is_empty() {
                        crate::webhook_sql::expiry_events_in_tx(
                            &mut tx,
                            (batch, kind_code, claimed_before),
                            &expired,
                            tell,
                        )
                        .await?;
                    }
                    if let (Some(next), n @ 1..) = (rollover_to, faces.len()) {
                        let added = sqlx::query("UPDATE batch_stock SET remaining = remaining + $3 WHERE batch_id = $1 AND kind_code = $2 AND bucket = 0")
                            .bind(next.as_uuid())
                            .bind(kind_code)
                            .bind(i64::try_from(n).unwrap_or(i64::MAX))
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?
                            .rows_affected();
                        if added != 1 {
                            return Err(StoreError::message(format!(
                                "rollover: batch {next} has no stock of kind {kind_code}"
                            )));
                        }
                    }
                    tx.commit().await.map_err(err)?;
                    Ok((faces.len() as u64, total))
                }

                async fn voucher_stats(&self, campaign: CampaignId) -> Result<Vec<(String, u64, i128)>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT state, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(face_fen), 0) AS BIGINT) AS face FROM vouchers WHERE campaign_id = $1 GROUP BY state ORDER BY state",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok((
                                get(r, "state")?,
                                u64::try_from(get::<_, i64>(r, "n")?).unwrap_or(0),
                                i128::from(get::<_, i64>(r, "face")?),
                            ))
                        })
                        .collect()
                }

                async fn redemption_stats(&self, campaign: CampaignId) -> Result<(u64, i128, i128), StoreError> {
                    let r = sqlx::query(
                        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(order_fen - refunded_fen), 0) AS BIGINT) AS orders, CAST(COALESCE(SUM(subsidy_fen), 0) AS BIGINT) AS subsidy
                         FROM redemptions WHERE campaign_id = $1 AND state = 'standing'",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok((
                        u64::try_from(get::<_, i64>(&r, "n")?).unwrap_or(0),
                        i128::from(get::<_, i64>(&r, "orders")?),
                        i128::from(get::<_, i64>(&r, "subsidy")?),
                    ))
                }

                async fn refund_stats(&self, campaign: CampaignId) -> Result<(u64, i128, i128), StoreError> {
                    let r = sqlx::query(
                        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(f.amount_fen), 0) AS BIGINT) AS amount, CAST(COALESCE(SUM(f.subsidy_returned_fen), 0) AS BIGINT) AS returned
                         FROM refunds f JOIN redemptions r ON r.id = f.redemption_id WHERE r.campaign_id = $1",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok((
                        u64::try_from(get::<_, i64>(&r, "n")?).unwrap_or(0),
                        i128::from(get::<_, i64>(&r, "amount")?),
                        i128::from(get::<_, i64>(&r, "returned")?),
                    ))
                }

                async fn redemptions_by_order_refs(&self, refs: &[String]) -> Result<Vec<Redemption>, StoreError> {
                    let mut out = Vec::new();
                    for chunk in refs.chunks(100) {
                        let list = (1..=chunk.len()).map(|k| format!("${k}")).collect::<Vec<_>>().join(", ");
                        let sql = format!("SELECT {READ} FROM {FROM} WHERE order_ref IN ({list})");
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for r in chunk {
                            q = q.bind(r.clone());
                        }
                        for row in q.fetch_all(self.pool()).await.map_err(err)? {
                            out.push(redemption(&row)?);
                        }
                    }
                    Ok(out)
                }

                async fn redemptions_between(
                    &self,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<Redemption>, StoreError> {
                    let sql = format!(
                        "SELECT {READ} FROM {FROM} WHERE order_ref <> '' AND redeemed_at_ms >= $1 AND redeemed_at_ms <= $2 ORDER BY redeemed_at_ms, id"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(from.timestamp_millis())
                        .bind(to.timestamp_millis())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(redemption).collect()
                }

                async fn voucher_by_id(&self, id: uuid::Uuid) -> Result<Voucher, StoreError> {
                    let sql = format!("SELECT {} FROM vouchers WHERE id = $1", crate::claim_sql::VOUCHER_COLUMNS);
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    crate::claim_sql::voucher(&row)
                }

                async fn redeem_batch(&self, items: &[(Redemption, Vec<Transfer>)]) -> Result<Vec<bool>, StoreError> {
                    let mut attempt = 1;
                    loop {
                        match redeem_batch_once(self.batch_pool(), items).await {
                            Err(StoreError::Retry) if attempt < 5 => {
                                self.commit_retry_counters()
                                    .redemption_deadlocks
                                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                attempt += 1;
                            }
                            other => return other,
                        }
                    }
                }

                async fn redemption_by_id(&self, id: uuid::Uuid) -> Result<Redemption, StoreError> {
                    let sql = format!("SELECT {READ} FROM {FROM} WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    redemption(&row)
                }

                async fn redemptions_of_resident(
                    &self,
                    resident: ResidentId,
                    limit: u32,
                ) -> Result<Vec<Redemption>, StoreError> {
                    let sql = format!(
                        "SELECT {READ} FROM {FROM} WHERE resident_id = $1 ORDER BY redeemed_at_ms DESC, id DESC LIMIT $2"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(resident.as_uuid())
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(redemption).collect()
                }

                async fn redemptions_at_till(
                    &self,
                    till: TillId,
                    since: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<Redemption>, StoreError> {
                    let sql = format!(
                        "SELECT {READ} FROM {FROM} WHERE till_id = $1 AND redeemed_at_ms >= $2 ORDER BY redeemed_at_ms, id LIMIT $3"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(till.as_uuid())
                        .bind(since.timestamp_millis())
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(redemption).collect()
                }

                async fn redemptions_of_merchant(
                    &self,
                    merchant: MerchantId,
                    days: (NaiveDate, NaiveDate),
                    till: Option<TillId>,
                    limit: u32,
                ) -> Result<Vec<Redemption>, StoreError> {
                    let at_till = if till.is_some() { " AND till_id = $5" } else { "" };
                    let sql = format!(
                        "SELECT {READ} FROM {FROM} WHERE merchant_id = $1 AND business_day >= $2 AND business_day <= $3{at_till} ORDER BY redeemed_at_ms DESC, id DESC LIMIT $4"
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(merchant.as_uuid())
                        .bind(days.0.format("%Y-%m-%d").to_string())
                        .bind(days.1.format("%Y-%m-%d").to_string())
                        .bind(i64::from(limit));
                    if let Some(t) = till {
                        q = q.bind(t.as_uuid());
                    }
                    let rows = q.fetch_all(self.pool()).await.map_err(err)?;
                    rows.iter().map(redemption).collect()
                }

                async fn standing_on_order(&self, merchant: MerchantId, order_ref: &str) -> Result<u32, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions WHERE merchant_id = $1 AND order_ref = $2 AND state = 'standing'",
                    )
                    .bind(merchant.as_uuid())
                    .bind(order_ref)
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(u32::try_from(n).unwrap_or(u32::MAX))
                }

                async fn refund(
                    &self,
                    f: &Refund,
                    refunded_before: Fen,
                    subsidy_after: Fen,
                    transfers: &[Transfer],
                    partner: Option<&quan_store::PartnerRefundTag>,
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let refunded_after =
                        refunded_before.checked_add(f.amount).ok_or_else(|| StoreError::message("refund overflows"))?;
                    let state = if f.voucher_back { "reversed" } else { "standing" };
                    let changed = sqlx::query(
                        "UPDATE redemptions SET refunded_fen = $2, subsidy_fen = $3, state = $4
                         WHERE id = $1 AND refunded_fen = $5 AND state = 'standing'",
                    )
                    .bind(f.redemption_id)
                    .bind(refunded_after.as_i64())
                    .bind(subsidy_after.as_i64())
                    .bind(state)
                    .bind(refunded_before.as_i64())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if changed != 1 {
                        return Err(StoreError::Conflict { what: "refund_raced" });
                    }
                    if f.voucher_back {
                        let back = sqlx::query(
                            "UPDATE vouchers SET state = 'claimed' WHERE id = (SELECT voucher_id FROM redemptions WHERE id = $1) AND state = 'redeemed'",
                        )
                        .bind(f.redemption_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?
                        .rows_affected();
                        if back != 1 {
                            return Err(StoreError::Conflict { what: "refund_raced" });
                        }
                    }
                    sqlx::query(
                        "INSERT INTO refunds (id, redemption_id, amount_fen, subsidy_returned_fen, voucher_back, actor_id, business_day, refunded_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(f.id)
                    .bind(f.redemption_id)
                    .bind(f.amount.as_i64())
                    .bind(f.subsidy_returned.as_i64())
                    .bind(i64::from(f.voucher_back))
                    .bind(f.actor.as_uuid())
                    .bind(f.business_day.format("%Y-%m-%d").to_string())
                    .bind(f.at.timestamp_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    crate::risk_hold_sql::refund_in_tx(&mut tx, f.redemption_id, transfers).await?;
                    crate::ledger_sql::post_in_tx(&mut tx, transfers).await?;
                    if let Some(p) = partner {
                        if let Some(r) = &p.refund {
                            crate::partner_store::refund_in_tx(&mut tx, r).await?;
                        }
                        crate::webhook_sql::insert_in_tx(&mut tx, &p.event).await?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(())
                }

                async fn subsidy_by_merchant(&self, campaign: CampaignId) -> Result<Vec<MerchantEarned>, StoreError> {
                    // A matching discount stands in proportion to the order not
                    // refunded, rounded down (`redemption::matching_standing`).
                    let rows = sqlx::query(
                        // A recovered hold's amount went back to the budget: the
                        // merchant is not owed it.
                        "SELECT merchant_id,
                           CAST(SUM(subsidy_fen - CASE WHEN outcome = 'recovered' THEN amount_fen ELSE 0 END) AS BIGINT) AS subsidy,
                           CAST(SUM(platform_match_fen - (platform_match_fen * refunded_fen) / order_fen) AS BIGINT) AS platform_match,
                           CAST(SUM(merchant_match_fen - (merchant_match_fen * refunded_fen) / order_fen) AS BIGINT) AS merchant_match
                         FROM redemptions LEFT JOIN risk_holds ON risk_holds.redemption_id = redemptions.id
                         WHERE campaign_id = $1 AND state = 'standing' GROUP BY merchant_id",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(MerchantEarned {
                                merchant_id: MerchantId::from_uuid(get(r, "merchant_id")?),
                                subsidy: i128::from(get::<_, i64>(r, "subsidy")?),
                                platform_match: i128::from(get::<_, i64>(r, "platform_match")?),
                                merchant_match: i128::from(get::<_, i64>(r, "merchant_match")?),
                            })
                        })
                        .collect()
                }

                async fn vouchers_inconsistent(&self, campaign: CampaignId) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers v WHERE v.campaign_id = $1 AND
                           (CASE WHEN v.state = 'redeemed' THEN 1 ELSE 0 END) <>
                           (SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions r WHERE r.voucher_id = v.id AND r.state = 'standing')",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn redemptions_unlike_records(&self, campaign: CampaignId) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
                         WHERE (r.campaign_id = $1 OR v.campaign_id = $1)
                           AND (r.campaign_id <> v.campaign_id OR r.batch_id <> v.batch_id OR r.kind_code <> v.kind_code
                                OR r.resident_id <> v.resident_id OR r.face_fen <> v.face_fen
                                OR NOT EXISTS (SELECT 1 FROM merchants m WHERE m.id = r.merchant_id)
                                OR (r.till_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tills t WHERE t.id = r.till_id AND t.merchant_id = r.merchant_id))
                                OR (r.cashier_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.cashier_id)))",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn redemptions_outside_region(
                    &self,
                    campaign: CampaignId,
                    region: &quan_domain::Region,
                ) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions r JOIN merchants m ON m.id = r.merchant_id
                         WHERE r.campaign_id = $1 AND substr(m.district, 1, length($2)) <> $2",
                    )
                    .bind(campaign.as_uuid())
                    .bind(region.as_str())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn refunds_of(&self, redemption: uuid::Uuid) -> Result<Vec<Refund>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, redemption_id, amount_fen, subsidy_returned_fen, voucher_back, actor_id, business_day, refunded_at_ms
                         FROM refunds WHERE redemption_id = $1 ORDER BY refunded_at_ms, id",
                    )
                    .bind(redemption)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(refund).collect()
                }
            }
        }
    };
}
