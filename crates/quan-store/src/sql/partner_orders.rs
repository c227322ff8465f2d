//! Partners' orders locked and confirmed in batches, each batch one
//! transaction (for `impl_partner_order_store!`); an item that cannot go
//! through leaves nothing behind and does not stop the others.

/// Implements `PartnerOrderStore` for `$store` (which has `fn pool(&self)`).
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_partner_order_store {
    ($store:ty, $row:ty) => {
        mod partner_order_store {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_store::sql::bulk::BulkRedemptions;
            use quan_store::sql::partners::ORDER_COLUMNS;
            use quan_store::sql::{err, get};
            use quan_store::{
                ConfirmItem, ConfirmOutcome, LockItem, LockOutcome, PartnerOrder, Redemption, StoreError,
            };
            use sqlx::Row;
            use uuid::Uuid;

            use crate::partner_store::{order, order_by_id};

            type R = $row;
            type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            async fn existing(tx: &mut Tx<'_>, o: &PartnerOrder) -> Result<Option<PartnerOrder>, StoreError> {
                let sql =
                    format!("SELECT {ORDER_COLUMNS} FROM partner_orders WHERE partner_id = $1 AND out_trade_no = $2");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(o.partner_id)
                    .bind(&o.out_trade_no)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?;
                row.as_ref().map(order).transpose()
            }

            /// Writes first (the order), so a batch takes SQLite's write lock with
            /// its first statement and never has to upgrade a read to a write.
            async fn lock_one(tx: &mut Tx<'_>, item: &LockItem) -> Result<LockOutcome, StoreError> {
                let o = &item.order;
                let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO partner_orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, $12, NULL)
                     ON CONFLICT (partner_id, out_trade_no) DO NOTHING"
                )))
                .bind(o.id)
                .bind(o.partner_id)
                .bind(&o.out_trade_no)
                .bind(o.voucher_id)
                .bind(o.merchant_id.as_uuid())
                .bind(o.till_id.map(|t| t.as_uuid()))
                .bind(o.order.as_i64())
                .bind(o.discount.as_i64())
                .bind(&o.items)
                .bind("locked")
                .bind(o.locked_until.timestamp_millis())
                .bind(o.created_at.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(err)?
                .rows_affected();
                if inserted != 1 {
                    // The partner has an order of this number (maybe from this very batch).
                    return Ok(existing(tx, o)
                        .await?
                        .map_or(LockOutcome::VoucherTaken, |f| LockOutcome::Exists(Box::new(f))));
                }
                let locked = sqlx::query(
                    "UPDATE vouchers SET lock_id = $2, locked_until_ms = $3
                     WHERE id = $1 AND state = 'claimed' AND frozen_at_ms IS NULL
                       AND (locked_until_ms IS NULL OR locked_until_ms <= $4)",
                )
                .bind(o.voucher_id)
                .bind(o.id)
                .bind(o.locked_until.timestamp_millis())
                .bind(item.now.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(err)?
                .rows_affected();
                if locked == 1 {
                    return Ok(LockOutcome::Locked);
                }
                sqlx::query("DELETE FROM partner_orders WHERE id = $1")
                    .bind(o.id)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                Ok(LockOutcome::VoucherTaken)
            }

            async fn confirm_one(tx: &mut Tx<'_>, item: &ConfirmItem) -> Result<ConfirmOutcome, StoreError> {
                let (o, now) = (&item.order, item.now.timestamp_millis());
                let n = sqlx::query(
                    "UPDATE partner_orders SET status = 'confirmed', transaction_id = $2, redemption_id = $3, done_at_ms = $4
                     WHERE id = $1 AND status = 'locked'",
                )
                .bind(o.id)
                .bind(&item.transaction_id)
                .bind(item.redemption.id)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(err)?
                .rows_affected();
                if n != 1 {
                    return Ok(ConfirmOutcome::NotLocked(Box::new(order_by_id(tx, o.id).await?)));
                }
                let taken = sqlx::query(
                    "UPDATE vouchers SET state = 'redeemed', lock_id = NULL, locked_until_ms = NULL
                     WHERE id = $1 AND state = 'claimed' AND frozen_at_ms IS NULL
                       AND (lock_id = $2 OR locked_until_ms IS NULL OR locked_until_ms <= $3)",
                )
                .bind(o.voucher_id)
                .bind(o.id)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(err)?
                .rows_affected();
                if taken == 1 {
                    return Ok(ConfirmOutcome::Confirmed);
                }
                sqlx::query(
                    "UPDATE partner_orders SET status = 'locked', transaction_id = NULL, redemption_id = NULL, done_at_ms = NULL
                     WHERE id = $1",
                )
                .bind(o.id)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(ConfirmOutcome::VoucherTaken)
            }

            #[async_trait::async_trait]
            impl quan_store::PartnerOrderStore for $store {
                async fn lock_vouchers(&self, items: &[LockItem]) -> Result<Vec<LockOutcome>, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(lock_one(&mut tx, item).await?);
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(out)
                }

                async fn confirm_partner_orders(
                    &self,
                    items: &[ConfirmItem],
                ) -> Result<Vec<ConfirmOutcome>, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(confirm_one(&mut tx, item).await?);
                    }
                    let won: Vec<&ConfirmItem> = items
                        .iter()
                        .zip(&out)
                        .filter(|(_, o)| **o == ConfirmOutcome::Confirmed)
                        .map(|(i, _)| i)
                        .collect();
                    let rows: Vec<&Redemption> = won.iter().map(|i| &i.redemption).collect();
                    <R as BulkRedemptions>::insert_redemptions(&mut *tx, &rows).await.map_err(err)?;
                    crate::risk_hold_sql::insert_in_tx(&mut tx, &rows).await?;
                    let transfers = quan_store::merge_transfers(won.iter().flat_map(|i| i.transfers.iter()))?;
                    crate::ledger_sql::post_many_in_tx(&mut tx, &transfers).await?;
                    for i in &won {
                        crate::webhook_sql::insert_in_tx(&mut tx, &i.event).await?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(out)
                }

                async fn partner_bill(
                    &self,
                    partner: Uuid,
                    from: DateTime<Utc>,
                    until: DateTime<Utc>,
                ) -> Result<Vec<PartnerOrder>, StoreError> {
                    let sql = format!(
                        "SELECT {ORDER_COLUMNS} FROM partner_orders
                         WHERE partner_id = $1 AND status = 'confirmed' AND done_at_ms >= $2 AND done_at_ms < $3
                         ORDER BY done_at_ms, out_trade_no"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(partner)
                        .bind(from.timestamp_millis())
                        .bind(until.timestamp_millis())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(order).collect()
                }
            }
        }
    };
}
