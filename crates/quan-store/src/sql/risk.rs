//! `RiskStore` in SQL, for `impl_risk_store!`.

/// The columns of a pause, in the order `pause()` reads them.
pub const PAUSE_COLS: &str = "id, target_kind, target_id, stops, reason, by_user, by_name, at_ms, resumed_by,
    resumed_by_name, resumed_at_ms, resume_reason";

/// Implements `RiskStore` for `$store` (which has `fn pool(&self)`), whose
/// rows are `$row`. Needs `impl_freeze_sql!` expanded in the same crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_risk_store {
    ($store:ty, $row:ty) => {
        mod risk_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::{BatchId, ResidentId, UserId};
            use quan_store::sql::risk::PAUSE_COLS;
            use quan_store::sql::{at, err, get, unique};
            use quan_store::{AdmissionEntry, IdentityConflict, PauseRecord, Resumption, RiskSignal, StoreError};
            use uuid::Uuid;

            type R = $row;

            fn ms(t: DateTime<Utc>) -> i64 {
                t.timestamp_millis()
            }

            fn entry(row: &R) -> Result<AdmissionEntry, StoreError> {
                Ok(AdmissionEntry {
                    batch_id: BatchId::from_uuid(get(row, "batch_id")?),
                    draw_id: get(row, "draw_id")?,
                    rank: u32::try_from(get::<_, i64>(row, "rank")?).map_err(StoreError::other)?,
                    resident_id: ResidentId::from_uuid(get(row, "resident_id")?),
                    kind_code: get(row, "kind_code")?,
                    in_window: get::<_, i64>(row, "in_window")? != 0,
                    outcome: get(row, "outcome")?,
                    at: at(get(row, "at_ms")?),
                })
            }

            fn pause(row: &R) -> Result<PauseRecord, StoreError> {
                let resumed_at: Option<i64> = get(row, "resumed_at_ms")?;
                let resumed = match (resumed_at, get::<_, Option<Uuid>>(row, "resumed_by")?) {
                    (Some(t), Some(by)) => Some(Resumption {
                        by: UserId::from_uuid(by),
                        by_name: get::<_, Option<String>>(row, "resumed_by_name")?.unwrap_or_default(),
                        at: at(t),
                        reason: get::<_, Option<String>>(row, "resume_reason")?.unwrap_or_default(),
                    }),
                    _ => None,
                };
                Ok(PauseRecord {
                    id: get(row, "id")?,
                    target_kind: get(row, "target_kind")?,
                    target_id: get(row, "target_id")?,
                    stops: get(row, "stops")?,
                    reason: get(row, "reason")?,
                    by: UserId::from_uuid(get(row, "by_user")?),
                    by_name: get(row, "by_name")?,
                    at: at(get(row, "at_ms")?),
                    resumed,
                })
            }

            const CONFLICT_COLS: &str =
                "id, id_hash, id_masked, holder, other, opened_at_ms, resolved_by, resolved_at_ms, note, frozen_vouchers,
                 frozen_fen, slots_released";

            fn conflict(row: &R) -> Result<IdentityConflict, StoreError> {
                let hash: Vec<u8> = get(row, "id_hash")?;
                let resolved = match (
                    get::<_, Option<Uuid>>(row, "resolved_by")?,
                    get::<_, Option<i64>>(row, "resolved_at_ms")?,
                ) {
                    (Some(by), Some(t)) => {
                        Some((UserId::from_uuid(by), at(t), get::<_, Option<String>>(row, "note")?.unwrap_or_default()))
                    }
                    _ => None,
                };
                Ok(IdentityConflict {
                    id: get(row, "id")?,
                    id_hash: quan_domain::KeyedHash::from_slice(&hash)
                        .ok_or_else(|| StoreError::message("stored id_hash is not 32 bytes"))?,
                    id_masked: get(row, "id_masked")?,
                    holder: ResidentId::from_uuid(get(row, "holder")?),
                    other: ResidentId::from_uuid(get(row, "other")?),
                    opened_at: at(get(row, "opened_at_ms")?),
                    resolved,
                    outcome: quan_store::ConflictOutcome {
                        frozen_vouchers: u32::try_from(get::<_, i64>(row, "frozen_vouchers")?).unwrap_or(0),
                        frozen_fen: quan_domain::Fen::new(get(row, "frozen_fen")?),
                        slots_released: u32::try_from(get::<_, i64>(row, "slots_released")?).unwrap_or(0),
                    },
                })
            }

            #[async_trait::async_trait]
            impl quan_store::RiskStore for $store {
                async fn mark_real_name_checked(
                    &self,
                    resident: ResidentId,
                    id_hash: &quan_domain::KeyedHash,
                    t: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let done = sqlx::query(
                        "UPDATE resident_identities SET real_name_at_ms = $3, verified_at_ms = $3
                         WHERE resident_id = $1 AND id_hash = $2",
                    )
                    .bind(resident.as_uuid())
                    .bind(&id_hash.as_bytes()[..])
                    .bind(ms(t))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::NotFound) }
                }

                async fn residents_with_id(
                    &self,
                    id_hash: &quan_domain::KeyedHash,
                ) -> Result<Vec<ResidentId>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT resident_id FROM resident_identities WHERE id_hash = $1 ORDER BY resident_id",
                    )
                    .bind(&id_hash.as_bytes()[..])
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(|r| Ok(ResidentId::from_uuid(get(r, "resident_id")?))).collect()
                }

                async fn open_identity_conflict(&self, c: &IdentityConflict) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO identity_conflicts (id, id_hash, id_masked, holder, other, opened_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (holder, other) DO NOTHING",
                    )
                    .bind(c.id)
                    .bind(&c.id_hash.as_bytes()[..])
                    .bind(&c.id_masked)
                    .bind(c.holder.as_uuid())
                    .bind(c.other.as_uuid())
                    .bind(ms(c.opened_at))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                async fn identity_conflicts(&self, open_only: bool) -> Result<Vec<IdentityConflict>, StoreError> {
                    let filter = if open_only { "WHERE resolved_at_ms IS NULL" } else { "" };
                    let sql = format!(
                        "SELECT {CONFLICT_COLS} FROM identity_conflicts {filter} ORDER BY opened_at_ms DESC, id LIMIT 500"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await.map_err(err)?;
                    rows.iter().map(conflict).collect()
                }

                async fn conflicts_resolved_since(
                    &self,
                    since: DateTime<Utc>,
                ) -> Result<Vec<IdentityConflict>, StoreError> {
                    let sql = format!(
                        "SELECT {CONFLICT_COLS} FROM identity_conflicts WHERE resolved_at_ms >= $1 ORDER BY resolved_at_ms, id"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(since.timestamp_millis().max(0))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(conflict).collect()
                }

                async fn resolve_identity_conflict(
                    &self,
                    id: Uuid,
                    by: UserId,
                    t: DateTime<Utc>,
                    note: &str,
                ) -> Result<IdentityConflict, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let sql = format!("SELECT {CONFLICT_COLS} FROM identity_conflicts WHERE id = $1");
                    let c = conflict(
                        &sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *tx).await.map_err(err)?,
                    )?;
                    let done = sqlx::query(
                        "UPDATE identity_conflicts SET resolved_by = $2, resolved_at_ms = $3, note = $4
                         WHERE id = $1 AND resolved_at_ms IS NULL",
                    )
                    .bind(id)
                    .bind(by.as_uuid())
                    .bind(ms(t))
                    .bind(note)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict { what: "resolved" });
                    }
                    sqlx::query("DELETE FROM resident_identities WHERE resident_id = $1 AND id_hash = $2")
                        .bind(c.other.as_uuid())
                        .bind(&c.id_hash.as_bytes()[..])
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    let freeze = crate::freeze_sql::Freeze {
                        source: id,
                        reason: quan_domain::redemption::FreezeReason::IdentityConflict,
                        by,
                        at: t,
                    };
                    let outcome = crate::freeze_sql::freeze_claims_under(&mut tx, c.other, &c.id_hash, &freeze).await?;
                    sqlx::query(
                        "UPDATE identity_conflicts SET frozen_vouchers = $2, frozen_fen = $3, slots_released = $4 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(i64::from(outcome.frozen_vouchers))
                    .bind(outcome.frozen_fen.as_i64())
                    .bind(i64::from(outcome.slots_released))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    tx.commit().await.map_err(err)?;
                    Ok(IdentityConflict { resolved: Some((by, t, note.to_owned())), outcome, ..c })
                }

                async fn put_admission_entries(&self, entries: &[AdmissionEntry]) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    for e in entries {
                        sqlx::query(
                            "INSERT INTO admission_entries (batch_id, draw_id, rank, resident_id, kind_code, in_window, outcome, at_ms)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                             ON CONFLICT (batch_id, draw_id, rank) DO UPDATE SET resident_id = excluded.resident_id,
                                 kind_code = excluded.kind_code, in_window = excluded.in_window,
                                 outcome = excluded.outcome, at_ms = excluded.at_ms",
                        )
                        .bind(e.batch_id.as_uuid())
                        .bind(e.draw_id)
                        .bind(i64::from(e.rank))
                        .bind(e.resident_id.as_uuid())
                        .bind(&e.kind_code)
                        .bind(i64::from(e.in_window))
                        .bind(&e.outcome)
                        .bind(ms(e.at))
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn admission_entries(&self, batch: BatchId) -> Result<Vec<AdmissionEntry>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT batch_id, draw_id, rank, resident_id, kind_code, in_window, outcome, at_ms
                         FROM admission_entries WHERE batch_id = $1 ORDER BY at_ms, draw_id, rank",
                    )
                    .bind(batch.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(entry).collect()
                }

                async fn insert_pause(
                    &self,
                    p: &PauseRecord,
                    events: &[quan_store::NewEvent],
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    sqlx::query(
                        "INSERT INTO pauses (id, target_kind, target_id, stops, reason, by_user, by_name, at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(p.id)
                    .bind(&p.target_kind)
                    .bind(&p.target_id)
                    .bind(&p.stops)
                    .bind(&p.reason)
                    .bind(p.by.as_uuid())
                    .bind(&p.by_name)
                    .bind(ms(p.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(unique("pause"))?;
                    for e in events {
                        crate::webhook_sql::insert_in_tx(&mut tx, e).await?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn resume_pause(
                    &self,
                    id: Uuid,
                    r: &Resumption,
                    events: &[quan_store::NewEvent],
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let done = sqlx::query(
                        "UPDATE pauses SET resumed_by = $2, resumed_by_name = $3, resumed_at_ms = $4, resume_reason = $5
                         WHERE id = $1 AND resumed_at_ms IS NULL",
                    )
                    .bind(id)
                    .bind(r.by.as_uuid())
                    .bind(&r.by_name)
                    .bind(ms(r.at))
                    .bind(&r.reason)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    if done.rows_affected() == 1 {
                        for e in events {
                            crate::webhook_sql::insert_in_tx(&mut tx, e).await?;
                        }
                        return tx.commit().await.map_err(err);
                    }
                    drop(tx);
                    self.pause_by_id(id).await?;
                    Err(StoreError::Conflict { what: "resumed" })
                }

                async fn pause_by_id(&self, id: Uuid) -> Result<PauseRecord, StoreError> {
                    let sql = format!("SELECT {PAUSE_COLS} FROM pauses WHERE id = $1");
                    let row =
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(self.pool()).await.map_err(err)?;
                    pause(&row)
                }

                async fn active_pauses(&self) -> Result<Vec<PauseRecord>, StoreError> {
                    let sql = format!("SELECT {PAUSE_COLS} FROM pauses WHERE resumed_at_ms IS NULL ORDER BY at_ms, id");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await.map_err(err)?;
                    rows.iter().map(pause).collect()
                }

                async fn put_risk_signals(&self, rows: &[RiskSignal]) -> Result<(), StoreError> {
                    // A hundred rows a statement: a grab's leads arrive by the thousand.
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    for chunk in rows.chunks(100) {
                        let values: Vec<String> = (0..chunk.len())
                            .map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4))
                            .collect();
                        let sql = format!(
                            "INSERT INTO risk_signals (batch_id, resident_id, signal, at_ms) VALUES {}
                             ON CONFLICT (batch_id, resident_id, signal) DO NOTHING",
                            values.join(", ")
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for r in chunk {
                            q = q
                                .bind(r.batch_id.as_uuid())
                                .bind(r.resident_id.as_uuid())
                                .bind(&r.signal)
                                .bind(ms(r.at));
                        }
                        q.execute(&mut *tx).await.map_err(err)?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn risk_signals(&self, batch: BatchId) -> Result<Vec<RiskSignal>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT batch_id, resident_id, signal, at_ms FROM risk_signals WHERE batch_id = $1
                         ORDER BY resident_id, signal",
                    )
                    .bind(batch.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(RiskSignal {
                                batch_id: BatchId::from_uuid(get(r, "batch_id")?),
                                resident_id: ResidentId::from_uuid(get(r, "resident_id")?),
                                signal: get(r, "signal")?,
                                at: at(get(r, "at_ms")?),
                            })
                        })
                        .collect()
                }

                async fn pauses_between(
                    &self,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<PauseRecord>, StoreError> {
                    let sql = format!(
                        "SELECT {PAUSE_COLS} FROM pauses
                         WHERE at_ms < $2 AND (resumed_at_ms IS NULL OR resumed_at_ms >= $1) ORDER BY at_ms, id"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(ms(from))
                        .bind(ms(to))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(pause).collect()
                }
            }
        }
    };
}
