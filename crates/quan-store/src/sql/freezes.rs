//! Freezing vouchers in SQL, inside another change's transaction (for
//! `impl_freeze_sql!`).

/// A `LIKE` pattern for the `claim_slots` scopes counted per this person
/// (`…:p:<hex>`, as `quan_domain::claim_limits` writes them).
pub fn person_scopes(person: &quan_domain::KeyedHash) -> String {
    format!("%{}", quan_domain::claim_limits::person_scope_suffix(person))
}

/// Expands `freeze_sql` for `$row`'s database: the statements that freeze an
/// account's claims under a person, used by the risk store.
#[macro_export]
macro_rules! impl_freeze_sql {
    ($row:ty) => {
        pub(crate) mod freeze_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::redemption::FreezeReason;
            use quan_domain::{Fen, KeyedHash, ResidentId, UserId};
            use quan_store::sql::err;
            use quan_store::{ConflictOutcome, StoreError};
            use sqlx::Row;
            use uuid::Uuid;

            type R = $row;
            pub(crate) type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            /// Who froze, when, why, and on whose behalf.
            pub(crate) struct Freeze {
                pub source: Uuid,
                pub reason: FreezeReason,
                pub by: UserId,
                pub at: DateTime<Utc>,
            }

            /// The claims `resident` made under `person`: their per-person
            /// slots given up (the batch's, kept on the first voucher, and
            /// the other limits' `claim_slots`), and their unused vouchers
            /// frozen with a `voucher_freezes` row each.
            pub(crate) async fn freeze_claims_under(
                tx: &mut Tx<'_>,
                resident: ResidentId,
                person: &KeyedHash,
                f: &Freeze,
            ) -> Result<ConflictOutcome, StoreError> {
                let claims: Vec<Uuid> =
                    sqlx::query_scalar("SELECT claim_id FROM vouchers WHERE resident_id = $1 AND person_hash = $2")
                        .bind(resident.as_uuid())
                        .bind(&person.as_bytes()[..])
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(err)?;
                let mut out = ConflictOutcome::default();
                let scope = quan_store::sql::freezes::person_scopes(person);
                for claim in claims {
                    let frozen = freeze_claim(tx, claim, f).await?;
                    out.frozen_vouchers += u32::try_from(frozen.len()).unwrap_or(u32::MAX);
                    for (_, face) in &frozen {
                        out.frozen_fen = out
                            .frozen_fen
                            .checked_add(*face)
                            .ok_or_else(|| StoreError::message("frozen face overflows"))?;
                    }
                    let slot =
                        sqlx::query("UPDATE vouchers SET person_hash = NULL WHERE claim_id = $1 AND person_hash = $2")
                            .bind(claim)
                            .bind(&person.as_bytes()[..])
                            .execute(&mut **tx)
                            .await
                            .map_err(err)?;
                    let others = sqlx::query("DELETE FROM claim_slots WHERE claim_id = $1 AND scope LIKE $2")
                        .bind(claim)
                        .bind(&scope)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    out.slots_released +=
                        u32::try_from(slot.rows_affected() + others.rows_affected()).unwrap_or(u32::MAX);
                    for (voucher, face) in frozen {
                        record(tx, voucher, resident, face, person, f).await?;
                    }
                }
                Ok(out)
            }

            /// Freezes the claim's unused vouchers not frozen yet.
            async fn freeze_claim(tx: &mut Tx<'_>, claim: Uuid, f: &Freeze) -> Result<Vec<(Uuid, Fen)>, StoreError> {
                let rows = sqlx::query(
                    "UPDATE vouchers SET frozen_at_ms = $2, frozen_reason = $3
                     WHERE claim_id = $1 AND state = 'claimed' AND frozen_at_ms IS NULL
                     RETURNING id, face_fen",
                )
                .bind(claim)
                .bind(f.at.timestamp_millis())
                .bind(f.reason.as_str())
                .fetch_all(&mut **tx)
                .await
                .map_err(err)?;
                rows.iter()
                    .map(|r| Ok((quan_store::sql::get(r, "id")?, Fen::new(quan_store::sql::get(r, "face_fen")?))))
                    .collect()
            }

            async fn record(
                tx: &mut Tx<'_>,
                voucher: Uuid,
                resident: ResidentId,
                face: Fen,
                person: &KeyedHash,
                f: &Freeze,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO voucher_freezes
                       (voucher_id, resident_id, face_fen, reason, source_id, person_hash, frozen_by, frozen_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(voucher)
                .bind(resident.as_uuid())
                .bind(face.as_i64())
                .bind(f.reason.as_str())
                .bind(f.source)
                .bind(&person.as_bytes()[..])
                .bind(f.by.as_uuid())
                .bind(f.at.timestamp_millis())
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(())
            }
        }
    };
}
