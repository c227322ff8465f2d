//! The account stores (users, residents, sessions, one-time codes) in SQL,
//! for `impl_account_stores!`.

/// Implements `UserStore`, `ResidentStore`, `SessionStore` and `OtpStore`
/// for `$store` (which has `fn pool(&self)`), whose rows are `$row`.
#[macro_export]
macro_rules! impl_account_stores {
    ($store:ty, $row:ty) => {
        pub(crate) mod account_sql {
            #![allow(unused_imports)]
            use super::*;

            pub(crate) mod rows {

                use chrono::{DateTime, Utc};
                use quan_domain::{
                    KeyedHash, MerchantId, Region, ResidentId, Role, SessionId, TillId, UserId, Username,
                };
                use quan_store::{OtpChallenge, Principal, Resident, Session, StoreError, User};
                use sqlx::Row;

                pub(super) type R = $row;
                use uuid::Uuid;

                pub(super) fn ms(t: DateTime<Utc>) -> i64 {
                    t.timestamp_millis()
                }

                pub(super) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
                    DateTime::from_timestamp_millis(ms)
                        .ok_or_else(|| StoreError::message(format!("instant {ms} ms is out of range")))
                }

                pub(super) use quan_store::sql::{err, get, unique};

                fn parsed<T, E: std::fmt::Display>(r: Result<T, E>, col: &str) -> Result<T, StoreError> {
                    r.map_err(|e| StoreError::message(format!("stored {col} is invalid: {e}")))
                }

                fn hash32(v: Vec<u8>, col: &str) -> Result<[u8; 32], StoreError> {
                    <[u8; 32]>::try_from(v.as_slice())
                        .map_err(|_| StoreError::message(format!("stored {col} is not 32 bytes")))
                }

                pub(super) fn user(row: &R) -> Result<User, StoreError> {
                    Ok(User {
                        id: UserId::from_uuid(get(row, "id")?),
                        username: parsed(Username::parse(&get::<_, String>(row, "username")?), "username")?,
                        role: parsed(get::<_, String>(row, "role")?.parse::<Role>(), "role")?,
                        region: parsed(Region::parse(&get::<_, String>(row, "region")?), "region")?,
                        display_name: get(row, "display_name")?,
                        password_hash: get(row, "password_hash")?,
                        disabled: get(row, "disabled")?,
                        created_at: from_ms(get(row, "created_at_ms")?)?,
                        created_by: get::<_, Option<Uuid>>(row, "created_by")?.map(UserId::from_uuid),
                        merchant: get::<_, Option<Uuid>>(row, "merchant_id")?.map(MerchantId::from_uuid),
                        till: get::<_, Option<Uuid>>(row, "till_id")?.map(TillId::from_uuid),
                    })
                }

                pub(super) fn resident(row: &R) -> Result<Resident, StoreError> {
                    resident_columns(row, ResidentId::from_uuid(get(row, "id")?), "")
                }

                /// A resident from columns named with `prefix` (for a join
                /// whose other table has columns of the same names).
                pub(super) fn resident_columns(row: &R, id: ResidentId, prefix: &str) -> Result<Resident, StoreError> {
                    Ok(Resident {
                        id,
                        phone_hash: KeyedHash::from_bytes(hash32(
                            get(row, &format!("{prefix}phone_hash"))?,
                            "phone_hash",
                        )?),
                        phone_masked: get(row, &format!("{prefix}phone_masked"))?,
                        created_at: from_ms(get(row, &format!("{prefix}created_at_ms"))?)?,
                    })
                }

                /// A row of `sessions` (id, token_hash, user_id, resident_id,
                /// created_at_ms, expires_at_ms).
                pub(super) fn session(row: &R) -> Result<Session, StoreError> {
                    let principal = match (opt_uuid(row, "user_id")?, opt_uuid(row, "resident_id")?) {
                        (Some(u), None) => Principal::User(UserId::from_uuid(u)),
                        (None, Some(r)) => Principal::Resident(ResidentId::from_uuid(r)),
                        _ => return Err(StoreError::message("a session row names neither or both kinds of principal")),
                    };
                    Ok(Session {
                        id: SessionId::from_uuid(uuid(row, "id")?),
                        token_hash: token_hash(row)?,
                        principal,
                        created_at: instant(row, "created_at_ms")?,
                        expires_at: instant(row, "expires_at_ms")?,
                    })
                }

                /// The columns [`session_and_resident`] reads: a session `s`
                /// joined to its resident `r` (none for staff).
                pub(super) const SESSION_AND_RESIDENT: &str =
                    "s.id, s.token_hash, s.user_id, s.resident_id, s.created_at_ms, s.expires_at_ms,
                    r.phone_hash AS r_phone_hash, r.phone_masked AS r_phone_masked, r.created_at_ms AS r_created_at_ms";

                /// A session and, for a resident's, its resident.
                pub(super) fn session_and_resident(row: &R) -> Result<(Session, Option<Resident>), StoreError> {
                    let session = session(row)?;
                    let resident = match session.principal {
                        Principal::Resident(id) => Some(resident_columns(row, id, "r_")?),
                        Principal::User(_) => None,
                    };
                    Ok((session, resident))
                }

                pub(super) fn otp(row: &R) -> Result<OtpChallenge, StoreError> {
                    Ok(OtpChallenge {
                        id: get(row, "id")?,
                        phone_hash: KeyedHash::from_bytes(hash32(get(row, "phone_hash")?, "phone_hash")?),
                        code_hash: hash32(get(row, "code_hash")?, "code_hash")?,
                        attempts: parsed(u32::try_from(get::<_, i64>(row, "attempts")?), "attempts")?,
                        created_at: from_ms(get(row, "created_at_ms")?)?,
                        expires_at: from_ms(get(row, "expires_at_ms")?)?,
                    })
                }

                pub(super) fn token_hash(row: &R) -> Result<[u8; 32], StoreError> {
                    hash32(get(row, "token_hash")?, "token_hash")
                }

                pub(super) fn opt_uuid(row: &R, col: &str) -> Result<Option<Uuid>, StoreError> {
                    get(row, col)
                }

                pub(super) fn instant(row: &R, col: &str) -> Result<DateTime<Utc>, StoreError> {
                    from_ms(get(row, col)?)
                }

                pub(super) fn uuid(row: &R, col: &str) -> Result<Uuid, StoreError> {
                    get(row, col)
                }
            }

            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use quan_domain::{KeyedHash, MerchantId, Region, ResidentId, SessionId, UserId, Username};
            use quan_store::{
                NewOtp, NewUser, OtpChallenge, OtpSend, OtpSendLimits, OtpStore, Principal, Resident, ResidentStore,
                Session, SessionStore, StoreError, User, UserStore,
            };
            use uuid::Uuid;

            use self::rows::{err, ms, unique};

            pub(super) const USER_COLS: &str = "id, username, role, region, display_name, password_hash, disabled, created_at_ms, created_by, merchant_id, till_id";

            pub(super) fn affected_one(n: u64) -> Result<(), StoreError> {
                if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            /// Inserts a user on a connection or inside a transaction (the
            /// merchant store adds an owner together with its merchant).
            /// `Conflict { what: "username" }` when the username is taken.
            pub(crate) async fn insert_user_on(
                conn: &mut <<rows::R as sqlx::Row>::Database as sqlx::Database>::Connection,
                u: &User,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO users (id, username, role, region, display_name, password_hash, disabled, created_at_ms, created_by, merchant_id, till_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(u.id.as_uuid())
                .bind(u.username.as_str())
                .bind(u.role.as_str())
                .bind(u.region.as_str())
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(u.disabled)
                .bind(ms(u.created_at))
                .bind(u.created_by.map(|c| c.as_uuid()))
                .bind(u.merchant.map(|m| m.as_uuid()))
                .bind(u.till.map(|t| t.as_uuid()))
                .execute(&mut *conn)
                .await
                .map_err(unique("username"))?;
                Ok(())
            }

            #[async_trait]
            impl UserStore for $store {
                async fn insert_user(&self, u: &NewUser) -> Result<(), StoreError> {
                    let mut conn = self.pool().acquire().await.map_err(err)?;
                    insert_user_on(&mut conn, u).await
                }

                async fn user_by_id(&self, id: UserId) -> Result<User, StoreError> {
                    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id.as_uuid())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    rows::user(&row)
                }

                async fn user_by_username(&self, username: &Username) -> Result<User, StoreError> {
                    let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(username.as_str())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    rows::user(&row)
                }

                async fn list_users(
                    &self,
                    within: &Region,
                    after: Option<UserId>,
                    limit: u32,
                    search: Option<&str>,
                ) -> Result<Vec<User>, StoreError> {
                    // substr() rather than LIKE: a region is digits only, but LIKE would
                    // still treat `_` and `%` specially and ignore case.
                    let sql = format!(
                        "SELECT {USER_COLS} FROM users
                         WHERE substr(region, 1, length($1)) = $1 AND ($2 IS NULL OR id > $2)
                           AND ($4 IS NULL OR lower(username) LIKE $4 ESCAPE '\\' OR lower(display_name) LIKE $4 ESCAPE '\\')
                         ORDER BY id LIMIT $3"
                    );
                    let found: Vec<rows::R> = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(within.as_str())
                        .bind(after.map(|a| a.as_uuid()))
                        .bind(i64::from(limit))
                        .bind(search.map(quan_store::sql::contains_pattern))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    found.iter().map(rows::user).collect()
                }

                async fn users_of_merchant(&self, merchant: MerchantId) -> Result<Vec<User>, StoreError> {
                    let sql = format!("SELECT {USER_COLS} FROM users WHERE merchant_id = $1 ORDER BY username");
                    let found: Vec<rows::R> = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(merchant.as_uuid())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    found.iter().map(rows::user).collect()
                }

                async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<(), StoreError> {
                    let r = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                        .bind(id.as_uuid())
                        .bind(disabled)
                        .execute(self.pool())
                        .await
                        .map_err(err)?;
                    affected_one(r.rows_affected())
                }

                async fn set_user_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
                    let r = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(id.as_uuid())
                        .bind(password_hash)
                        .execute(self.pool())
                        .await
                        .map_err(err)?;
                    affected_one(r.rows_affected())
                }

                async fn count_users(&self) -> Result<u64, StoreError> {
                    let n: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.pool()).await.map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }
            }

            #[async_trait]
            impl ResidentStore for $store {
                async fn upsert_resident(&self, r: &Resident) -> Result<Resident, StoreError> {
                    sqlx::query(
                        "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (phone_hash) DO NOTHING",
                    )
                    .bind(r.id.as_uuid())
                    .bind(&r.phone_hash.as_bytes()[..])
                    .bind(&r.phone_masked)
                    .bind(ms(r.created_at))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    let row = sqlx::query(
                        "SELECT id, phone_hash, phone_masked, created_at_ms FROM residents WHERE phone_hash = $1",
                    )
                    .bind(&r.phone_hash.as_bytes()[..])
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                    rows::resident(&row)
                }

                async fn resident_by_phone(&self, phone_hash: &KeyedHash) -> Result<Resident, StoreError> {
                    let row = sqlx::query(
                        "SELECT id, phone_hash, phone_masked, created_at_ms FROM residents WHERE phone_hash = $1",
                    )
                    .bind(&phone_hash.as_bytes()[..])
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    row.as_ref().map(rows::resident).transpose()?.ok_or(StoreError::NotFound)
                }

                async fn enrol_residents(&self, residents: &[(Resident, Session)]) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    for chunk in quan_store::sql::shaped(residents) {
                        let values = |cols: usize| quan_store::sql::values::<$row>(chunk.len(), cols);
                        let sql = format!(
                            "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms) VALUES {}",
                            values(4)
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for (r, _) in chunk {
                            q = q
                                .bind(r.id.as_uuid())
                                .bind(r.phone_hash.as_bytes().to_vec())
                                .bind(r.phone_masked.clone())
                                .bind(ms(r.created_at));
                        }
                        q.execute(&mut *tx).await.map_err(unique("phone"))?;
                        let sql = format!(
                            "INSERT INTO sessions (id, token_hash, resident_id, created_at_ms, expires_at_ms) VALUES {}",
                            values(5)
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for (r, s) in chunk {
                            q = q
                                .bind(s.id.as_uuid())
                                .bind(s.token_hash.to_vec())
                                .bind(r.id.as_uuid())
                                .bind(ms(s.created_at))
                                .bind(ms(s.expires_at));
                        }
                        q.execute(&mut *tx).await.map_err(unique("token"))?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn resident_by_id(&self, id: ResidentId) -> Result<Resident, StoreError> {
                    let row =
                        sqlx::query("SELECT id, phone_hash, phone_masked, created_at_ms FROM residents WHERE id = $1")
                            .bind(id.as_uuid())
                            .fetch_one(self.pool())
                            .await
                            .map_err(err)?;
                    rows::resident(&row)
                }
            }

            $crate::impl_session_stores!($store);
        }
    };
}
