//! A batch's stock split between claim channels in SQL (for
//! `impl_channel_store!`): quan's own stock keeps its buckets `0..n`; a
//! partner's share is one row with a negative bucket of its own.

/// Implements `ChannelStore` for `$store` (which has `fn pool(&self)`).
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_channel_store {
    ($store:ty, $row:ty) => {
        pub(crate) mod channel_store {
            #![allow(unused_imports)]
            use super::*;

            use quan_domain::BatchId;
            use quan_store::sql::{err, get};
            use quan_store::{ChannelStock, StoreError};
            use sqlx::Row;

            type R = $row;
            type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            /// Takes `count` of `kind` from `from`'s buckets, the fullest first.
            async fn take(
                tx: &mut Tx<'_>,
                batch: BatchId,
                kind: &str,
                from: &str,
                count: i64,
            ) -> Result<(), StoreError> {
                let rows = sqlx::query(
                    "SELECT bucket, remaining FROM batch_stock
                     WHERE batch_id = $1 AND kind_code = $2 AND channel = $3 AND remaining > 0
                     ORDER BY remaining DESC, bucket",
                )
                .bind(batch.as_uuid())
                .bind(kind)
                .bind(from)
                .fetch_all(&mut **tx)
                .await
                .map_err(err)?;
                let mut need = count;
                for row in rows {
                    if need == 0 {
                        break;
                    }
                    let bucket: i64 = get(&row, "bucket")?;
                    let take = get::<_, i64>(&row, "remaining")?.min(need);
                    let done = sqlx::query(
                        "UPDATE batch_stock SET remaining = remaining - $4
                         WHERE batch_id = $1 AND kind_code = $2 AND bucket = $3 AND remaining >= $4",
                    )
                    .bind(batch.as_uuid())
                    .bind(kind)
                    .bind(bucket)
                    .bind(take)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                    if done.rows_affected() == 1 {
                        need -= take;
                    }
                }
                if need > 0 { Err(StoreError::Conflict { what: "stock_short" }) } else { Ok(()) }
            }

            /// The bucket `to`'s share lives in: quan's own bucket 0, or the
            /// partner's row (made below every other bucket when missing).
            async fn target(tx: &mut Tx<'_>, batch: BatchId, kind: &str, to: &str) -> Result<i64, StoreError> {
                if to.is_empty() {
                    return Ok(0);
                }
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT bucket FROM batch_stock WHERE batch_id = $1 AND kind_code = $2 AND channel = $3",
                )
                .bind(batch.as_uuid())
                .bind(kind)
                .bind(to)
                .fetch_optional(&mut **tx)
                .await
                .map_err(err)?;
                if let Some(b) = found {
                    return Ok(b);
                }
                let lowest: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(MIN(bucket), 0) AS BIGINT) FROM batch_stock WHERE batch_id = $1 AND kind_code = $2",
                )
                .bind(batch.as_uuid())
                .bind(kind)
                .fetch_one(&mut **tx)
                .await
                .map_err(err)?;
                let bucket = lowest.min(0) - 1;
                sqlx::query(
                    "INSERT INTO batch_stock (batch_id, kind_code, bucket, remaining, channel) VALUES ($1, $2, $3, 0, $4)",
                )
                .bind(batch.as_uuid())
                .bind(kind)
                .bind(bucket)
                .bind(to)
                .execute(&mut **tx)
                .await
                .map_err(quan_store::sql::unique("channel_raced"))?;
                Ok(bucket)
            }

            /// Rows of (channel, figures…) folded into `out` by `put`.
            fn fold(
                out: &mut std::collections::BTreeMap<String, quan_store::ChannelFigures>,
                rows: &[R],
                key: &str,
                put: impl Fn(&mut quan_store::ChannelFigures, &R) -> Result<(), StoreError>,
            ) -> Result<(), StoreError> {
                for r in rows {
                    let ch: String = get(r, key)?;
                    let e = out
                        .entry(ch.clone())
                        .or_insert_with(|| quan_store::ChannelFigures { channel: ch, ..Default::default() });
                    put(e, r)?;
                }
                Ok(())
            }

            #[async_trait::async_trait]
            impl quan_store::ChannelStore for $store {
                async fn channel_figures(
                    &self,
                    campaign: quan_domain::CampaignId,
                    from_ms: i64,
                    to_ms: i64,
                ) -> Result<Vec<quan_store::ChannelFigures>, StoreError> {
                    let claims = sqlx::query(
                        "SELECT channel, CAST(SUM(CASE WHEN tier = 0 AND created_at_ms >= $2 THEN 1 ELSE 0 END) AS BIGINT) AS day,
                                CAST(SUM(CASE WHEN tier = 0 THEN 1 ELSE 0 END) AS BIGINT) AS total, CAST(SUM(face_fen) AS BIGINT) AS face
                         FROM vouchers WHERE campaign_id = $1 AND created_at_ms < $3 GROUP BY channel",
                    )
                    .bind(campaign.as_uuid())
                    .bind(from_ms)
                    .bind(to_ms)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let used = sqlx::query(
                        "SELECT v.channel, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(r.discount_fen) AS BIGINT) AS subsidy
                         FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
                         WHERE r.campaign_id = $1 AND r.redeemed_at_ms >= $2 AND r.redeemed_at_ms < $3 GROUP BY v.channel",
                    )
                    .bind(campaign.as_uuid())
                    .bind(from_ms)
                    .bind(to_ms)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let paid = sqlx::query(
                        "SELECT o.partner_id, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(r.discount_fen) AS BIGINT) AS discount
                         FROM redemptions r JOIN partner_orders o ON o.redemption_id = r.id
                         WHERE r.campaign_id = $1 AND r.redeemed_at_ms >= $2 AND r.redeemed_at_ms < $3
                         GROUP BY o.partner_id",
                    )
                    .bind(campaign.as_uuid())
                    .bind(from_ms)
                    .bind(to_ms)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let mut out = std::collections::BTreeMap::new();
                    fold(&mut out, &claims, "channel", |e, r| {
                        (e.claims_day, e.claims, e.face_fen) = (get(r, "day")?, get(r, "total")?, get(r, "face")?);
                        Ok(())
                    })?;
                    fold(&mut out, &used, "channel", |e, r| {
                        (e.redemptions_day, e.subsidy_day_fen) = (get(r, "n")?, get(r, "subsidy")?);
                        Ok(())
                    })?;
                    for r in &paid {
                        let ch = get::<_, uuid::Uuid>(r, "partner_id")?.to_string();
                        let e = out
                            .entry(ch.clone())
                            .or_insert_with(|| quan_store::ChannelFigures { channel: ch, ..Default::default() });
                        (e.checkouts_day, e.checkout_discount_day_fen) = (get(r, "n")?, get(r, "discount")?);
                    }
                    Ok(out.into_values().collect())
                }

                async fn move_channel_stock(
                    &self,
                    batch: BatchId,
                    kind: &str,
                    from: &str,
                    to: &str,
                    count: i64,
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    // Written first (SQLite: no read upgraded to a write later):
                    // the batch changed, so every node re-reads what is sold out.
                    sqlx::query("UPDATE batches SET version = version + 1 WHERE id = $1")
                        .bind(batch.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    let known: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM batch_stock WHERE batch_id = $1 AND kind_code = $2 AND bucket = 0",
                    )
                    .bind(batch.as_uuid())
                    .bind(kind)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
                    if known == 0 {
                        return Err(StoreError::NotFound);
                    }
                    take(&mut tx, batch, kind, from, count).await?;
                    let bucket = target(&mut tx, batch, kind, to).await?;
                    sqlx::query(
                        "UPDATE batch_stock SET remaining = remaining + $4 WHERE batch_id = $1 AND kind_code = $2 AND bucket = $3",
                    )
                    .bind(batch.as_uuid())
                    .bind(kind)
                    .bind(bucket)
                    .bind(count)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    tx.commit().await.map_err(err)
                }

                async fn channel_stock(&self, batch: BatchId) -> Result<Vec<ChannelStock>, StoreError> {
                    let left = sqlx::query(
                        "SELECT kind_code, channel, CAST(SUM(remaining) AS BIGINT) AS n FROM batch_stock
                         WHERE batch_id = $1 GROUP BY kind_code, channel",
                    )
                    .bind(batch.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let used = sqlx::query(
                        "SELECT kind_code, channel, CAST(SUM(CASE WHEN tier = 0 THEN 1 ELSE 0 END) AS BIGINT) AS claimed,
                                CAST(SUM(CASE WHEN state = 'redeemed' THEN 1 ELSE 0 END) AS BIGINT) AS redeemed
                         FROM vouchers WHERE batch_id = $1 GROUP BY kind_code, channel",
                    )
                    .bind(batch.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let mut out: std::collections::BTreeMap<(String, String), ChannelStock> = Default::default();
                    for r in &left {
                        let (kind_code, channel): (String, String) = (get(r, "kind_code")?, get(r, "channel")?);
                        let e = out.entry((channel.clone(), kind_code.clone())).or_insert(ChannelStock {
                            kind_code,
                            channel,
                            remaining: 0,
                            claimed: 0,
                            redeemed: 0,
                        });
                        e.remaining = get(r, "n")?;
                    }
                    for r in &used {
                        let (kind_code, channel): (String, String) = (get(r, "kind_code")?, get(r, "channel")?);
                        let e = out.entry((channel.clone(), kind_code.clone())).or_insert(ChannelStock {
                            kind_code,
                            channel,
                            remaining: 0,
                            claimed: 0,
                            redeemed: 0,
                        });
                        e.claimed = get(r, "claimed")?;
                        e.redeemed = get(r, "redeemed")?;
                    }
                    Ok(out.into_values().collect())
                }
            }
        }
    };
}
