//! Partners in SQL: partners and keys, nonces, and payment orders that
//! lock and redeem vouchers (for `impl_partner_store!`).

/// The columns of `partner_orders` a read selects.
pub const ORDER_COLUMNS: &str =
    "id, partner_id, out_trade_no, voucher_id, merchant_id, till_id, order_fen, discount_fen, items, status,
     locked_until_ms, transaction_id, redemption_id, created_at_ms, done_at_ms";

/// Implements `PartnerStore` for `$store` (which has `fn pool(&self)`).
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_partner_store {
    ($store:ty, $row:ty) => {
        pub(crate) mod partner_store {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::partner::{KeyScheme, Mode, PartnerKind, PartnerStatus, Scope};
            use quan_domain::{Fen, MerchantId, TillId, UserId};
            use quan_store::sql::bulk::BulkRedemptions;
            use quan_store::sql::partners::ORDER_COLUMNS;
            use quan_store::sql::{at, err, get, unique};
            use quan_store::{
                ConfirmOutcome, LockOutcome, Partner, PartnerKey, PartnerOrder, Redemption, StoreError, Transfer,
            };
            use sqlx::Row;
            use uuid::Uuid;

            type R = $row;
            pub(crate) type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            fn named<T>(what: &str, v: Option<T>, s: &str) -> Result<T, StoreError> {
                v.ok_or_else(|| StoreError::message(format!("unknown partner {what} {s:?}")))
            }

            fn partner(row: &R) -> Result<Partner, StoreError> {
                let kind: String = get(row, "kind")?;
                let mode: String = get(row, "mode")?;
                let status: String = get(row, "status")?;
                let scopes: String = get(row, "scopes")?;
                Ok(Partner {
                    id: get(row, "id")?,
                    name: get(row, "name")?,
                    kind: named("kind", PartnerKind::parse(&kind), &kind)?,
                    mode: named("mode", Mode::parse(&mode), &mode)?,
                    scopes: scopes
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| named("scope", Scope::parse(s), s))
                        .collect::<Result<_, _>>()?,
                    region: get(row, "region")?,
                    status: named("status", PartnerStatus::parse(&status), &status)?,
                    status_reason: get(row, "status_reason")?,
                    status_by: get::<_, Option<Uuid>>(row, "status_by")?.map(UserId::from_uuid),
                    status_at: get::<_, Option<i64>>(row, "status_at_ms")?.map(at),
                    created_by: UserId::from_uuid(get(row, "created_by")?),
                    created_at: at(get(row, "created_at_ms")?),
                    keys: Vec::new(),
                })
            }

            fn key(row: &R) -> Result<(Uuid, PartnerKey), StoreError> {
                let scheme: String = get(row, "scheme")?;
                Ok((
                    get(row, "partner_id")?,
                    PartnerKey {
                        serial_no: get(row, "serial_no")?,
                        scheme: named("key scheme", KeyScheme::parse(&scheme), &scheme)?,
                        public_key: get(row, "public_key")?,
                        sealed_secret: get(row, "sealed_secret")?,
                        created_at: at(get(row, "created_at_ms")?),
                        revoked_at: get::<_, Option<i64>>(row, "revoked_at_ms")?.map(at),
                    },
                ))
            }

            pub(crate) fn order(row: &R) -> Result<PartnerOrder, StoreError> {
                Ok(PartnerOrder {
                    id: get(row, "id")?,
                    partner_id: get(row, "partner_id")?,
                    out_trade_no: get(row, "out_trade_no")?,
                    voucher_id: get(row, "voucher_id")?,
                    merchant_id: MerchantId::from_uuid(get(row, "merchant_id")?),
                    till_id: get::<_, Option<Uuid>>(row, "till_id")?.map(TillId::from_uuid),
                    order: Fen::new(get(row, "order_fen")?),
                    discount: Fen::new(get(row, "discount_fen")?),
                    items: get(row, "items")?,
                    status: get(row, "status")?,
                    locked_until: at(get(row, "locked_until_ms")?),
                    transaction_id: get(row, "transaction_id")?,
                    redemption_id: get(row, "redemption_id")?,
                    created_at: at(get(row, "created_at_ms")?),
                    done_at: get::<_, Option<i64>>(row, "done_at_ms")?.map(at),
                })
            }

            fn partner_refund(row: &R) -> Result<quan_store::PartnerRefund, StoreError> {
                Ok(quan_store::PartnerRefund {
                    partner_id: get(row, "partner_id")?,
                    out_refund_no: get(row, "out_refund_no")?,
                    order_id: get(row, "order_id")?,
                    refund_id: get(row, "refund_id")?,
                    amount: Fen::new(get(row, "amount_fen")?),
                    created_at: at(get(row, "created_at_ms")?),
                })
            }

            /// A partner's refund number, inside the refund's transaction;
            /// a number the partner used already is `out_refund_no_taken`.
            pub(crate) async fn refund_in_tx(tx: &mut Tx<'_>, f: &quan_store::PartnerRefund) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO partner_refunds (partner_id, out_refund_no, order_id, refund_id, amount_fen, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(f.partner_id)
                .bind(&f.out_refund_no)
                .bind(f.order_id)
                .bind(f.refund_id)
                .bind(f.amount.as_i64())
                .bind(f.created_at.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(unique("out_refund_no_taken"))?;
                Ok(())
            }

            async fn insert_key(tx: &mut Tx<'_>, partner: Uuid, k: &PartnerKey) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO partner_keys (partner_id, serial_no, scheme, public_key, sealed_secret, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(partner)
                .bind(&k.serial_no)
                .bind(k.scheme.as_str())
                .bind(&k.public_key)
                .bind(&k.sealed_secret)
                .bind(k.created_at.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(unique("serial_no"))?;
                Ok(())
            }

            pub(crate) async fn order_by_id(tx: &mut Tx<'_>, id: Uuid) -> Result<PartnerOrder, StoreError> {
                let sql = format!("SELECT {ORDER_COLUMNS} FROM partner_orders WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut **tx).await.map_err(err)?;
                order(&row)
            }

            async fn with_keys(
                pool: &sqlx::Pool<<R as Row>::Database>,
                mut ps: Vec<Partner>,
            ) -> Result<Vec<Partner>, StoreError> {
                let rows = sqlx::query(
                    "SELECT partner_id, serial_no, scheme, public_key, sealed_secret, created_at_ms, revoked_at_ms
                     FROM partner_keys ORDER BY created_at_ms, serial_no",
                )
                .fetch_all(pool)
                .await
                .map_err(err)?;
                for row in &rows {
                    let (id, k) = key(row)?;
                    if let Some(p) = ps.iter_mut().find(|p| p.id == id) {
                        p.keys.push(k);
                    }
                }
                Ok(ps)
            }

            const PARTNER_COLUMNS: &str = "id, name, kind, mode, scopes, region, status, status_reason, status_by, status_at_ms, created_by, created_at_ms";

            #[async_trait::async_trait]
            impl quan_store::PartnerStore for $store {
                async fn create_partner(&self, p: &Partner) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let scopes: Vec<&str> = p.scopes.iter().map(|s| s.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO partners (id, name, kind, mode, scopes, region, status, created_by, created_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(p.id)
                    .bind(&p.name)
                    .bind(p.kind.as_str())
                    .bind(p.mode.as_str())
                    .bind(scopes.join(","))
                    .bind(&p.region)
                    .bind(p.status.as_str())
                    .bind(p.created_by.as_uuid())
                    .bind(p.created_at.timestamp_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(unique("name"))?;
                    // The partner's own account (disabled, no password): what it does
                    // in others' records (a refund of its reversed payment) names it.
                    let simple = p.id.simple().to_string();
                    sqlx::query(
                        "INSERT INTO users (id, username, role, region, display_name, password_hash, disabled, created_at_ms, created_by)
                         VALUES ($1, $2, 'partner', $3, $4, '!', $5, $6, $7)",
                    )
                    .bind(p.id)
                    .bind(format!("partner.{}", &simple[20..]))
                    .bind(&p.region)
                    .bind(&p.name)
                    .bind(true)
                    .bind(p.created_at.timestamp_millis())
                    .bind(p.created_by.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(unique("username"))?;
                    for k in &p.keys {
                        insert_key(&mut tx, p.id, k).await?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
                    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners ORDER BY name");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await.map_err(err)?;
                    let ps = rows.iter().map(partner).collect::<Result<Vec<_>, _>>()?;
                    with_keys(self.pool(), ps).await
                }

                async fn partner(&self, id: Uuid) -> Result<Partner, StoreError> {
                    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners WHERE id = $1");
                    let row =
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(self.pool()).await.map_err(err)?;
                    let mut p = partner(&row)?;
                    let rows = sqlx::query(
                        "SELECT partner_id, serial_no, scheme, public_key, sealed_secret, created_at_ms, revoked_at_ms
                         FROM partner_keys WHERE partner_id = $1 ORDER BY created_at_ms, serial_no",
                    )
                    .bind(id)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    p.keys = rows.iter().map(|r| key(r).map(|(_, k)| k)).collect::<Result<_, _>>()?;
                    Ok(p)
                }

                async fn add_partner_key(&self, partner: Uuid, k: &PartnerKey) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    insert_key(&mut tx, partner, k).await?;
                    tx.commit().await.map_err(err)
                }

                async fn revoke_partner_key(
                    &self,
                    partner: Uuid,
                    serial: &str,
                    when: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let n = sqlx::query(
                        "UPDATE partner_keys SET revoked_at_ms = $3 WHERE partner_id = $1 AND serial_no = $2 AND revoked_at_ms IS NULL",
                    )
                    .bind(partner)
                    .bind(serial)
                    .bind(when.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?
                    .rows_affected();
                    Ok(n == 1)
                }

                async fn set_partner_status(
                    &self,
                    partner: Uuid,
                    status: PartnerStatus,
                    reason: &str,
                    by: UserId,
                    when: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let n = sqlx::query(
                        "UPDATE partners SET status = $2, status_reason = $3, status_by = $4, status_at_ms = $5 WHERE id = $1",
                    )
                    .bind(partner)
                    .bind(status.as_str())
                    .bind(reason)
                    .bind(by.as_uuid())
                    .bind(when.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
                }

                async fn take_nonces(
                    &self,
                    nonces: &[(Uuid, String, DateTime<Utc>)],
                    now: DateTime<Utc>,
                ) -> Result<Vec<bool>, StoreError> {
                    // In key order, so concurrent batches meet rows in one order.
                    let mut order: Vec<usize> = (0..nonces.len()).collect();
                    order.sort_by(|a, b| (nonces[*a].0, &nonces[*a].1).cmp(&(nonces[*b].0, &nonces[*b].1)));
                    let mut taken = vec![false; nonces.len()];
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    for i in order {
                        let (partner, nonce, expires) = &nonces[i];
                        // A nonce expired by now may be taken again.
                        let n = sqlx::query(
                            "INSERT INTO partner_nonces (partner_id, nonce, expires_at_ms) VALUES ($1, $2, $3)
                             ON CONFLICT (partner_id, nonce) DO UPDATE SET expires_at_ms = excluded.expires_at_ms
                             WHERE partner_nonces.expires_at_ms <= $4",
                        )
                        .bind(partner)
                        .bind(nonce)
                        .bind(expires.timestamp_millis())
                        .bind(now.timestamp_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?
                        .rows_affected();
                        taken[i] = n == 1;
                    }
                    // About one batch in 64 forgets the expired ones.
                    let first = nonces.first().map_or(0u8, |n| n.1.bytes().fold(0u8, |a, b| a.wrapping_add(b)));
                    if first % 64 == 0 {
                        sqlx::query("DELETE FROM partner_nonces WHERE expires_at_ms <= $1")
                            .bind(now.timestamp_millis())
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(taken)
                }

                async fn partner_order(&self, partner: Uuid, no: &str) -> Result<Option<PartnerOrder>, StoreError> {
                    let sql = format!(
                        "SELECT {ORDER_COLUMNS} FROM partner_orders WHERE partner_id = $1 AND out_trade_no = $2"
                    );
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(partner)
                        .bind(no)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?;
                    row.as_ref().map(order).transpose()
                }

                async fn partner_order_by_id(&self, id: Uuid) -> Result<PartnerOrder, StoreError> {
                    let sql = format!("SELECT {ORDER_COLUMNS} FROM partner_orders WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?;
                    row.as_ref().map(order).transpose()?.ok_or(StoreError::NotFound)
                }

                async fn partner_order_by_redemption(
                    &self,
                    redemption: Uuid,
                ) -> Result<Option<PartnerOrder>, StoreError> {
                    let sql = format!("SELECT {ORDER_COLUMNS} FROM partner_orders WHERE redemption_id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(redemption)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?;
                    row.as_ref().map(order).transpose()
                }

                async fn partner_refund(
                    &self,
                    partner: Uuid,
                    no: &str,
                ) -> Result<Option<quan_store::PartnerRefund>, StoreError> {
                    let row = sqlx::query(
                        "SELECT partner_id, out_refund_no, order_id, refund_id, amount_fen, created_at_ms
                         FROM partner_refunds WHERE partner_id = $1 AND out_refund_no = $2",
                    )
                    .bind(partner)
                    .bind(no)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    row.as_ref().map(partner_refund).transpose()
                }

                async fn partner_refunds_of(&self, order: Uuid) -> Result<Vec<quan_store::PartnerRefund>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT partner_id, out_refund_no, order_id, refund_id, amount_fen, created_at_ms
                         FROM partner_refunds WHERE order_id = $1 ORDER BY created_at_ms, out_refund_no",
                    )
                    .bind(order)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(partner_refund).collect()
                }

                async fn reverse_partner_order(
                    &self,
                    id: Uuid,
                    from: &str,
                    event: &quan_store::NewEvent,
                    now: DateTime<Utc>,
                ) -> Result<Option<PartnerOrder>, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let n = sqlx::query(
                        "UPDATE partner_orders SET status = 'reversed', done_at_ms = $3 WHERE id = $1 AND status = $2",
                    )
                    .bind(id)
                    .bind(from)
                    .bind(now.timestamp_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?
                    .rows_affected();
                    if n != 1 {
                        return Ok(None);
                    }
                    sqlx::query("UPDATE vouchers SET lock_id = NULL, locked_until_ms = NULL WHERE lock_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    let after = order_by_id(&mut tx, id).await?;
                    crate::webhook_sql::insert_in_tx(&mut tx, event).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(Some(after))
                }
            }
        }
    };
}
