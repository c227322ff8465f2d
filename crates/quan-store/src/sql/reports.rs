//! `ReportStore` in SQL, for `impl_report_store!`.

/// The earlier vouchers of the residents who claimed on a day (`$1` the
/// campaign, `$2`..`$3` the day's instants in ms). Only the resident may
/// lead SQLite, which has no statistics, to the history rows: the time bound
/// is written so that no index serves it (`+ 0`), and so is the campaign
/// (`COALESCE`), else SQLite reads every voucher of the campaign for each of
/// the day's (90 000² rows: the demo's T+1 report timed out once the
/// resident's index also held the batch slot).
pub const VOUCHER_HISTORY: &str = "SELECT h.batch_id, h.resident_id, h.kind_code, h.claim_district
     FROM vouchers d CROSS JOIN vouchers h
     WHERE d.campaign_id = $1 AND d.created_at_ms >= $2 AND d.created_at_ms < $3
       AND h.resident_id = d.resident_id AND COALESCE(h.campaign_id, h.campaign_id) = $1 AND h.created_at_ms + 0 < $2";

/// Implements `ReportStore` for `$store` (which has `fn pool(&self)`), whose
/// rows are `$row`.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_report_store {
    ($store:ty, $row:ty) => {
        mod report_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, NaiveDate, Utc};
            use quan_domain::{BatchId, CampaignId, MerchantId, ResidentId};
            use quan_store::{LiveFigures, ReportDay, ReportSnapshot, StoreError};
            use sqlx::Row;

            use quan_store::sql::get;

            type R = $row;

            use quan_store::sql::err;

            fn day_text(d: NaiveDate) -> String {
                d.format("%Y-%m-%d").to_string()
            }

            fn n(row: &R, col: &str) -> Result<u64, StoreError> {
                Ok(u64::try_from(get::<_, i64>(row, col)?).unwrap_or(0))
            }

            fn fen(row: &R, col: &str) -> Result<i128, StoreError> {
                Ok(i128::from(get::<_, i64>(row, col)?))
            }

            /// The earlier redemptions and vouchers of the day's residents: who
            /// redeemed, or claimed, for the first time.
            async fn history(
                pool: &sqlx::Pool<<R as Row>::Database>,
                c: uuid::Uuid,
                d: &str,
                (f, t): (i64, i64),
                out: &mut ReportDay,
            ) -> Result<(), StoreError> {
                let rows = sqlx::query(
                    // Driven from the day's residents (CROSS JOIN keeps that order in
                    // SQLite), each looked up by the resident index: a day
                    // costs its own residents, not the campaign's history.
                    // (No DISTINCT: it tempts SQLite into reading the history in resident
                    // order; a resident twice that day gives duplicate rows, which the fold
                    // ignores. The history's time bound is written so that no index can
                    // serve it (`substr`, `+ 0`): otherwise SQLite, without statistics,
                    // reads every earlier row of the campaign for each of the day's rows.)
                    "SELECT h.batch_id, h.merchant_id, h.resident_id
                 FROM redemptions d CROSS JOIN redemptions h
                 WHERE d.campaign_id = $1 AND d.business_day = $2
                   AND h.resident_id = d.resident_id AND h.campaign_id = $1 AND substr(h.business_day, 1, 10) < $2",
                )
                .bind(c)
                .bind(d)
                .fetch_all(pool)
                .await
                .map_err(err)?;
                for r in &rows {
                    out.redemption_history.push(quan_store::EarlierRedemption {
                        batch: BatchId::from_uuid(get(r, "batch_id")?),
                        merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                        resident: ResidentId::from_uuid(get(r, "resident_id")?),
                    });
                }
                let rows = sqlx::query(quan_store::sql::reports::VOUCHER_HISTORY)
                    .bind(c)
                    .bind(f)
                    .bind(t)
                    .fetch_all(pool)
                    .await
                    .map_err(err)?;
                for r in &rows {
                    out.voucher_history.push(quan_store::EarlierVoucher {
                        batch: BatchId::from_uuid(get(r, "batch_id")?),
                        resident: ResidentId::from_uuid(get(r, "resident_id")?),
                        kind_code: get(r, "kind_code")?,
                        claim_district: get(r, "claim_district")?,
                    });
                }
                Ok(())
            }

            #[async_trait::async_trait]
            impl quan_store::ReportStore for $store {
                async fn report_day(
                    &self,
                    campaign: CampaignId,
                    day: NaiveDate,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<ReportDay, StoreError> {
                    let c = campaign.as_uuid();
                    let d = day_text(day);
                    let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
                    let mut out = ReportDay::default();
                    let rows = sqlx::query(
                        "SELECT batch_id, merchant_id, resident_id, order_fen, discount_fen, platform_match_fen, merchant_match_fen
                         FROM redemptions WHERE campaign_id = $1 AND business_day = $2",
                    )
                    .bind(c)
                    .bind(&d)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    for r in &rows {
                        out.redemptions.push(quan_store::DayRedemption {
                            batch: BatchId::from_uuid(get(r, "batch_id")?),
                            merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                            resident: ResidentId::from_uuid(get(r, "resident_id")?),
                            order_fen: get(r, "order_fen")?,
                            discount_fen: get(r, "discount_fen")?,
                            platform_match_fen: get(r, "platform_match_fen")?,
                            merchant_match_fen: get(r, "merchant_match_fen")?,
                        });
                    }
                    let rows = sqlx::query(
                        "SELECT r.batch_id, r.merchant_id, f.amount_fen, f.subsidy_returned_fen, f.voucher_back
                         FROM refunds f JOIN redemptions r ON r.id = f.redemption_id
                         WHERE f.business_day = $2 AND r.campaign_id = $1",
                    )
                    .bind(c)
                    .bind(&d)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    for r in &rows {
                        out.refunds.push(quan_store::DayRefund {
                            batch: BatchId::from_uuid(get(r, "batch_id")?),
                            merchant: MerchantId::from_uuid(get(r, "merchant_id")?),
                            amount_fen: get(r, "amount_fen")?,
                            subsidy_returned_fen: get(r, "subsidy_returned_fen")?,
                            voucher_back: get::<_, i64>(r, "voucher_back")? == 1,
                        });
                    }
                    let rows = sqlx::query(
                        "SELECT batch_id, resident_id, face_fen, kind_code, claim_district FROM vouchers WHERE campaign_id = $1 AND created_at_ms >= $2 AND created_at_ms < $3",
                    )
                    .bind(c)
                    .bind(f)
                    .bind(t)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    for r in &rows {
                        out.vouchers.push(quan_store::DayVoucher {
                            batch: BatchId::from_uuid(get(r, "batch_id")?),
                            resident: ResidentId::from_uuid(get(r, "resident_id")?),
                            face_fen: get(r, "face_fen")?,
                            kind_code: get(r, "kind_code")?,
                            claim_district: get(r, "claim_district")?,
                        });
                    }
                    history(self.pool(), c, &d, (f, t), &mut out).await?;
                    Ok(out)
                }

                async fn merchant_attributes(&self) -> Result<Vec<(MerchantId, String, String, String)>, StoreError> {
                    let rows = sqlx::query("SELECT id, industry, district, scale FROM merchants")
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok((
                                MerchantId::from_uuid(get(r, "id")?),
                                get(r, "industry")?,
                                get(r, "district")?,
                                get(r, "scale")?,
                            ))
                        })
                        .collect()
                }

                async fn save_report(&self, s: &ReportSnapshot) -> Result<ReportSnapshot, StoreError> {
                    sqlx::query(
                        "INSERT INTO report_snapshots (campaign_id, business_day, kind, content, sha256, built_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (campaign_id, business_day, kind) DO NOTHING",
                    )
                    .bind(s.campaign_id.as_uuid())
                    .bind(day_text(s.business_day))
                    .bind(&s.kind)
                    .bind(&s.content)
                    .bind(&s.sha256)
                    .bind(s.built_at.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    self.report_snapshot(s.campaign_id, s.business_day, &s.kind).await
                }

                async fn report_snapshot(
                    &self,
                    campaign: CampaignId,
                    day: NaiveDate,
                    kind: &str,
                ) -> Result<ReportSnapshot, StoreError> {
                    let row = sqlx::query(
                        "SELECT content, sha256, built_at_ms FROM report_snapshots WHERE campaign_id = $1 AND business_day = $2 AND kind = $3",
                    )
                    .bind(campaign.as_uuid())
                    .bind(day_text(day))
                    .bind(kind)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                    Ok(ReportSnapshot {
                        campaign_id: campaign,
                        business_day: day,
                        kind: kind.to_owned(),
                        content: get(&row, "content")?,
                        sha256: get(&row, "sha256")?,
                        built_at: DateTime::from_timestamp_millis(get(&row, "built_at_ms")?).unwrap_or_default(),
                    })
                }

                async fn report_days(&self, campaign: CampaignId, kind: &str) -> Result<Vec<NaiveDate>, StoreError> {
                    let days: Vec<String> = sqlx::query_scalar(
                        "SELECT business_day FROM report_snapshots WHERE campaign_id = $1 AND kind = $2 ORDER BY business_day",
                    )
                    .bind(campaign.as_uuid())
                    .bind(kind)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    days.iter()
                        .map(|d| {
                            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                                .map_err(|e| StoreError::message(format!("bad business day {d:?}: {e}")))
                        })
                        .collect()
                }

                async fn live_figures(&self, campaign: CampaignId) -> Result<LiveFigures, StoreError> {
                    // Counts from the (campaign, state) index; stock and subsidy from running totals.
                    let states = sqlx::query(
                        "SELECT state, CAST(COUNT(*) AS BIGINT) AS n FROM vouchers WHERE campaign_id = $1 GROUP BY state",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let mut f = LiveFigures::default();
                    for r in &states {
                        let state: String = get(r, "state")?;
                        let count = n(r, "n")?;
                        f.claimed += count;
                        if state == "redeemed" {
                            f.redeemed = count;
                        }
                    }
                    let left: i64 = sqlx::query_scalar(
                        "SELECT CAST(COALESCE(SUM(s.remaining), 0) AS BIGINT) FROM batch_stock s JOIN batches b ON b.id = s.batch_id WHERE b.campaign_id = $1",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    f.stock = f.claimed + u64::try_from(left).unwrap_or(0);
                    let rows = sqlx::query(
                        "SELECT m.district, CAST(SUM(a.credits_fen - a.debits_fen) AS BIGINT) AS subsidy
                         FROM ledger_accounts a JOIN merchants m ON m.id = a.merchant_id
                         WHERE a.campaign_id = $1 AND a.kind IN ('payable', 'held', 'risk_held', 'paid', 'recoverable')
                         GROUP BY m.district ORDER BY m.district",
                    )
                    .bind(campaign.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    for r in &rows {
                        let s = fen(r, "subsidy")?;
                        f.subsidy_fen += s;
                        f.subsidy_by_district.push((get(r, "district")?, s));
                    }
                    Ok(f)
                }

                async fn put_grab_seconds(&self, rows: &[quan_store::GrabSecond]) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    for g in rows {
                        let latency = g.latency.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                        sqlx::query(
                            "INSERT INTO grab_seconds (batch_id, second, node, claimed, sold_out, limit_reached, not_eligible, busy, other, latency)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                             ON CONFLICT (batch_id, second, node) DO UPDATE SET claimed = excluded.claimed,
                                 sold_out = excluded.sold_out, limit_reached = excluded.limit_reached,
                                 not_eligible = excluded.not_eligible, busy = excluded.busy, other = excluded.other,
                                 latency = excluded.latency",
                        )
                        .bind(g.batch.as_uuid())
                        .bind(g.second)
                        .bind(g.node)
                        .bind(g.answers[0])
                        .bind(g.answers[1])
                        .bind(g.answers[2])
                        .bind(g.answers[3])
                        .bind(g.answers[4])
                        .bind(g.answers[5])
                        .bind(latency)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn grab_seconds(
                    &self,
                    batch: quan_domain::BatchId,
                    since: i64,
                ) -> Result<Vec<quan_store::GrabSecond>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT second, node, claimed, sold_out, limit_reached, not_eligible, busy, other, latency
                         FROM grab_seconds WHERE batch_id = $1 AND second >= $2 ORDER BY second, node",
                    )
                    .bind(batch.as_uuid())
                    .bind(since)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let text: String = get(r, "latency")?;
                            let latency = text
                                .split(',')
                                .filter(|p| !p.is_empty())
                                .map(|p| {
                                    p.parse::<i64>().map_err(|e| StoreError::message(format!("latency `{text}`: {e}")))
                                })
                                .collect::<Result<Vec<_>, _>>()?;
                            Ok(quan_store::GrabSecond {
                                batch,
                                second: get(r, "second")?,
                                node: get(r, "node")?,
                                answers: [
                                    get(r, "claimed")?,
                                    get(r, "sold_out")?,
                                    get(r, "limit_reached")?,
                                    get(r, "not_eligible")?,
                                    get(r, "busy")?,
                                    get(r, "other")?,
                                ],
                                latency,
                            })
                        })
                        .collect()
                }
            }
        }
    };
}
