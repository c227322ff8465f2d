//! `SessionStore` and `OtpStore` in SQL, for `impl_session_stores!`.

/// Implements `SessionStore` and `OtpStore` for `$store`: expanded by
/// `impl_account_stores!` inside its module, whose row readers (`rows::`)
/// and imports it uses.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_session_stores {
    ($store:ty) => {
        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, s: &Session) -> Result<(), StoreError> {
                let (user, resident) = match s.principal {
                    Principal::User(u) => (Some(u.as_uuid()), None),
                    Principal::Resident(r) => (None, Some(r.as_uuid())),
                };
                sqlx::query(
                    "INSERT INTO sessions (id, token_hash, user_id, resident_id, created_at_ms, expires_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(s.id.as_uuid())
                .bind(&s.token_hash[..])
                .bind(user)
                .bind(resident)
                .bind(ms(s.created_at))
                .bind(ms(s.expires_at))
                .execute(self.pool())
                .await
                .map_err(unique("token"))?;
                Ok(())
            }

            async fn live_session(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<Session, StoreError> {
                let row = sqlx::query(
                    "SELECT id, token_hash, user_id, resident_id, created_at_ms, expires_at_ms FROM sessions
                         WHERE token_hash = $1 AND expires_at_ms > $2",
                )
                .bind(&token_hash[..])
                .bind(ms(now))
                .fetch_one(self.pool())
                .await
                .map_err(err)?;
                rows::session(&row)
            }

            async fn live_session_with_resident(
                &self,
                token_hash: &[u8; 32],
                now: DateTime<Utc>,
            ) -> Result<(Session, Option<Resident>), StoreError> {
                let sql = format!(
                    "SELECT {} FROM sessions s LEFT JOIN residents r ON r.id = s.resident_id
                         WHERE s.token_hash = $1 AND s.expires_at_ms > $2",
                    rows::SESSION_AND_RESIDENT
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&token_hash[..])
                    .bind(ms(now))
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                rows::session_and_resident(&row)
            }

            async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
                let mut tx = self.pool().begin().await.map_err(err)?;
                let row = sqlx::query("DELETE FROM sessions WHERE id = $1 RETURNING token_hash")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                let hash = rows::token_hash(&row)?;
                sqlx::query("INSERT INTO session_ends (token_hash, ended_at_ms) VALUES ($1, $2)")
                    .bind(&hash[..])
                    .bind(ms(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(hash)
            }

            async fn delete_user_sessions(&self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError> {
                let mut tx = self.pool().begin().await.map_err(err)?;
                sqlx::query("INSERT INTO session_ends (token_hash, ended_at_ms) SELECT token_hash, $2 FROM sessions WHERE user_id = $1")
                        .bind(user.as_uuid())
                        .bind(ms(at))
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(r.rows_affected())
            }

            async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                let r = sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1")
                    .bind(ms(now))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                sqlx::query("DELETE FROM session_ends WHERE ended_at_ms < $1")
                    .bind(ms(now) - quan_store::SESSION_ENDS_KEPT_MS)
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                Ok(r.rows_affected())
            }

            async fn ended_sessions_since(&self, since: DateTime<Utc>) -> Result<Vec<[u8; 32]>, StoreError> {
                let rows = sqlx::query("SELECT token_hash FROM session_ends WHERE ended_at_ms >= $1")
                    .bind(ms(since))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                rows.iter().map(rows::token_hash).collect()
            }

            async fn live_resident_sessions(
                &self,
                now: DateTime<Utc>,
                created_from: DateTime<Utc>,
                before: Option<(DateTime<Utc>, SessionId)>,
                limit: u32,
            ) -> Result<Vec<(Session, Resident)>, StoreError> {
                // Without `before`, the first page starts past every row.
                let (before_ms, before_id) =
                    before.map_or((i64::MAX, uuid::Uuid::max()), |(at, id)| (ms(at), id.as_uuid()));
                let sql = format!(
                    "SELECT {} FROM sessions s JOIN residents r ON r.id = s.resident_id
                         WHERE s.created_at_ms >= $1 AND (s.created_at_ms, s.id) < ($2, $3) AND s.expires_at_ms > $4
                         ORDER BY s.created_at_ms DESC, s.id DESC LIMIT $5",
                    rows::SESSION_AND_RESIDENT
                );
                let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(ms(created_from))
                    .bind(before_ms)
                    .bind(before_id)
                    .bind(ms(now))
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                found
                    .iter()
                    .map(|row| match rows::session_and_resident(row)? {
                        (session, Some(resident)) => Ok((session, resident)),
                        (_, None) => Err(StoreError::message("a resident's session names a staff account")),
                    })
                    .collect()
            }
        }

        #[async_trait]
        impl OtpStore for $store {
            async fn put_otp(&self, o: &NewOtp, limits: OtpSendLimits) -> Result<OtpSend, StoreError> {
                let mut tx = self.pool().begin().await.map_err(err)?;
                // The upsert comes first: it takes the phone's challenge row
                // (PostgreSQL's row lock, SQLite's write lock) until commit, so
                // the counts below see every send that committed before, and
                // no other send for this phone commits between count and insert.
                sqlx::query(
                        "INSERT INTO otp_challenges (phone_hash, id, code_hash, attempts, created_at_ms, expires_at_ms)
                         VALUES ($1, $2, $3, 0, $4, $5)
                         ON CONFLICT (phone_hash) DO UPDATE SET id = excluded.id, code_hash = excluded.code_hash,
                             attempts = 0, created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms",
                    )
                    .bind(&o.phone_hash.as_bytes()[..])
                    .bind(o.id)
                    .bind(&o.code_hash[..])
                    .bind(ms(o.created_at))
                    .bind(ms(o.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                let (recent, hour): (i64, i64) = sqlx::query_as(
                    "SELECT COALESCE(SUM(CASE WHEN sent_at_ms >= $2 THEN 1 ELSE 0 END), 0), COUNT(*)
                         FROM otp_sends WHERE phone_hash = $1 AND sent_at_ms >= $3",
                )
                .bind(&o.phone_hash.as_bytes()[..])
                .bind(ms(limits.resend_since))
                .bind(ms(limits.hour_since))
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
                let refused = if recent > 0 {
                    Some(OtpSend::TooSoon)
                } else if hour >= i64::from(limits.per_hour_max) {
                    Some(OtpSend::TooMany)
                } else {
                    None
                };
                if let Some(r) = refused {
                    // The old challenge (and its tries) stays as it was.
                    tx.rollback().await.map_err(err)?;
                    return Ok(r);
                }
                sqlx::query("INSERT INTO otp_sends (phone_hash, sent_at_ms) VALUES ($1, $2)")
                    .bind(&o.phone_hash.as_bytes()[..])
                    .bind(ms(o.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(OtpSend::Stored)
            }

            async fn otp_sends_since(&self, phone_hash: &KeyedHash, since: DateTime<Utc>) -> Result<u32, StoreError> {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM otp_sends WHERE phone_hash = $1 AND sent_at_ms >= $2")
                        .bind(&phone_hash.as_bytes()[..])
                        .bind(ms(since))
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }

            async fn take_otp_attempt(
                &self,
                phone_hash: &KeyedHash,
                now: DateTime<Utc>,
                attempts_max: u32,
            ) -> Result<OtpChallenge, StoreError> {
                // One statement: the try is counted before the code is compared, so
                // concurrent guesses cannot slip past the limit.
                let row = sqlx::query(
                    "UPDATE otp_challenges SET attempts = attempts + 1
                         WHERE phone_hash = $1 AND expires_at_ms > $2 AND attempts < $3
                         RETURNING phone_hash, id, code_hash, attempts, created_at_ms, expires_at_ms",
                )
                .bind(&phone_hash.as_bytes()[..])
                .bind(ms(now))
                .bind(i64::from(attempts_max))
                .fetch_one(self.pool())
                .await
                .map_err(err)?;
                rows::otp(&row)
            }

            async fn consume_otp(&self, id: Uuid) -> Result<(), StoreError> {
                let r = sqlx::query("DELETE FROM otp_challenges WHERE id = $1")
                    .bind(id)
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                affected_one(r.rows_affected())
            }

            async fn prune_otps(&self, now: DateTime<Utc>, before: DateTime<Utc>) -> Result<u64, StoreError> {
                let a = sqlx::query("DELETE FROM otp_challenges WHERE expires_at_ms <= $1")
                    .bind(ms(now))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                let b = sqlx::query("DELETE FROM otp_sends WHERE sent_at_ms < $1")
                    .bind(ms(before))
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                Ok(a.rows_affected() + b.rows_affected())
            }
        }
    };
}
