//! `LedgerStore` in SQL, for `impl_ledger_store!`. Also provides
//! `ledger_sql::post_in_tx`, which other stores call to post transfers in
//! the same transaction as the state change they belong to.

/// Implements `LedgerStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`.
// `crate::…` is meant: those modules are expanded by the sibling macros
// in the same backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_ledger_store {
    ($store:ty, $row:ty) => {
        pub(crate) mod ledger_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::DateTime;
            use quan_domain::ledger::{Account, AccountKind, Reason};
            use quan_domain::{CampaignId, Fen, MerchantId};
            use quan_store::{AccountTotals, StoreError, Transfer};
            use sqlx::Row;

            type R = $row;
            pub(crate) type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            use quan_store::sql::err;

            use quan_store::sql::get;

            async fn ensure_account(tx: &mut Tx<'_>, a: &Account) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO ledger_accounts (key, campaign_id, kind, merchant_id, debits_fen, credits_fen, has_floor)
                     VALUES ($1, $2, $3, $4, 0, 0, $5) ON CONFLICT (key) DO NOTHING",
                )
                .bind(a.key())
                .bind(a.campaign.as_uuid())
                .bind(a.kind.as_str())
                .bind(a.merchant.map(|m| m.as_uuid()))
                .bind(i64::from(a.kind.has_floor()))
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(())
            }

            /// Posts many transfers inside the caller's transaction, for
            /// batches of redemptions: the accounts are made sure of in one
            /// statement that inserts only keys it does not see (an `ON
            /// CONFLICT` check on an account another batch has updated but not
            /// committed waits for that batch to end, which made parallel
            /// batches on PostgreSQL queue at their first statement), the transfers inserted a few multi-row statements at
            /// a time, and only then is each account touched updated once (in
            /// key order, so concurrent batches lock accounts in the same
            /// order). The updates come last because they lock rows every
            /// batch shares (the campaign's `reserved` account): on
            /// PostgreSQL a lock is held until COMMIT, so the less work after
            /// it, the less the parallel batches wait on one another. Each
            /// account with a floor must end the batch at or above zero
            /// (`account_floor` if not). The caller commits next.
            pub(crate) async fn post_many_in_tx(tx: &mut Tx<'_>, transfers: &[Transfer]) -> Result<(), StoreError> {
                let mut sums: std::collections::BTreeMap<String, (Account, i64, i64)> =
                    std::collections::BTreeMap::new();
                for t in transfers {
                    assert!(t.amount > Fen::ZERO, "a transfer moves a positive amount");
                    assert!(t.debit != t.credit, "a transfer moves money between two accounts");
                    let d = sums.entry(t.debit.key()).or_insert((t.debit, 0, 0));
                    d.1 =
                        d.1.checked_add(t.amount.as_i64())
                            .ok_or_else(|| StoreError::message("transfer sum overflows"))?;
                    let c = sums.entry(t.credit.key()).or_insert((t.credit, 0, 0));
                    c.2 =
                        c.2.checked_add(t.amount.as_i64())
                            .ok_or_else(|| StoreError::message("transfer sum overflows"))?;
                }
                let accounts: Vec<(&String, &Account)> = sums.iter().map(|(k, (a, _, _))| (k, a)).collect();
                for chunk in quan_store::sql::shaped(&accounts) {
                    let sql = format!(
                        "INSERT INTO ledger_accounts (key, campaign_id, kind, merchant_id, debits_fen, credits_fen, has_floor)
                         SELECT * FROM (VALUES {}) AS v
                         WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.key = v.column1)
                         ON CONFLICT (key) DO NOTHING",
                        quan_store::sql::values::<R>(chunk.len(), 7)
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (key, a) in chunk {
                        q = q
                            .bind((*key).clone())
                            .bind(a.campaign.as_uuid())
                            .bind(a.kind.as_str())
                            .bind(a.merchant.map(|m| m.as_uuid()))
                            .bind(0_i64)
                            .bind(0_i64)
                            .bind(i64::from(a.kind.has_floor()));
                    }
                    q.execute(&mut **tx).await.map_err(err)?;
                }
                for chunk in quan_store::sql::shaped(transfers) {
                    let sql = format!(
                        "INSERT INTO ledger_transfers (id, campaign_id, debit_key, credit_key, amount_fen, reason, reference, at_ms) VALUES {}",
                        quan_store::sql::values::<R>(chunk.len(), 8)
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for t in chunk {
                        q = q
                            .bind(t.id)
                            .bind(t.debit.campaign.as_uuid())
                            .bind(t.debit.key())
                            .bind(t.credit.key())
                            .bind(t.amount.as_i64())
                            .bind(t.reason.as_str())
                            .bind(t.reference.clone())
                            .bind(t.at.timestamp_millis());
                    }
                    q.execute(&mut **tx).await.map_err(err)?;
                }
                // Lock the accounts in key order (`ORDER BY … FOR NO KEY
                // UPDATE` locks rows as they come out of the sort), then
                // update them in one statement per chunk of accounts, not one
                // per account.
                let totals: Vec<(&String, i64, i64)> = sums.iter().map(|(k, (_, d, c))| (k, *d, *c)).collect();
                let lock = <R as quan_store::sql::RowLocks>::FOR_UPDATE;
                for chunk in quan_store::sql::shaped(&totals) {
                    if !lock.is_empty() {
                        let sql = format!(
                            "SELECT key FROM ledger_accounts WHERE key IN ({}) ORDER BY key{lock}",
                            quan_store::sql::list::<R>(chunk.len())
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for (key, _, _) in chunk {
                            q = q.bind((*key).clone());
                        }
                        q.fetch_all(&mut **tx).await.map_err(err)?;
                    }
                    let sql = format!(
                        "UPDATE ledger_accounts SET debits_fen = debits_fen + v.column2, credits_fen = credits_fen + v.column3
                         FROM (VALUES {}) AS v
                         WHERE ledger_accounts.key = v.column1
                           AND (ledger_accounts.has_floor = 0 OR ledger_accounts.credits_fen + v.column3 - ledger_accounts.debits_fen - v.column2 >= 0)",
                        quan_store::sql::values::<R>(chunk.len(), 3)
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (key, debit, credit) in chunk {
                        q = q.bind((*key).clone()).bind(*debit).bind(*credit);
                    }
                    let done = q.execute(&mut **tx).await.map_err(err)?.rows_affected();
                    if done != chunk.len() as u64 {
                        return Err(StoreError::Conflict { what: "account_floor" });
                    }
                }
                Ok(())
            }

            /// Posts transfers inside the caller's transaction. The debit is
            /// a guarded update, so an account with a floor never goes below
            /// zero (and the table's CHECK stands behind it).
            pub(crate) async fn post_in_tx(tx: &mut Tx<'_>, transfers: &[Transfer]) -> Result<(), StoreError> {
                for t in transfers {
                    assert!(t.amount > Fen::ZERO, "a transfer moves a positive amount");
                    assert!(t.debit != t.credit, "a transfer moves money between two accounts");
                    ensure_account(tx, &t.debit).await?;
                    ensure_account(tx, &t.credit).await?;
                    let debited = sqlx::query(
                        "UPDATE ledger_accounts SET debits_fen = debits_fen + $2
                         WHERE key = $1 AND (has_floor = 0 OR credits_fen - debits_fen >= $2)",
                    )
                    .bind(t.debit.key())
                    .bind(t.amount.as_i64())
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if debited != 1 {
                        return Err(StoreError::Conflict { what: "account_floor" });
                    }
                    sqlx::query("UPDATE ledger_accounts SET credits_fen = credits_fen + $2 WHERE key = $1")
                        .bind(t.credit.key())
                        .bind(t.amount.as_i64())
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    sqlx::query(
                        "INSERT INTO ledger_transfers (id, campaign_id, debit_key, credit_key, amount_fen, reason, reference, at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(t.id)
                    .bind(t.debit.campaign.as_uuid())
                    .bind(t.debit.key())
                    .bind(t.credit.key())
                    .bind(t.amount.as_i64())
                    .bind(t.reason.as_str())
                    .bind(&t.reference)
                    .bind(t.at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                }
                Ok(())
            }

            fn account(row: &R, campaign: CampaignId) -> Result<Account, StoreError> {
                let kind: String = get(row, "kind")?;
                Ok(Account {
                    campaign,
                    kind: AccountKind::parse(&kind)
                        .ok_or_else(|| StoreError::message(format!("unknown account kind {kind}")))?,
                    merchant: get::<_, Option<uuid::Uuid>>(row, "merchant_id")?.map(MerchantId::from_uuid),
                })
            }

            #[async_trait::async_trait]
            impl quan_store::LedgerStore for $store {
                async fn post_transfers(&self, transfers: &[Transfer]) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    post_in_tx(&mut tx, transfers).await?;
                    tx.commit().await.map_err(err)
                }

                async fn account_totals(&self, campaign: CampaignId) -> Result<Vec<AccountTotals>, StoreError> {
                    let rows = sqlx::query(
                        // The campaign's transfers are read twice (by its index), not once per account.
                        "SELECT a.key, a.kind, a.merchant_id, a.debits_fen, a.credits_fen,
                            CAST(COALESCE(d.total, 0) AS BIGINT) AS t_debits, CAST(COALESCE(c.total, 0) AS BIGINT) AS t_credits
                         FROM ledger_accounts a
                         LEFT JOIN (SELECT debit_key AS k, SUM(amount_fen) AS total FROM ledger_transfers WHERE campaign_id = $1 GROUP BY debit_key) d ON d.k = a.key
                         LEFT JOIN (SELECT credit_key AS k, SUM(amount_fen) AS total FROM ledger_transfers WHERE campaign_id = $1 GROUP BY credit_key) c ON c.k = a.key
                         WHERE a.campaign_id = $1 ORDER BY a.key",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(AccountTotals {
                                account: account(r, campaign)?,
                                debits: i128::from(get::<_, i64>(r, "debits_fen")?),
                                credits: i128::from(get::<_, i64>(r, "credits_fen")?),
                                transfer_debits: i128::from(get::<_, i64>(r, "t_debits")?),
                                transfer_credits: i128::from(get::<_, i64>(r, "t_credits")?),
                            })
                        })
                        .collect()
                }

                async fn account_balance(&self, account: &Account) -> Result<i128, StoreError> {
                    let b: Option<i64> = sqlx::query_scalar(
                        "SELECT CAST(credits_fen - debits_fen AS BIGINT) FROM ledger_accounts WHERE key = $1",
                    )
                    .bind(account.key())
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(i128::from(b.unwrap_or(0)))
                }

                async fn transfers(
                    &self,
                    campaign: CampaignId,
                    after: Option<uuid::Uuid>,
                    limit: u32,
                ) -> Result<Vec<Transfer>, StoreError> {
                    transfers_where(self.pool(), campaign, after, None, limit).await
                }
            }

            /// A campaign's transfers after `after`, those whose reference
            /// starts with `reference` when given, oldest first.
            pub(crate) async fn transfers_where<'e, E>(
                ex: E,
                campaign: CampaignId,
                after: Option<uuid::Uuid>,
                reference: Option<&str>,
                limit: u32,
            ) -> Result<Vec<Transfer>, StoreError>
            where
                E: sqlx::Executor<'e, Database = <R as Row>::Database>,
            {
                let rows = sqlx::query(
                        "SELECT t.id, t.amount_fen, t.reason, t.reference, t.at_ms,
                                d.kind AS d_kind, d.merchant_id AS d_merchant, c.kind AS c_kind, c.merchant_id AS c_merchant
                         FROM ledger_transfers t
                         JOIN ledger_accounts d ON d.key = t.debit_key
                         JOIN ledger_accounts c ON c.key = t.credit_key
                         WHERE t.campaign_id = $1 AND ($2 IS NULL OR t.id > $2)
                           AND ($4 IS NULL OR substr(t.reference, 1, length($4)) = $4) ORDER BY t.id LIMIT $3",
                    )
                    .bind(campaign.as_uuid())
                    .bind(after)
                    .bind(i64::from(limit))
                    .bind(reference)
                    .fetch_all(ex)
                    .await
                    .map_err(err)?;
                let kind = |r: &R, col: &str| -> Result<AccountKind, StoreError> {
                    let k: String = get(r, col)?;
                    AccountKind::parse(&k).ok_or_else(|| StoreError::message(format!("unknown account kind {k}")))
                };
                rows.iter()
                    .map(|r| {
                        let reason: String = get(r, "reason")?;
                        let at: i64 = get(r, "at_ms")?;
                        Ok(Transfer {
                            id: get(r, "id")?,
                            debit: Account {
                                campaign,
                                kind: kind(r, "d_kind")?,
                                merchant: get::<_, Option<uuid::Uuid>>(r, "d_merchant")?.map(MerchantId::from_uuid),
                            },
                            credit: Account {
                                campaign,
                                kind: kind(r, "c_kind")?,
                                merchant: get::<_, Option<uuid::Uuid>>(r, "c_merchant")?.map(MerchantId::from_uuid),
                            },
                            amount: Fen::new(get(r, "amount_fen")?),
                            reason: Reason::parse(&reason)
                                .ok_or_else(|| StoreError::message(format!("unknown reason {reason}")))?,
                            reference: get(r, "reference")?,
                            at: DateTime::from_timestamp_millis(at)
                                .ok_or_else(|| StoreError::message("at out of range"))?,
                        })
                    })
                    .collect()
            }
        }
    };
}
