//! Risk cases in SQL: opened once per subject, worked with recorded
//! actions whose effects (settlement holds, frozen vouchers, the close)
//! commit with their record (for `impl_risk_case_store!`).

/// A case's columns as `risk_cases c` reads them, with what it keeps frozen.
pub const CASE_COLUMNS: &str = "c.id, c.number, c.kind, c.subject, c.source, c.district, c.campaign_id, c.score, c.summary,
     c.evidence, c.amount_fen, c.status, c.outcome, c.opened_at_ms, c.closed_at_ms,
     (SELECT CAST(COUNT(*) AS BIGINT) FROM voucher_freezes f WHERE f.source_id = c.id AND f.released_at_ms IS NULL) AS frozen_n,
     (SELECT CAST(COALESCE(SUM(f.face_fen), 0) AS BIGINT) FROM voucher_freezes f
      WHERE f.source_id = c.id AND f.released_at_ms IS NULL) AS frozen_fen";

/// A member kind read back, as the `'static` the record holds.
pub fn member_kind(s: &str) -> Result<&'static str, crate::StoreError> {
    ["merchant", "resident", "product"]
        .into_iter()
        .find(|k| *k == s)
        .ok_or_else(|| crate::StoreError::message(format!("unknown case member kind {s:?}")))
}

/// Implements `CaseStore` for `$store` (which has `fn pool(&self)`).
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_risk_case_store {
    ($store:ty, $row:ty) => {
        mod risk_case_store {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::{CampaignId, Fen, MerchantId, ResidentId};
            use quan_store::sql::risk_cases::{CASE_COLUMNS, member_kind};
            use quan_store::sql::{at, err, get, unique};
            use quan_store::{CaseAction, CaseEffect, CaseMember, EffectDone, NewCase, RiskCase, StoreError};
            use sqlx::Row;
            use uuid::Uuid;

            type R = $row;
            type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            fn case(row: &R) -> Result<RiskCase, StoreError> {
                Ok(RiskCase {
                    id: get(row, "id")?,
                    number: get(row, "number")?,
                    kind: get(row, "kind")?,
                    subject: get(row, "subject")?,
                    source: get(row, "source")?,
                    district: get(row, "district")?,
                    campaign: get::<_, Option<Uuid>>(row, "campaign_id")?.map(CampaignId::from_uuid),
                    score: get(row, "score")?,
                    summary: get(row, "summary")?,
                    evidence: get(row, "evidence")?,
                    amount: Fen::new(get(row, "amount_fen")?),
                    status: get(row, "status")?,
                    outcome: get(row, "outcome")?,
                    opened_at: at(get(row, "opened_at_ms")?),
                    closed_at: get::<_, Option<i64>>(row, "closed_at_ms")?.map(at),
                    members: Vec::new(),
                    actions: Vec::new(),
                    settlement_held: Vec::new(),
                    frozen_vouchers: u32::try_from(get::<_, i64>(row, "frozen_n")?).unwrap_or(u32::MAX),
                    frozen_fen: Fen::new(get(row, "frozen_fen")?),
                })
            }

            async fn next_seq(tx: &mut Tx<'_>, id: Uuid) -> Result<i64, StoreError> {
                sqlx::query_scalar(
                    "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM risk_case_actions WHERE case_id = $1",
                )
                .bind(id)
                .fetch_one(&mut **tx)
                .await
                .map_err(err)
            }

            async fn record(tx: &mut Tx<'_>, id: Uuid, a: &CaseAction, detail: &str) -> Result<(), StoreError> {
                let seq = next_seq(tx, id).await?;
                sqlx::query(
                    "INSERT INTO risk_case_actions (case_id, seq, action, by_user, at_ms, note, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(seq)
                .bind(&a.action)
                .bind(a.by.map(|u| u.as_uuid()))
                .bind(a.at.timestamp_millis())
                .bind(&a.note)
                .bind(detail)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(())
            }

            /// Holds each merchant's settlement under the case (once).
            async fn hold(
                tx: &mut Tx<'_>,
                id: Uuid,
                ms: &[MerchantId],
                a: &CaseAction,
            ) -> Result<EffectDone, StoreError> {
                let mut done = EffectDone::default();
                for m in ms {
                    let open: Option<i64> = sqlx::query_scalar(
                        "SELECT held_at_ms FROM settlement_holds WHERE merchant_id = $1 AND case_id = $2 AND released_at_ms IS NULL",
                    )
                    .bind(m.as_uuid())
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?;
                    if open.is_some() {
                        continue;
                    }
                    sqlx::query("INSERT INTO settlement_holds (merchant_id, case_id, held_by, held_at_ms) VALUES ($1, $2, $3, $4)")
                        .bind(m.as_uuid())
                        .bind(id)
                        .bind(a.by.map(|u| u.as_uuid()))
                        .bind(a.at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    done.merchants += 1;
                }
                Ok(done)
            }

            /// Freezes the residents' unused vouchers not frozen yet.
            async fn freeze(
                tx: &mut Tx<'_>,
                id: Uuid,
                rs: &[ResidentId],
                a: &CaseAction,
            ) -> Result<EffectDone, StoreError> {
                let mut done = EffectDone::default();
                let reason = quan_domain::redemption::FreezeReason::RiskCase.as_str();
                for r in rs {
                    let rows = sqlx::query(
                        "UPDATE vouchers SET frozen_at_ms = $2, frozen_reason = $3
                         WHERE resident_id = $1 AND state = 'claimed' AND frozen_at_ms IS NULL RETURNING id, face_fen",
                    )
                    .bind(r.as_uuid())
                    .bind(a.at.timestamp_millis())
                    .bind(reason)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(err)?;
                    for row in &rows {
                        let (v, face): (Uuid, i64) = (get(row, "id")?, get(row, "face_fen")?);
                        sqlx::query(
                            "INSERT INTO voucher_freezes (voucher_id, resident_id, face_fen, reason, source_id, frozen_by, frozen_at_ms)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(v)
                        .bind(r.as_uuid())
                        .bind(face)
                        .bind(reason)
                        .bind(id)
                        .bind(a.by.map(|u| u.as_uuid()).unwrap_or_default())
                        .bind(a.at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                        done.vouchers += 1;
                        done.fen = done
                            .fen
                            .checked_add(Fen::new(face))
                            .ok_or_else(|| StoreError::message("frozen face overflows"))?;
                    }
                }
                Ok(done)
            }

            /// Unfreezes what the case froze and is still frozen by it.
            async fn unfreeze(tx: &mut Tx<'_>, id: Uuid, a: &CaseAction) -> Result<EffectDone, StoreError> {
                let rows = sqlx::query(
                    "UPDATE voucher_freezes SET released_by = $2, released_at_ms = $3
                     WHERE source_id = $1 AND released_at_ms IS NULL RETURNING voucher_id, face_fen, frozen_at_ms",
                )
                .bind(id)
                .bind(a.by.map(|u| u.as_uuid()))
                .bind(a.at.timestamp_millis())
                .fetch_all(&mut **tx)
                .await
                .map_err(err)?;
                let mut done = EffectDone::default();
                for row in &rows {
                    let (v, face, frozen): (Uuid, i64, i64) =
                        (get(row, "voucher_id")?, get(row, "face_fen")?, get(row, "frozen_at_ms")?);
                    sqlx::query(
                        "UPDATE vouchers SET frozen_at_ms = NULL, frozen_reason = NULL
                         WHERE id = $1 AND frozen_reason = 'risk_case' AND frozen_at_ms = $2",
                    )
                    .bind(v)
                    .bind(frozen)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                    done.vouchers += 1;
                    done.fen = done
                        .fen
                        .checked_add(Fen::new(face))
                        .ok_or_else(|| StoreError::message("released face overflows"))?;
                }
                Ok(done)
            }

            async fn effect(
                tx: &mut Tx<'_>,
                id: Uuid,
                a: &CaseAction,
                e: &CaseEffect,
            ) -> Result<EffectDone, StoreError> {
                match e {
                    CaseEffect::Record => Ok(EffectDone::default()),
                    CaseEffect::HoldSettlement(ms) => hold(tx, id, ms, a).await,
                    CaseEffect::ReleaseSettlement => {
                        let n = sqlx::query(
                            "UPDATE settlement_holds SET released_by = $2, released_at_ms = $3 WHERE case_id = $1 AND released_at_ms IS NULL",
                        )
                        .bind(id)
                        .bind(a.by.map(|u| u.as_uuid()))
                        .bind(a.at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                        Ok(EffectDone {
                            merchants: u32::try_from(n.rows_affected()).unwrap_or(u32::MAX),
                            ..EffectDone::default()
                        })
                    }
                    CaseEffect::FreezeVouchers(rs) => freeze(tx, id, rs, a).await,
                    CaseEffect::ReleaseVouchers => unfreeze(tx, id, a).await,
                    CaseEffect::Close(outcome) => {
                        sqlx::query(
                            "UPDATE risk_cases SET status = 'closed', outcome = $2, closed_at_ms = $3, closed_by = $4 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(*outcome)
                        .bind(a.at.timestamp_millis())
                        .bind(a.by.map(|u| u.as_uuid()))
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                        Ok(EffectDone::default())
                    }
                }
            }

            async fn insert(tx: &mut Tx<'_>, c: &NewCase) -> Result<(), StoreError> {
                let number: i64 =
                    sqlx::query_scalar("SELECT CAST(COALESCE(MAX(number), 0) + 1 AS BIGINT) FROM risk_cases")
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(err)?;
                sqlx::query(
                    "INSERT INTO risk_cases (id, number, kind, subject, source, district, campaign_id, score, summary, evidence,
                                             amount_fen, status, opened_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12)",
                )
                .bind(c.id)
                .bind(number)
                .bind(c.kind)
                .bind(&c.subject)
                .bind(&c.source)
                .bind(&c.district)
                .bind(c.campaign.map(|x| x.as_uuid()))
                .bind(c.score)
                .bind(&c.summary)
                .bind(&c.evidence)
                .bind(c.amount.as_i64())
                .bind(c.at.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(unique("case_subject"))?;
                add_members(tx, c.id, &c.members).await?;
                Ok(())
            }

            /// Adds the members the case does not name yet; those added.
            async fn add_members(
                tx: &mut Tx<'_>,
                id: Uuid,
                members: &[CaseMember],
            ) -> Result<Vec<CaseMember>, StoreError> {
                let mut added = Vec::new();
                for m in members {
                    let n = sqlx::query("INSERT INTO risk_case_members (case_id, member_kind, member_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(m.kind)
                        .bind(&m.id)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    if n.rows_affected() == 1 {
                        added.push(m.clone());
                    }
                }
                Ok(added)
            }

            #[async_trait::async_trait]
            impl quan_store::CaseStore for $store {
                async fn open_case(&self, c: &NewCase) -> Result<(Uuid, Vec<CaseMember>), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let open: Option<Uuid> =
                        sqlx::query_scalar("SELECT id FROM risk_cases WHERE subject = $1 AND status = 'open'")
                            .bind(&c.subject)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(err)?;
                    let a = CaseAction {
                        seq: 0,
                        action: String::new(),
                        by: None,
                        at: c.at,
                        note: String::new(),
                        detail: String::new(),
                    };
                    let (id, opened) = match open {
                        Some(id) => {
                            sqlx::query("UPDATE risk_cases SET score = $2, summary = $3, evidence = $4, amount_fen = $5 WHERE id = $1")
                                .bind(id)
                                .bind(c.score)
                                .bind(&c.summary)
                                .bind(&c.evidence)
                                .bind(c.amount.as_i64())
                                .execute(&mut *tx)
                                .await
                                .map_err(err)?;
                            let added = add_members(&mut tx, id, &c.members).await?;
                            let detail = serde_json::json!({"summary": c.summary, "added": added.iter().map(|m| format!("{}:{}", m.kind, m.id)).collect::<Vec<_>>()});
                            record(&mut tx, id, &CaseAction { action: "found_again".into(), ..a }, &detail.to_string())
                                .await?;
                            (id, added)
                        }
                        None => {
                            insert(&mut tx, c).await?;
                            record(
                                &mut tx,
                                c.id,
                                &CaseAction { action: "opened".into(), ..a },
                                &serde_json::json!({"summary": c.summary}).to_string(),
                            )
                            .await?;
                            (c.id, c.members.clone())
                        }
                    };
                    tx.commit().await.map_err(err)?;
                    Ok((id, opened))
                }

                async fn risk_cases(&self, open_only: bool, limit: u32) -> Result<Vec<RiskCase>, StoreError> {
                    let filter = if open_only { "WHERE c.status = 'open'" } else { "" };
                    let sql =
                        format!("SELECT {CASE_COLUMNS} FROM risk_cases c {filter} ORDER BY c.number DESC LIMIT $1");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    let mut out: Vec<RiskCase> = rows.iter().map(case).collect::<Result<_, _>>()?;
                    let held =
                        sqlx::query("SELECT merchant_id, case_id FROM settlement_holds WHERE released_at_ms IS NULL")
                            .fetch_all(self.pool())
                            .await
                            .map_err(err)?;
                    for row in &held {
                        let (m, c): (Uuid, Uuid) = (get(row, "merchant_id")?, get(row, "case_id")?);
                        if let Some(x) = out.iter_mut().find(|x| x.id == c) {
                            x.settlement_held.push(MerchantId::from_uuid(m));
                        }
                    }
                    Ok(out)
                }

                async fn risk_case(&self, id: Uuid) -> Result<RiskCase, StoreError> {
                    let sql = format!("SELECT {CASE_COLUMNS} FROM risk_cases c WHERE c.id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(err)?;
                    let mut c = case(&row.ok_or(StoreError::NotFound)?)?;
                    let members = sqlx::query("SELECT member_kind, member_id FROM risk_case_members WHERE case_id = $1 ORDER BY member_kind, member_id")
                        .bind(id)
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    for r in &members {
                        c.members.push(CaseMember {
                            kind: member_kind(&get::<_, String>(r, "member_kind")?)?,
                            id: get(r, "member_id")?,
                        });
                    }
                    let actions = sqlx::query("SELECT seq, action, by_user, at_ms, note, detail FROM risk_case_actions WHERE case_id = $1 ORDER BY seq")
                        .bind(id)
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    for r in &actions {
                        c.actions.push(CaseAction {
                            seq: get(r, "seq")?,
                            action: get(r, "action")?,
                            by: get::<_, Option<Uuid>>(r, "by_user")?.map(quan_domain::UserId::from_uuid),
                            at: at(get(r, "at_ms")?),
                            note: get(r, "note")?,
                            detail: get(r, "detail")?,
                        });
                    }
                    let held: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT merchant_id FROM settlement_holds WHERE case_id = $1 AND released_at_ms IS NULL",
                    )
                    .bind(id)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    c.settlement_held = held.into_iter().map(MerchantId::from_uuid).collect();
                    Ok(c)
                }

                async fn act_on_case(
                    &self,
                    id: Uuid,
                    a: &CaseAction,
                    e: &CaseEffect,
                ) -> Result<EffectDone, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let status: Option<String> = sqlx::query_scalar("SELECT status FROM risk_cases WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    match status.as_deref() {
                        None => return Err(StoreError::NotFound),
                        Some("open") => {}
                        Some(_) => return Err(StoreError::Conflict { what: "case_closed" }),
                    }
                    let done = effect(&mut tx, id, a, e).await?;
                    let detail = if a.detail.is_empty() {
                        format!(
                            r#"{{"merchants":{},"vouchers":{},"fen":{}}}"#,
                            done.merchants,
                            done.vouchers,
                            done.fen.as_i64()
                        )
                    } else {
                        a.detail.clone()
                    };
                    record(&mut tx, id, a, &detail).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(done)
                }

                async fn settlement_holds(&self) -> Result<Vec<MerchantId>, StoreError> {
                    let ids: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT DISTINCT merchant_id FROM settlement_holds WHERE released_at_ms IS NULL",
                    )
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(ids.into_iter().map(MerchantId::from_uuid).collect())
                }

                async fn redemption_facts(
                    &self,
                    campaign: CampaignId,
                    from: DateTime<Utc>,
                    until: DateTime<Utc>,
                ) -> Result<Vec<quan_store::RedemptionFact>, StoreError> {
                    crate::risk_fact_sql::redemption_facts(self.pool(), campaign, from, until).await
                }

                async fn claim_facts(
                    &self,
                    campaign: CampaignId,
                    aged_before: DateTime<Utc>,
                ) -> Result<Vec<quan_store::ClaimFact>, StoreError> {
                    crate::risk_fact_sql::claim_facts(self.pool(), campaign, aged_before).await
                }

                async fn product_prices(&self) -> Result<Vec<quan_store::ProductPrices>, StoreError> {
                    crate::risk_fact_sql::product_prices(self.pool()).await
                }

                async fn hold_facts(
                    &self,
                    campaign: CampaignId,
                    until: DateTime<Utc>,
                ) -> Result<Vec<quan_store::HoldFact>, StoreError> {
                    crate::risk_fact_sql::hold_facts(self.pool(), campaign, until).await
                }
            }
        }
    };
}
