//! `SettlementStore` in SQL, for `impl_settlement_store!`.

/// Implements `SettlementStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`. Needs `impl_ledger_store!` expanded in the same
/// crate.
// `crate::ledger_sql` is meant: it lives in the expanding backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_settlement_store {
    ($store:ty, $row:ty) => {
        mod settlement_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, NaiveDate, Utc};
            use quan_domain::{CampaignId, Fen, MerchantId};
            use quan_store::sql::{at, day, err, get};
            use quan_store::{Owed, Settlement, StoreError, Transfer};
            use sqlx::Row;

            type R = $row;

            const SETTLEMENT_COLUMNS: &str = "id, business_day, campaign_id, merchant_id, amount_fen, status, hold_reason, confirmed_fen, bank_ref, created_at_ms, confirmed_at_ms, recovered_fen, released_fen";

            fn settlement(row: &R) -> Result<Settlement, StoreError> {
                Ok(Settlement {
                    id: get(row, "id")?,
                    business_day: day(&get::<_, String>(row, "business_day")?)?,
                    campaign_id: CampaignId::from_uuid(get(row, "campaign_id")?),
                    merchant_id: MerchantId::from_uuid(get(row, "merchant_id")?),
                    amount: Fen::new(get(row, "amount_fen")?),
                    status: get(row, "status")?,
                    hold_reason: get(row, "hold_reason")?,
                    confirmed: get::<_, Option<i64>>(row, "confirmed_fen")?.map(Fen::new),
                    bank_ref: get(row, "bank_ref")?,
                    created_at: at(get(row, "created_at_ms")?),
                    confirmed_at: get::<_, Option<i64>>(row, "confirmed_at_ms")?.map(at),
                    recovered: Fen::new(get(row, "recovered_fen")?),
                    released: Fen::new(get(row, "released_fen")?),
                })
            }

            #[async_trait::async_trait]
            impl quan_store::SettlementStore for $store {
                async fn owed_until(&self, until: DateTime<Utc>) -> Result<Vec<Owed>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT a.campaign_id, a.merchant_id,
                           CAST(COALESCE(SUM(CASE WHEN t.credit_key = a.key AND t.at_ms < $1 THEN t.amount_fen ELSE 0 END), 0) AS BIGINT) AS earned,
                           CAST(COALESCE(SUM(CASE WHEN t.debit_key = a.key AND t.reason = 'refund' AND t.at_ms < $1 THEN t.amount_fen ELSE 0 END), 0) AS BIGINT) AS refunded,
                           CAST(COALESCE(SUM(CASE WHEN t.debit_key = a.key AND t.reason = 'settlement' THEN t.amount_fen ELSE 0 END), 0) AS BIGINT) AS paid,
                           CAST(a.credits_fen - a.debits_fen AS BIGINT) AS balance,
                           CAST(COALESCE((SELECT h.credits_fen - h.debits_fen FROM ledger_accounts h
                             WHERE h.campaign_id = a.campaign_id AND h.merchant_id = a.merchant_id AND h.kind = 'held'), 0) AS BIGINT) AS held,
                           CAST(COALESCE((SELECT r.credits_fen - r.debits_fen FROM ledger_accounts r
                             WHERE r.campaign_id = a.campaign_id AND r.merchant_id = a.merchant_id AND r.kind = 'recoverable'), 0) AS BIGINT) AS recoverable
                         FROM ledger_accounts a JOIN ledger_transfers t ON t.credit_key = a.key OR t.debit_key = a.key
                         WHERE a.kind = 'payable' AND a.merchant_id IS NOT NULL
                         GROUP BY a.campaign_id, a.merchant_id, a.credits_fen, a.debits_fen
                         ORDER BY a.campaign_id, a.merchant_id",
                    )
                    .bind(until.timestamp_millis())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(Owed {
                                campaign_id: CampaignId::from_uuid(get(r, "campaign_id")?),
                                merchant_id: MerchantId::from_uuid(get(r, "merchant_id")?),
                                earned: i128::from(get::<_, i64>(r, "earned")?),
                                refunded: i128::from(get::<_, i64>(r, "refunded")?),
                                paid: i128::from(get::<_, i64>(r, "paid")?),
                                balance: i128::from(get::<_, i64>(r, "balance")?),
                                held: i128::from(get::<_, i64>(r, "held")?),
                                recoverable: i128::from(get::<_, i64>(r, "recoverable")?),
                            })
                        })
                        .collect()
                }

                async fn record_settlements(
                    &self,
                    rows: &[Settlement],
                    transfers: &[Vec<Transfer>],
                ) -> Result<Vec<Settlement>, StoreError> {
                    assert_eq!(rows.len(), transfers.len(), "one transfer slot per settlement");
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let mut new = Vec::new();
                    for (s, t) in rows.iter().zip(transfers) {
                        let sql = format!(
                            "INSERT INTO settlements ({SETTLEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, NULL, $9, $10)
                             ON CONFLICT (business_day, campaign_id, merchant_id) DO NOTHING"
                        );
                        let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(s.id)
                            .bind(s.business_day.format("%Y-%m-%d").to_string())
                            .bind(s.campaign_id.as_uuid())
                            .bind(s.merchant_id.as_uuid())
                            .bind(s.amount.as_i64())
                            .bind(&s.status)
                            .bind(&s.hold_reason)
                            .bind(s.created_at.timestamp_millis())
                            .bind(s.recovered.as_i64())
                            .bind(s.released.as_i64())
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?
                            .rows_affected();
                        if inserted == 1 {
                            crate::ledger_sql::post_in_tx(&mut tx, t).await?;
                            new.push(s.clone());
                        }
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(new)
                }

                async fn day_activity(&self, d: NaiveDate) -> Result<Vec<quan_store::DayActivity>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT campaign_id, merchant_id, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(discount) AS BIGINT) AS discount,
                                CAST(SUM(refunds) AS BIGINT) AS refunds, CAST(SUM(returned) AS BIGINT) AS returned
                         FROM (
                           SELECT campaign_id, merchant_id, 1 AS n, discount_fen AS discount, 0 AS refunds, 0 AS returned
                             FROM redemptions WHERE business_day = $1
                           UNION ALL
                           SELECT r.campaign_id, r.merchant_id, 0, 0, 1, f.subsidy_returned_fen
                             FROM refunds f JOIN redemptions r ON r.id = f.redemption_id WHERE f.business_day = $1
                         ) AS day_rows
                         GROUP BY campaign_id, merchant_id ORDER BY campaign_id, merchant_id",
                    )
                    .bind(d.format("%Y-%m-%d").to_string())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(quan_store::DayActivity {
                                campaign: CampaignId::from_uuid(get(r, "campaign_id")?),
                                merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                                redemptions: u64::try_from(get::<_, i64>(r, "n")?).unwrap_or(0),
                                discount_fen: i128::from(get::<_, i64>(r, "discount")?),
                                refunds: u64::try_from(get::<_, i64>(r, "refunds")?).unwrap_or(0),
                                subsidy_returned_fen: i128::from(get::<_, i64>(r, "returned")?),
                            })
                        })
                        .collect()
                }

                async fn settlements_of_day(&self, d: NaiveDate) -> Result<Vec<Settlement>, StoreError> {
                    let sql = format!(
                        "SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE business_day = $1 ORDER BY campaign_id, merchant_id"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(d.format("%Y-%m-%d").to_string())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(settlement).collect()
                }

                async fn settlements_of_merchant(
                    &self,
                    merchant: MerchantId,
                    limit: u32,
                ) -> Result<Vec<Settlement>, StoreError> {
                    let sql = format!(
                        "SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE merchant_id = $1 ORDER BY business_day DESC, campaign_id LIMIT $2"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(merchant.as_uuid())
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(settlement).collect()
                }

                async fn paid_by_settlements(
                    &self,
                    campaign: CampaignId,
                ) -> Result<Vec<(MerchantId, i128)>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT merchant_id, CAST(SUM(amount_fen) AS BIGINT) AS paid FROM settlements
                         WHERE campaign_id = $1 AND status IN ('paid', 'confirmed', 'mismatch') GROUP BY merchant_id",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok((MerchantId::from_uuid(get(r, "merchant_id")?), i128::from(get::<_, i64>(r, "paid")?)))
                        })
                        .collect()
                }

                async fn settlement_by_id(&self, id: uuid::Uuid) -> Result<Settlement, StoreError> {
                    let sql = format!("SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    settlement(&row)
                }

                async fn confirm_settlement(
                    &self,
                    id: uuid::Uuid,
                    paid: Fen,
                    bank_ref: &str,
                    when: DateTime<Utc>,
                ) -> Result<Settlement, StoreError> {
                    let changed = sqlx::query(
                        "UPDATE settlements SET status = CASE WHEN amount_fen = $2 THEN 'confirmed' ELSE 'mismatch' END,
                           confirmed_fen = $2, bank_ref = $3, confirmed_at_ms = $4
                         WHERE id = $1 AND status = 'paid'",
                    )
                    .bind(id)
                    .bind(paid.as_i64())
                    .bind(bank_ref)
                    .bind(when.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?
                    .rows_affected();
                    let s = quan_store::SettlementStore::settlement_by_id(self, id).await?;
                    if changed != 1 {
                        return Err(StoreError::Conflict { what: "not_paid" });
                    }
                    Ok(s)
                }
            }
        }
    };
}
