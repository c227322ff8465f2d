//! `ReportStore` in SQL, for `impl_report_store!`.

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
            use quan_domain::{BatchId, CampaignId};
            use quan_store::{
                Aggregate, DayPoint, GroupKey, Grouping, IssueSums, LiveFigures, RedemptionSums, RefundSums, ReportSnapshot,
                StoreError,
            };
            use sqlx::Row;

            use crate::account_sql::rows::get;

            type R = $row;

            fn err(e: sqlx::Error) -> StoreError {
                StoreError::other(e)
            }

            fn day_text(d: NaiveDate) -> String {
                d.format("%Y-%m-%d").to_string()
            }

            /// The key columns of a grouping (as `k_batch`, `k_industry`…) and
            /// whether the merchants table is needed.
            fn keys(g: Grouping) -> (&'static [(&'static str, &'static str)], bool) {
                match g {
                    Grouping::Total => (&[], false),
                    Grouping::Batch => (&[("r.batch_id", "k_batch")], false),
                    Grouping::Industry => (&[("m.industry", "k_industry")], true),
                    Grouping::District => (&[("m.district", "k_district")], true),
                    Grouping::Scale => (&[("m.scale", "k_scale")], true),
                    Grouping::Cell => (&[("r.batch_id", "k_batch"), ("m.industry", "k_industry"), ("m.district", "k_district")], true),
                }
            }

            fn select_keys(g: Grouping) -> (String, String) {
                let (ks, _) = keys(g);
                let select: String = ks.iter().map(|(e, a)| format!("{e} AS {a}, ")).collect();
                let group = if ks.is_empty() {
                    String::new()
                } else {
                    let cols = ks.iter().map(|(e, _)| *e).collect::<Vec<_>>().join(", ");
                    format!(" GROUP BY {cols} ORDER BY {cols}")
                };
                (select, group)
            }

            fn key(row: &R, g: Grouping) -> Result<GroupKey, StoreError> {
                let (ks, _) = keys(g);
                let mut k = GroupKey::default();
                for (_, alias) in ks {
                    match *alias {
                        "k_batch" => k.batch = Some(BatchId::from_uuid(get(row, "k_batch")?)),
                        "k_industry" => k.industry = Some(get(row, "k_industry")?),
                        "k_district" => k.district = Some(get(row, "k_district")?),
                        "k_scale" => k.scale = Some(get(row, "k_scale")?),
                        _ => {}
                    }
                }
                Ok(k)
            }

            fn n(row: &R, col: &str) -> Result<u64, StoreError> {
                Ok(u64::try_from(get::<i64>(row, col)?).unwrap_or(0))
            }

            fn fen(row: &R, col: &str) -> Result<i128, StoreError> {
                Ok(i128::from(get::<i64>(row, col)?))
            }

            /// `CAST(COALESCE(SUM(CASE WHEN <day> THEN <e> ELSE 0 END), 0) AS BIGINT) AS d_<a>, … AS c_<a>`.
            fn sums(day_cond: &str, cols: &[(&str, &str)]) -> String {
                cols.iter()
                    .map(|(e, a)| {
                        format!(
                            "CAST(COALESCE(SUM(CASE WHEN {day_cond} THEN {e} ELSE 0 END), 0) AS BIGINT) AS d_{a}, CAST(COALESCE(SUM({e}), 0) AS BIGINT) AS c_{a}"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }

            fn distinct(day_cond: &str, cols: &[(&str, &str)]) -> String {
                cols.iter()
                    .map(|(e, a)| {
                        format!("CAST(COUNT(DISTINCT CASE WHEN {day_cond} THEN {e} END) AS BIGINT) AS d_{a}, CAST(COUNT(DISTINCT {e}) AS BIGINT) AS c_{a}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }

            fn redemption_sums(row: &R, p: &str) -> Result<RedemptionSums, StoreError> {
                Ok(RedemptionSums {
                    redemptions: n(row, &format!("{p}_n"))?,
                    order_fen: fen(row, &format!("{p}_order"))?,
                    subsidy_fen: fen(row, &format!("{p}_subsidy"))?,
                    platform_match_fen: fen(row, &format!("{p}_pm"))?,
                    merchant_match_fen: fen(row, &format!("{p}_mm"))?,
                    redeemers: n(row, &format!("{p}_residents"))?,
                    merchants: n(row, &format!("{p}_merchants"))?,
                })
            }

            fn refund_sums(row: &R, p: &str) -> Result<RefundSums, StoreError> {
                Ok(RefundSums {
                    refunds: n(row, &format!("{p}_n"))?,
                    amount_fen: fen(row, &format!("{p}_amount"))?,
                    subsidy_returned_fen: fen(row, &format!("{p}_returned"))?,
                    vouchers_back: n(row, &format!("{p}_back"))?,
                })
            }

            #[async_trait::async_trait]
            impl quan_store::ReportStore for $store {
                async fn report_redemptions(&self, campaign: CampaignId, day: NaiveDate, g: Grouping) -> Result<Vec<Aggregate<RedemptionSums>>, StoreError> {
                    let (select, group) = select_keys(g);
                    let join = if keys(g).1 { " JOIN merchants m ON m.id = r.merchant_id" } else { "" };
                    let cond = "r.business_day = $2";
                    let sql = format!(
                        "SELECT {select}{}, {} FROM redemptions r{join} WHERE r.campaign_id = $1 AND r.business_day <= $2{group}",
                        sums(cond, &[("1", "n"), ("r.order_fen", "order"), ("r.discount_fen", "subsidy"), ("r.platform_match_fen", "pm"), ("r.merchant_match_fen", "mm")]),
                        distinct(cond, &[("r.resident_id", "residents"), ("r.merchant_id", "merchants")]),
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(campaign.as_uuid())
                        .bind(day_text(day))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| Ok(Aggregate { key: key(r, g)?, day: redemption_sums(r, "d")?, cumulative: redemption_sums(r, "c")? }))
                        .collect()
                }

                async fn report_refunds(&self, campaign: CampaignId, day: NaiveDate, g: Grouping) -> Result<Vec<Aggregate<RefundSums>>, StoreError> {
                    let (select, group) = select_keys(g);
                    let join = if keys(g).1 { " JOIN merchants m ON m.id = r.merchant_id" } else { "" };
                    let cond = "f.business_day = $2";
                    let sql = format!(
                        "SELECT {select}{} FROM refunds f JOIN redemptions r ON r.id = f.redemption_id{join}
                         WHERE r.campaign_id = $1 AND f.business_day <= $2{group}",
                        sums(cond, &[("1", "n"), ("f.amount_fen", "amount"), ("f.subsidy_returned_fen", "returned"), ("f.voucher_back", "back")]),
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(campaign.as_uuid())
                        .bind(day_text(day))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| Ok(Aggregate { key: key(r, g)?, day: refund_sums(r, "d")?, cumulative: refund_sums(r, "c")? }))
                        .collect()
                }

                async fn report_issued(&self, campaign: CampaignId, from: DateTime<Utc>, to: DateTime<Utc>, by_batch: bool) -> Result<Vec<Aggregate<IssueSums>>, StoreError> {
                    let (select, group) = if by_batch { ("v.batch_id AS k_batch, ", " GROUP BY v.batch_id ORDER BY v.batch_id") } else { ("", "") };
                    let cond = "v.created_at_ms >= $2";
                    let sql = format!(
                        "SELECT {select}{}, {} FROM vouchers v WHERE v.campaign_id = $1 AND v.created_at_ms < $3{group}",
                        sums(cond, &[("1", "n"), ("v.face_fen", "face")]),
                        distinct(cond, &[("v.resident_id", "residents")]),
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(campaign.as_uuid())
                        .bind(from.timestamp_millis())
                        .bind(to.timestamp_millis())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    let sums = |r: &R, p: &str| -> Result<IssueSums, StoreError> {
                        Ok(IssueSums { vouchers: n(r, &format!("{p}_n"))?, face_fen: fen(r, &format!("{p}_face"))?, claimers: n(r, &format!("{p}_residents"))? })
                    };
                    rows.iter()
                        .map(|r| {
                            let key = if by_batch { GroupKey { batch: Some(BatchId::from_uuid(get(r, "k_batch")?)), ..GroupKey::default() } } else { GroupKey::default() };
                            Ok(Aggregate { key, day: sums(r, "d")?, cumulative: sums(r, "c")? })
                        })
                        .collect()
                }

                async fn report_trend(&self, campaign: CampaignId, day: NaiveDate) -> Result<Vec<DayPoint>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT business_day, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(order_fen), 0) AS BIGINT) AS orders,
                                CAST(COALESCE(SUM(discount_fen), 0) AS BIGINT) AS subsidy
                         FROM redemptions WHERE campaign_id = $1 AND business_day <= $2 GROUP BY business_day ORDER BY business_day",
                    )
                    .bind(campaign.as_uuid())
                    .bind(day_text(day))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let d: String = get(r, "business_day")?;
                            Ok(DayPoint {
                                day: NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| StoreError::message(format!("bad business day {d:?}: {e}")))?,
                                redemptions: n(r, "n")?,
                                order_fen: fen(r, "orders")?,
                                subsidy_fen: fen(r, "subsidy")?,
                            })
                        })
                        .collect()
                }

                async fn report_batch_trend(&self, campaign: CampaignId, day: NaiveDate) -> Result<Vec<(BatchId, DayPoint)>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT batch_id, business_day, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(order_fen), 0) AS BIGINT) AS orders,
                                CAST(COALESCE(SUM(discount_fen), 0) AS BIGINT) AS subsidy
                         FROM redemptions WHERE campaign_id = $1 AND business_day <= $2 GROUP BY batch_id, business_day",
                    )
                    .bind(campaign.as_uuid())
                    .bind(day_text(day))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    let mut out = rows
                        .iter()
                        .map(|r| {
                            let d: String = get(r, "business_day")?;
                            Ok((
                                BatchId::from_uuid(get(r, "batch_id")?),
                                DayPoint {
                                    day: NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| StoreError::message(format!("bad business day {d:?}: {e}")))?,
                                    redemptions: n(r, "n")?,
                                    order_fen: fen(r, "orders")?,
                                    subsidy_fen: fen(r, "subsidy")?,
                                },
                            ))
                        })
                        .collect::<Result<Vec<_>, StoreError>>()?;
                    // In Rust, so both backends order alike (no collation involved).
                    out.sort_by_key(|(b, p)| (*b, p.day));
                    Ok(out)
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

                async fn report_snapshot(&self, campaign: CampaignId, day: NaiveDate, kind: &str) -> Result<ReportSnapshot, StoreError> {
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
                    let days: Vec<String> = sqlx::query_scalar("SELECT business_day FROM report_snapshots WHERE campaign_id = $1 AND kind = $2 ORDER BY business_day")
                        .bind(campaign.as_uuid())
                        .bind(kind)
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    days.iter()
                        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| StoreError::message(format!("bad business day {d:?}: {e}"))))
                        .collect()
                }

                async fn live_figures(&self, campaign: CampaignId) -> Result<LiveFigures, StoreError> {
                    // Counts from the (campaign, state) index; stock and subsidy from running totals.
                    let states = sqlx::query("SELECT state, CAST(COUNT(*) AS BIGINT) AS n FROM vouchers WHERE campaign_id = $1 GROUP BY state")
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
                         WHERE a.campaign_id = $1 AND a.kind IN ('payable', 'held', 'paid', 'recoverable')
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
            }
        }
    };
}
