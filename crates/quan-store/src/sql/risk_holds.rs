//! Risk holds in SQL: written inside a redemption's or a refund's
//! transaction, decided by an operator (for `impl_risk_hold_store!`).

/// Implements `CashoutStore` for `$store` (which has `fn pool(&self)`),
/// and `risk_hold_sql`, the statements the redemption store calls inside
/// its transactions. Needs `impl_ledger_store!` and
/// `impl_redemption_store!` expanded in the same crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_risk_hold_store {
    ($store:ty, $row:ty) => {
        pub(crate) mod risk_hold_sql {
            #![allow(unused_imports)]
            use super::*;

            use quan_domain::Fen;
            use quan_domain::ledger::AccountKind;
            use quan_store::sql::err;
            use quan_store::{Redemption, StoreError, Transfer};
            use sqlx::Row;

            type R = $row;
            pub(crate) type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            /// The holds of newly committed redemptions that carry one.
            pub(crate) async fn insert_in_tx(tx: &mut Tx<'_>, won: &[&Redemption]) -> Result<(), StoreError> {
                for r in won {
                    let Some(h) = &r.risk else { continue };
                    sqlx::query(
                        "INSERT INTO risk_holds (redemption_id, held_fen, amount_fen, rules, score, held_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(r.id)
                    .bind(h.held.as_i64())
                    .bind(h.still_held.as_i64())
                    .bind(&h.rules)
                    .bind(i64::from(h.score))
                    .bind(r.redeemed_at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                }
                Ok(())
            }

            /// A refund's take from the risk-held account (its transfer
            /// debiting `risk_held`) lowers the redemption's open hold.
            pub(crate) async fn refund_in_tx(
                tx: &mut Tx<'_>,
                redemption: uuid::Uuid,
                transfers: &[Transfer],
            ) -> Result<(), StoreError> {
                let taken: i64 =
                    transfers.iter().filter(|t| t.debit.kind == AccountKind::RiskHeld).map(|t| t.amount.as_i64()).sum();
                if taken == 0 {
                    return Ok(());
                }
                let done = sqlx::query(
                    "UPDATE risk_holds SET amount_fen = amount_fen - $2
                     WHERE redemption_id = $1 AND outcome IS NULL AND amount_fen >= $2",
                )
                .bind(redemption)
                .bind(taken)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict { what: "refund_raced" }) }
            }
        }

        mod risk_hold_store {
            #![allow(unused_imports)]
            use super::*;

            use quan_store::sql::err;
            use quan_store::{HoldDecision, Redemption, StoreError, Transfer};

            #[async_trait::async_trait]
            impl quan_store::CashoutStore for $store {
                async fn open_risk_holds(&self, limit: u32) -> Result<Vec<Redemption>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM redemptions JOIN risk_holds ON risk_holds.redemption_id = redemptions.id
                         WHERE outcome IS NULL AND amount_fen > 0 ORDER BY held_at_ms, id LIMIT $1",
                        quan_store::sql::bulk::REDEMPTION_READ_COLUMNS
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(crate::redemption_sql::redemption).collect()
                }

                async fn decide_risk_hold(&self, d: &HoldDecision, transfers: &[Transfer]) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let now: Option<(i64, Option<String>)> =
                        sqlx::query_as("SELECT amount_fen, outcome FROM risk_holds WHERE redemption_id = $1")
                            .bind(d.redemption_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(err)?;
                    match now {
                        None => return Err(StoreError::NotFound),
                        Some((_, Some(_))) => return Err(StoreError::Conflict { what: "hold_decided" }),
                        Some((amount, None)) if amount != d.amount.as_i64() => {
                            return Err(StoreError::Conflict { what: "hold_changed" });
                        }
                        Some(_) => {}
                    }
                    let done = sqlx::query(
                        "UPDATE risk_holds SET outcome = $2, decided_by = $3, decided_at_ms = $4, decision_note = $5
                         WHERE redemption_id = $1 AND outcome IS NULL AND amount_fen = $6",
                    )
                    .bind(d.redemption_id)
                    .bind(d.outcome)
                    .bind(d.by.as_uuid())
                    .bind(d.at.timestamp_millis())
                    .bind(&d.note)
                    .bind(d.amount.as_i64())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict { what: "hold_changed" });
                    }
                    crate::ledger_sql::post_in_tx(&mut tx, transfers).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(())
                }
            }
        }
    };
}
