//! `EligibilityStore` in SQL, for `impl_eligibility_store!`.

/// Implements `EligibilityStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`.
// `crate::…` is meant: those modules are expanded by the sibling macros
// in the same backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_eligibility_store {
    ($store:ty, $row:ty) => {
        mod eligibility_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, NaiveDate, Utc};
            use quan_domain::{KeyedHash, Region, ResidentId, UserId};
            use quan_store::{EligibilityList, Identity, IdentityChange, ListMember, MemberKind, StoreError};
            use sqlx::Row;

            type R = $row;

            use quan_store::sql::err;

            use quan_store::sql::get;

            fn at(row: &R, col: &str) -> Result<DateTime<Utc>, StoreError> {
                let v: i64 = get(row, col)?;
                DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::message(format!("{col} out of range")))
            }

            fn list(row: &R) -> Result<EligibilityList, StoreError> {
                let region: String = get(row, "region")?;
                Ok(EligibilityList {
                    id: get(row, "id")?,
                    name: get(row, "name")?,
                    region: Region::parse(&region).map_err(|e| StoreError::message(e.to_string()))?,
                    created_by: UserId::from_uuid(get(row, "created_by")?),
                    created_at: at(row, "created_at_ms")?,
                    members: u64::try_from(get::<_, i64>(row, "members")?).unwrap_or(0),
                })
            }

            /// A row of `resident_identities`.
            fn identity_row(row: &R) -> Result<Identity, StoreError> {
                let hash: Vec<u8> = get(row, "id_hash")?;
                let birth: String = get(row, "birth_date")?;
                Ok(Identity {
                    resident_id: ResidentId::from_uuid(get(row, "resident_id")?),
                    id_hash: KeyedHash::from_slice(&hash)
                        .ok_or_else(|| StoreError::message("stored id_hash is not 32 bytes"))?,
                    id_masked: get(row, "id_masked")?,
                    household_region: get(row, "household_region")?,
                    birth_date: NaiveDate::parse_from_str(&birth, "%Y-%m-%d").map_err(StoreError::other)?,
                    verified_at: at(row, "verified_at_ms")?,
                    real_name_checked_at: get::<_, Option<i64>>(row, "real_name_at_ms")?.map(quan_store::sql::at),
                })
            }

            const LIST_SQL: &str = "SELECT l.id, l.name, l.region, l.created_by, l.created_at_ms,
                (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id) AS members
                FROM eligibility_lists l WHERE l.name = $1";

            #[async_trait::async_trait]
            impl quan_store::EligibilityStore for $store {
                async fn set_identity(&self, i: &Identity) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO resident_identities (resident_id, id_hash, id_masked, household_region, birth_date, verified_at_ms, real_name_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (resident_id) DO UPDATE SET id_hash = excluded.id_hash, id_masked = excluded.id_masked,
                             household_region = excluded.household_region, birth_date = excluded.birth_date,
                             verified_at_ms = excluded.verified_at_ms, real_name_at_ms = excluded.real_name_at_ms",
                    )
                    .bind(i.resident_id.as_uuid())
                    .bind(&i.id_hash.as_bytes()[..])
                    .bind(&i.id_masked)
                    .bind(&i.household_region)
                    .bind(i.birth_date.format("%Y-%m-%d").to_string())
                    .bind(i.verified_at.timestamp_millis())
                    .bind(i.real_name_checked_at.map(|t| t.timestamp_millis()))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                async fn record_identity_once(&self, i: &Identity) -> Result<Identity, StoreError> {
                    sqlx::query(
                        "INSERT INTO resident_identities (resident_id, id_hash, id_masked, household_region, birth_date, verified_at_ms, real_name_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (resident_id) DO NOTHING",
                    )
                    .bind(i.resident_id.as_uuid())
                    .bind(&i.id_hash.as_bytes()[..])
                    .bind(&i.id_masked)
                    .bind(&i.household_region)
                    .bind(i.birth_date.format("%Y-%m-%d").to_string())
                    .bind(i.verified_at.timestamp_millis())
                    .bind(i.real_name_checked_at.map(|t| t.timestamp_millis()))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    self.identity(i.resident_id).await?.ok_or(StoreError::NotFound)
                }

                async fn replace_identity(&self, i: &Identity, c: &IdentityChange) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    sqlx::query(
                        "UPDATE resident_identities SET id_hash = $2, id_masked = $3, household_region = $4, birth_date = $5,
                             verified_at_ms = $6, real_name_at_ms = $7 WHERE resident_id = $1",
                    )
                    .bind(i.resident_id.as_uuid())
                    .bind(&i.id_hash.as_bytes()[..])
                    .bind(&i.id_masked)
                    .bind(&i.household_region)
                    .bind(i.birth_date.format("%Y-%m-%d").to_string())
                    .bind(i.verified_at.timestamp_millis())
                    .bind(i.real_name_checked_at.map(|t| t.timestamp_millis()))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    sqlx::query(
                        "INSERT INTO identity_changes (resident_id, changed_at_ms, changed_by, old_masked, new_masked, old_region, new_region, reason)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(c.resident_id.as_uuid())
                    .bind(c.changed_at.timestamp_millis())
                    .bind(c.changed_by.as_uuid())
                    .bind(&c.old_masked)
                    .bind(&c.new_masked)
                    .bind(&c.old_region)
                    .bind(&c.new_region)
                    .bind(&c.reason)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => {
                            StoreError::Conflict { what: "identity_change" }
                        }
                        e => err(e),
                    })?;
                    tx.commit().await.map_err(err)
                }

                async fn identity_changes(&self, resident: ResidentId) -> Result<Vec<IdentityChange>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT resident_id, changed_at_ms, changed_by, old_masked, new_masked, old_region, new_region, reason
                         FROM identity_changes WHERE resident_id = $1 ORDER BY changed_at_ms",
                    )
                    .bind(resident.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|row| {
                            Ok(IdentityChange {
                                resident_id: ResidentId::from_uuid(get(row, "resident_id")?),
                                changed_at: at(row, "changed_at_ms")?,
                                changed_by: UserId::from_uuid(get(row, "changed_by")?),
                                old_masked: get(row, "old_masked")?,
                                new_masked: get(row, "new_masked")?,
                                old_region: get(row, "old_region")?,
                                new_region: get(row, "new_region")?,
                                reason: get(row, "reason")?,
                            })
                        })
                        .collect()
                }

                async fn identity(&self, resident: ResidentId) -> Result<Option<Identity>, StoreError> {
                    let row = sqlx::query(
                        "SELECT resident_id, id_hash, id_masked, household_region, birth_date, verified_at_ms, real_name_at_ms
                         FROM resident_identities WHERE resident_id = $1",
                    )
                    .bind(resident.as_uuid())
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    row.as_ref().map(identity_row).transpose()
                }

                async fn identities_verified_since(
                    &self,
                    since: DateTime<Utc>,
                    after: Option<(DateTime<Utc>, ResidentId)>,
                    limit: u32,
                ) -> Result<Vec<Identity>, StoreError> {
                    // Without `after`, the first page starts before every row.
                    let (after_ms, after_id) =
                        after.map_or((i64::MIN, uuid::Uuid::nil()), |(at, id)| (at.timestamp_millis(), id.as_uuid()));
                    let found = sqlx::query(
                        "SELECT resident_id, id_hash, id_masked, household_region, birth_date, verified_at_ms, real_name_at_ms
                         FROM resident_identities
                         WHERE verified_at_ms >= $1 AND (verified_at_ms, resident_id) > ($2, $3)
                         ORDER BY verified_at_ms, resident_id LIMIT $4",
                    )
                    .bind(since.timestamp_millis())
                    .bind(after_ms)
                    .bind(after_id)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    found.iter().map(identity_row).collect()
                }

                async fn upsert_list(
                    &self,
                    name: &str,
                    region: &Region,
                    by: UserId,
                    now: DateTime<Utc>,
                ) -> Result<EligibilityList, StoreError> {
                    let id = uuid::Uuid::now_v7();
                    sqlx::query(
                        "INSERT INTO eligibility_lists (id, name, region, created_by, created_at_ms) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(id)
                    .bind(name)
                    .bind(region.as_str())
                    .bind(by.as_uuid())
                    .bind(now.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    let l = self.list_by_name(name).await?;
                    if !region.contains(&l.region) {
                        return Err(StoreError::Conflict { what: "list_region" });
                    }
                    Ok(l)
                }

                async fn list_by_name(&self, name: &str) -> Result<EligibilityList, StoreError> {
                    let row = sqlx::query(LIST_SQL).bind(name).fetch_one(self.pool()).await.map_err(err)?;
                    list(&row)
                }

                async fn add_list_members(
                    &self,
                    list_id: uuid::Uuid,
                    members: &[(MemberKind, KeyedHash)],
                    now: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let mut added = 0;
                    for (kind, hash) in members {
                        added += sqlx::query(
                            "INSERT INTO list_members (list_id, kind, member_hash, added_at_ms) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (list_id, kind, member_hash) DO NOTHING",
                        )
                        .bind(list_id)
                        .bind(kind.as_str())
                        .bind(&hash.as_bytes()[..])
                        .bind(now.timestamp_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?
                        .rows_affected();
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(added)
                }

                async fn list_members_added_since(
                    &self,
                    list: uuid::Uuid,
                    since: DateTime<Utc>,
                    after: Option<ListMember>,
                    limit: u32,
                ) -> Result<Vec<ListMember>, StoreError> {
                    // Without `after`, the first page starts before every row
                    // ('' sorts before both kinds).
                    let (after_ms, after_kind, after_hash) = after.map_or((i64::MIN, "", vec![]), |m| {
                        (m.added_at.timestamp_millis(), m.kind.as_str(), m.hash.as_bytes().to_vec())
                    });
                    let rows = sqlx::query(
                        "SELECT kind, member_hash, added_at_ms FROM list_members
                         WHERE list_id = $1 AND added_at_ms >= $2 AND (added_at_ms, kind, member_hash) > ($3, $4, $5)
                         ORDER BY added_at_ms, kind, member_hash LIMIT $6",
                    )
                    .bind(list)
                    .bind(since.timestamp_millis())
                    .bind(after_ms)
                    .bind(after_kind)
                    .bind(after_hash)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let kind: String = get(r, "kind")?;
                            let hash: Vec<u8> = get(r, "member_hash")?;
                            Ok(ListMember {
                                kind: match kind.as_str() {
                                    "id" => MemberKind::IdNumber,
                                    "phone" => MemberKind::Phone,
                                    other => {
                                        return Err(StoreError::message(format!("unknown list member kind {other}")));
                                    }
                                },
                                hash: KeyedHash::from_slice(&hash)
                                    .ok_or_else(|| StoreError::message("stored member_hash is not 32 bytes"))?,
                                added_at: at(r, "added_at_ms")?,
                            })
                        })
                        .collect()
                }

                async fn lists_with_member(
                    &self,
                    names: &[String],
                    members: &[(MemberKind, KeyedHash)],
                ) -> Result<Vec<String>, StoreError> {
                    let mut found = Vec::new();
                    for name in names {
                        for (kind, hash) in members {
                            let hit: Option<i64> = sqlx::query_scalar(
                                "SELECT CAST(1 AS BIGINT) FROM list_members m JOIN eligibility_lists l ON l.id = m.list_id
                                 WHERE l.name = $1 AND m.kind = $2 AND m.member_hash = $3",
                            )
                            .bind(name)
                            .bind(kind.as_str())
                            .bind(&hash.as_bytes()[..])
                            .fetch_optional(self.pool())
                            .await
                            .map_err(err)?;
                            if hit.is_some() {
                                found.push(name.clone());
                                break;
                            }
                        }
                    }
                    Ok(found)
                }
            }
        }
    };
}
