//! What the nightly analysis reads, in SQL (for `impl_risk_fact_sql!`):
//! a campaign's standing redemptions, its accounts' claims and
//! redemptions, the catalogue's price history.

/// Expands `risk_fact_sql` for `$row`'s database.
#[macro_export]
macro_rules! impl_risk_fact_sql {
    ($row:ty) => {
        pub(crate) mod risk_fact_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::{BatchId, CampaignId, Fen, MerchantId, ResidentId};
            use quan_store::sql::{at, err, get};
            use quan_store::{ClaimFact, ProductPrices, RedemptionFact, StoreError};
            use sqlx::Row;
            use uuid::Uuid;

            type R = $row;
            type Pool = sqlx::Pool<<R as Row>::Database>;

            pub(crate) async fn redemption_facts(
                pool: &Pool,
                campaign: CampaignId,
                from: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> Result<Vec<RedemptionFact>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, resident_id, merchant_id, batch_id, kind_code, face_fen, order_fen, subsidy_fen, redeemed_at_ms FROM redemptions
                     WHERE campaign_id = $1 AND redeemed_at_ms >= $2 AND redeemed_at_ms < $3 AND state = 'standing'
                     ORDER BY redeemed_at_ms",
                )
                .bind(campaign.as_uuid())
                .bind(from.timestamp_millis())
                .bind(until.timestamp_millis())
                .fetch_all(pool)
                .await
                .map_err(err)?;
                rows.iter()
                    .map(|r| {
                        Ok(RedemptionFact {
                            id: get(r, "id")?,
                            resident: ResidentId::from_uuid(get(r, "resident_id")?),
                            merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                            batch: BatchId::from_uuid(get(r, "batch_id")?),
                            kind_code: get(r, "kind_code")?,
                            face: Fen::new(get(r, "face_fen")?),
                            order: Fen::new(get(r, "order_fen")?),
                            subsidy: Fen::new(get(r, "subsidy_fen")?),
                            redeemed_at: at(get(r, "redeemed_at_ms")?),
                        })
                    })
                    .collect()
            }

            pub(crate) async fn claim_facts(
                pool: &Pool,
                campaign: CampaignId,
                aged_before: DateTime<Utc>,
            ) -> Result<Vec<ClaimFact>, StoreError> {
                let rows = sqlx::query(
                    "SELECT v.resident_id, r.created_at_ms,
                            CAST(SUM(CASE WHEN v.created_at_ms < $2 THEN 1 ELSE 0 END) AS BIGINT) AS aged,
                            CAST(SUM(CASE WHEN v.state = 'redeemed' THEN 1 ELSE 0 END) AS BIGINT) AS redeemed
                     FROM vouchers v JOIN residents r ON r.id = v.resident_id
                     WHERE v.campaign_id = $1 GROUP BY v.resident_id, r.created_at_ms",
                )
                .bind(campaign.as_uuid())
                .bind(aged_before.timestamp_millis())
                .fetch_all(pool)
                .await
                .map_err(err)?;
                rows.iter()
                    .map(|r| {
                        Ok(ClaimFact {
                            resident: ResidentId::from_uuid(get(r, "resident_id")?),
                            registered_at: at(get(r, "created_at_ms")?),
                            claimed_aged: u32::try_from(get::<_, i64>(r, "aged")?).unwrap_or(u32::MAX),
                            redeemed: u32::try_from(get::<_, i64>(r, "redeemed")?).unwrap_or(u32::MAX),
                        })
                    })
                    .collect()
            }

            pub(crate) async fn hold_facts(
                pool: &Pool,
                campaign: CampaignId,
                until: DateTime<Utc>,
            ) -> Result<Vec<quan_store::HoldFact>, StoreError> {
                let rows = sqlx::query(
                    "SELECT r.merchant_id, h.held_fen, h.amount_fen, h.held_at_ms, h.outcome, h.decided_at_ms
                     FROM risk_holds h JOIN redemptions r ON r.id = h.redemption_id
                     WHERE r.campaign_id = $1 AND h.held_at_ms < $2 ORDER BY h.held_at_ms",
                )
                .bind(campaign.as_uuid())
                .bind(until.timestamp_millis())
                .fetch_all(pool)
                .await
                .map_err(err)?;
                rows.iter()
                    .map(|r| {
                        let outcome: Option<String> = get(r, "outcome")?;
                        let at_ms: Option<i64> = get(r, "decided_at_ms")?;
                        Ok(quan_store::HoldFact {
                            merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                            held: Fen::new(get(r, "held_fen")?),
                            amount: Fen::new(get(r, "amount_fen")?),
                            held_at: at(get(r, "held_at_ms")?),
                            decided: outcome.zip(at_ms.map(at)),
                        })
                    })
                    .collect()
            }

            pub(crate) async fn product_prices(pool: &Pool) -> Result<Vec<ProductPrices>, StoreError> {
                let rows = sqlx::query(
                    "SELECT p.id, p.merchant_id, p.sku, p.brand, p.model, pp.price_fen, pp.at_ms
                     FROM products p JOIN product_prices pp ON pp.product_id = p.id ORDER BY p.id, pp.at_ms",
                )
                .fetch_all(pool)
                .await
                .map_err(err)?;
                let mut out: Vec<(Uuid, ProductPrices)> = Vec::new();
                for r in &rows {
                    let id: Uuid = get(r, "id")?;
                    let point = (at(get(r, "at_ms")?), Fen::new(get(r, "price_fen")?));
                    match out.last_mut() {
                        Some((last, p)) if *last == id => p.history.push(point),
                        _ => out.push((
                            id,
                            ProductPrices {
                                merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                                sku: get(r, "sku")?,
                                brand: get(r, "brand")?,
                                model: get(r, "model")?,
                                history: vec![point],
                            },
                        )),
                    }
                }
                Ok(out.into_iter().map(|(_, p)| p).collect())
            }
        }
    };
}
