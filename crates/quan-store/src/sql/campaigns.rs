//! `CampaignStore` in SQL, for `impl_campaign_store!`.

/// Implements `CampaignStore` for `$store` (which has `fn pool(&self)`), whose
/// rows are `$row`. The backend crate must depend on `sqlx`, `serde_json`,
/// `chrono` and `uuid`.
// `crate::ledger_sql` is meant: the module `impl_ledger_store!` expands
// in the same backend crate that expands this macro.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_campaign_store {
    ($store:ty, $row:ty) => {
        mod campaign_sql {
            use chrono::{DateTime, NaiveDate, Utc};
            use quan_domain::campaign::{CampaignSpec, CampaignStatus};
            use quan_domain::{BatchId, CampaignId, Fen, Region, ResidentId, UserId};
            use quan_store::{
                Batch, Campaign, CampaignEvent, CampaignTransition, LotteryRegistration, LotteryState, StoreError,
            };
            use sqlx::Row;
            use uuid::Uuid;

            pub(super) type R = $row;

            pub(super) fn err(e: sqlx::Error) -> StoreError {
                quan_store::sql::unique("duplicate")(e)
            }

            use quan_store::sql::get;

            pub(super) fn ms(t: DateTime<Utc>) -> i64 {
                t.timestamp_millis()
            }

            fn at(row: &R, col: &str) -> Result<DateTime<Utc>, StoreError> {
                let v: i64 = get(row, col)?;
                DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::message(format!("{col} out of range")))
            }

            fn json<T: serde::de::DeserializeOwned>(row: &R, col: &str) -> Result<T, StoreError> {
                let text: String = get(row, col)?;
                serde_json::from_str(&text).map_err(|e| StoreError::message(format!("stored {col} is not valid: {e}")))
            }

            pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
                serde_json::to_string(v).map_err(StoreError::other)
            }

            pub(super) const CAMPAIGN_COLS: &str =
                "id, spec_json, status, funded_fen, committed_fen, created_by, created_at_ms, updated_at_ms";

            pub(super) fn campaign(row: &R) -> Result<Campaign, StoreError> {
                let status: String = get(row, "status")?;
                Ok(Campaign {
                    id: CampaignId::from_uuid(get(row, "id")?),
                    spec: json::<CampaignSpec>(row, "spec_json")?,
                    status: CampaignStatus::parse(&status)
                        .ok_or_else(|| StoreError::message(format!("unknown status {status}")))?,
                    funded: Fen::new(get(row, "funded_fen")?),
                    committed: Fen::new(get(row, "committed_fen")?),
                    created_by: UserId::from_uuid(get(row, "created_by")?),
                    created_at: at(row, "created_at_ms")?,
                    updated_at: at(row, "updated_at_ms")?,
                })
            }

            pub(super) fn event(row: &R) -> Result<CampaignEvent, StoreError> {
                Ok(CampaignEvent {
                    id: get(row, "id")?,
                    campaign_id: CampaignId::from_uuid(get(row, "campaign_id")?),
                    kind: get(row, "kind")?,
                    amount: get::<_, Option<i64>>(row, "amount_fen")?.map(Fen::new),
                    batch_id: get::<_, Option<Uuid>>(row, "batch_id")?.map(BatchId::from_uuid),
                    note: get(row, "note")?,
                    actor: get::<_, Option<Uuid>>(row, "actor")?.map(UserId::from_uuid),
                    at: at(row, "at_ms")?,
                })
            }

            pub(super) const BATCH_COLS: &str = "id, campaign_id, spec_json, face_total_fen, version, lottery_seed, lottery_commitment, drawn_at_ms, created_by, created_at_ms";

            fn bytes32(v: Vec<u8>) -> Result<[u8; 32], StoreError> {
                <[u8; 32]>::try_from(v.as_slice()).map_err(|_| StoreError::message("a lottery value is not 32 bytes"))
            }

            pub(super) fn batch(row: &R) -> Result<Batch, StoreError> {
                let seed: Option<Vec<u8>> = get(row, "lottery_seed")?;
                let commitment: Option<Vec<u8>> = get(row, "lottery_commitment")?;
                let drawn: Option<i64> = get(row, "drawn_at_ms")?;
                let lottery = match (seed, commitment) {
                    (Some(s), Some(c)) => Some(LotteryState {
                        seed: bytes32(s)?,
                        commitment: bytes32(c)?,
                        drawn_at: drawn.and_then(DateTime::from_timestamp_millis),
                    }),
                    _ => None,
                };
                Ok(Batch {
                    id: BatchId::from_uuid(get(row, "id")?),
                    campaign_id: CampaignId::from_uuid(get(row, "campaign_id")?),
                    spec: json(row, "spec_json")?,
                    face_total: Fen::new(get(row, "face_total_fen")?),
                    version: get(row, "version")?,
                    lottery,
                    created_by: UserId::from_uuid(get(row, "created_by")?),
                    created_at: at(row, "created_at_ms")?,
                })
            }

            pub(super) fn resident(row: &R, col: &str) -> Result<ResidentId, StoreError> {
                Ok(ResidentId::from_uuid(get(row, col)?))
            }
        }

        #[async_trait::async_trait]
        impl quan_store::CampaignStore for $store {
            async fn insert_campaign(
                &self,
                c: &quan_store::Campaign,
                batches: &[quan_store::Batch],
                events: &[quan_store::CampaignEvent],
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::*;
                let mut tx = self.pool().begin().await.map_err(err)?;
                sqlx::query(
                    "INSERT INTO campaigns (id, name, region, spec_json, budget_fen, funded_fen, committed_fen, status, created_by, created_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(c.id.as_uuid())
                .bind(&c.spec.name)
                .bind(c.spec.region.as_str())
                .bind(to_json(&c.spec)?)
                .bind(c.spec.budget_fen.as_i64())
                .bind(c.funded.as_i64())
                .bind(c.committed.as_i64())
                .bind(c.status.as_str())
                .bind(c.created_by.as_uuid())
                .bind(ms(c.created_at))
                .bind(ms(c.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                for b in batches {
                    insert_batch_row(&mut tx, b, ms(c.created_at)).await?;
                }
                for e in events {
                    insert_event(&mut tx, e).await?;
                }
                tx.commit().await.map_err(err)
            }

            async fn campaign_by_id(
                &self,
                id: quan_domain::CampaignId,
            ) -> Result<quan_store::Campaign, quan_store::StoreError> {
                use campaign_sql::*;
                let sql = format!("SELECT {CAMPAIGN_COLS} FROM campaigns WHERE id = $1 AND deleted_at_ms IS NULL");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                campaign(&row)
            }

            async fn list_campaigns(
                &self,
                within: &quan_domain::Region,
                after: Option<quan_domain::CampaignId>,
                limit: u32,
                search: Option<&str>,
            ) -> Result<Vec<quan_store::Campaign>, quan_store::StoreError> {
                use campaign_sql::*;
                let sql = format!(
                    "SELECT {CAMPAIGN_COLS} FROM campaigns
                     WHERE substr(region, 1, length($1)) = $1 AND ($2 IS NULL OR id > $2) AND deleted_at_ms IS NULL
                       AND ($4 IS NULL OR lower(name) LIKE $4 ESCAPE '\\') ORDER BY id LIMIT $3"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(within.as_str())
                    .bind(after.map(|a| a.as_uuid()))
                    .bind(i64::from(limit))
                    .bind(search.map(quan_store::sql::contains_pattern))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                rows.iter().map(campaign).collect()
            }

            async fn transition_campaign(
                &self,
                t: &quan_store::CampaignTransition,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::*;
                let mut tx = self.pool().begin().await.map_err(err)?;
                let r = sqlx::query(
                    "UPDATE campaigns SET status = $2, funded_fen = $3, updated_at_ms = $4
                     WHERE id = $1 AND status = $5 AND funded_fen = $6",
                )
                .bind(t.id.as_uuid())
                .bind(t.to_status.as_str())
                .bind(t.to_funded.as_i64())
                .bind(ms(now))
                .bind(t.from_status.as_str())
                .bind(t.from_funded.as_i64())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if r.rows_affected() != 1 {
                    return Err(quan_store::StoreError::Conflict { what: "campaign_changed" });
                }
                insert_event(&mut tx, &t.event).await?;
                crate::ledger_sql::post_in_tx(&mut tx, &t.transfers).await?;
                tx.commit().await.map_err(err)
            }

            async fn campaign_events(
                &self,
                id: quan_domain::CampaignId,
            ) -> Result<Vec<quan_store::CampaignEvent>, quan_store::StoreError> {
                use campaign_sql::*;
                let rows = sqlx::query(
                    "SELECT id, campaign_id, kind, amount_fen, batch_id, note, actor, at_ms FROM campaign_events
                     WHERE campaign_id = $1 ORDER BY at_ms, id",
                )
                .bind(id.as_uuid())
                .fetch_all(self.pool())
                .await
                .map_err(err)?;
                rows.iter().map(event).collect()
            }

            async fn insert_batch(
                &self,
                b: &quan_store::Batch,
                e: &quan_store::CampaignEvent,
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::*;
                let mut tx = self.pool().begin().await.map_err(err)?;
                insert_batch_row(&mut tx, b, ms(e.at)).await?;
                insert_event(&mut tx, e).await?;
                tx.commit().await.map_err(err)
            }

            async fn batch_by_id(&self, id: quan_domain::BatchId) -> Result<quan_store::Batch, quan_store::StoreError> {
                use campaign_sql::*;
                let sql = format!("SELECT {BATCH_COLS} FROM batches WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.as_uuid())
                    .fetch_one(self.pool())
                    .await
                    .map_err(err)?;
                batch(&row)
            }

            async fn list_batches(
                &self,
                c: quan_domain::CampaignId,
            ) -> Result<Vec<quan_store::Batch>, quan_store::StoreError> {
                use campaign_sql::*;
                let sql = format!("SELECT {BATCH_COLS} FROM batches WHERE campaign_id = $1 ORDER BY opening_at_ms, id");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(c.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                rows.iter().map(batch).collect()
            }

            async fn update_batch(
                &self,
                b: &quan_store::Batch,
                face_delta: quan_domain::Fen,
                e: &quan_store::CampaignEvent,
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::*;
                let mut tx = self.pool().begin().await.map_err(err)?;
                commit_face(&mut tx, b.campaign_id, face_delta.as_i64(), ms(e.at)).await?;
                let r = sqlx::query(
                    "UPDATE batches SET name = $2, opening_at_ms = $3, closing_at_ms = $4, spec_json = $5, face_total_fen = $6, version = $7
                     WHERE id = $1 AND version = $8",
                )
                .bind(b.id.as_uuid())
                .bind(&b.spec.name)
                .bind(ms(b.spec.opening_at))
                .bind(ms(b.spec.closing_at))
                .bind(to_json(&b.spec)?)
                .bind(b.face_total.as_i64())
                .bind(b.version)
                .bind(b.version - 1)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if r.rows_affected() != 1 {
                    return Err(quan_store::StoreError::Conflict { what: "batch_changed" });
                }
                upsert_kinds(&mut tx, b).await?;
                insert_event(&mut tx, e).await?;
                tx.commit().await.map_err(err)
            }

            async fn register_for_lottery(
                &self,
                r: &quan_store::LotteryRegistration,
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::*;
                sqlx::query("INSERT INTO lottery_registrations (batch_id, resident_id, at_ms) VALUES ($1, $2, $3)")
                    .bind(r.batch_id.as_uuid())
                    .bind(r.resident_id.as_uuid())
                    .bind(ms(r.at))
                    .execute(self.pool())
                    .await
                    .map_err(|e| match err(e) {
                        quan_store::StoreError::Conflict { .. } => {
                            quan_store::StoreError::Conflict { what: "registration" }
                        }
                        other => other,
                    })?;
                Ok(())
            }

            async fn lottery_registrants(
                &self,
                b: quan_domain::BatchId,
            ) -> Result<Vec<quan_domain::ResidentId>, quan_store::StoreError> {
                use campaign_sql::*;
                let rows = sqlx::query(
                    "SELECT resident_id FROM lottery_registrations WHERE batch_id = $1 ORDER BY resident_id",
                )
                .bind(b.as_uuid())
                .fetch_all(self.pool())
                .await
                .map_err(err)?;
                rows.iter().map(|r| resident(r, "resident_id")).collect()
            }

            async fn record_draw(
                &self,
                b: quan_domain::BatchId,
                winners: &[quan_domain::ResidentId],
                e: &quan_store::CampaignEvent,
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::*;
                let mut tx = self.pool().begin().await.map_err(err)?;
                let r = sqlx::query(
                    "UPDATE batches SET drawn_at_ms = $2 WHERE id = $1 AND drawn_at_ms IS NULL AND lottery_seed IS NOT NULL",
                )
                .bind(b.as_uuid())
                .bind(ms(e.at))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if r.rows_affected() != 1 {
                    return Err(quan_store::StoreError::Conflict { what: "already_drawn" });
                }
                for (rank, w) in winners.iter().enumerate() {
                    sqlx::query("INSERT INTO lottery_winners (batch_id, rank, resident_id) VALUES ($1, $2, $3)")
                        .bind(b.as_uuid())
                        .bind(rank as i64)
                        .bind(w.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                insert_event(&mut tx, e).await?;
                tx.commit().await.map_err(err)
            }

            async fn lottery_winners(
                &self,
                b: quan_domain::BatchId,
            ) -> Result<Vec<quan_domain::ResidentId>, quan_store::StoreError> {
                use campaign_sql::*;
                let rows = sqlx::query("SELECT resident_id FROM lottery_winners WHERE batch_id = $1 ORDER BY rank")
                    .bind(b.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                rows.iter().map(|r| resident(r, "resident_id")).collect()
            }
        }

        /// The batch row, its kinds, and its face value added to the
        /// campaign's committed total within the budget.
        async fn insert_batch_row(
            tx: &mut sqlx::Transaction<'_, <campaign_sql::R as sqlx::Row>::Database>,
            b: &quan_store::Batch,
            now_ms: i64,
        ) -> Result<(), quan_store::StoreError> {
            commit_face(tx, b.campaign_id, b.face_total.as_i64(), now_ms).await?;
            sqlx::query(
                "INSERT INTO batches (id, campaign_id, name, opening_at_ms, closing_at_ms, spec_json, face_total_fen, version,
                     lottery_seed, lottery_commitment, drawn_at_ms, created_by, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12)",
            )
            .bind(b.id.as_uuid())
            .bind(b.campaign_id.as_uuid())
            .bind(&b.spec.name)
            .bind(campaign_sql::ms(b.spec.opening_at))
            .bind(campaign_sql::ms(b.spec.closing_at))
            .bind(campaign_sql::to_json(&b.spec)?)
            .bind(b.face_total.as_i64())
            .bind(b.version)
            .bind(b.lottery.as_ref().map(|l| l.seed.to_vec()))
            .bind(b.lottery.as_ref().map(|l| l.commitment.to_vec()))
            .bind(b.created_by.as_uuid())
            .bind(campaign_sql::ms(b.created_at))
            .execute(&mut **tx)
            .await
            .map_err(campaign_sql::err)?;
            upsert_kinds(tx, b).await
        }

        async fn insert_event(
            tx: &mut sqlx::Transaction<'_, <campaign_sql::R as sqlx::Row>::Database>,
            e: &quan_store::CampaignEvent,
        ) -> Result<(), quan_store::StoreError> {
            sqlx::query(
                "INSERT INTO campaign_events (id, campaign_id, kind, amount_fen, batch_id, note, actor, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(e.id)
            .bind(e.campaign_id.as_uuid())
            .bind(&e.kind)
            .bind(e.amount.map(|a| a.as_i64()))
            .bind(e.batch_id.map(|b| b.as_uuid()))
            .bind(&e.note)
            .bind(e.actor.map(|a| a.as_uuid()))
            .bind(campaign_sql::ms(e.at))
            .execute(&mut **tx)
            .await
            .map_err(campaign_sql::err)?;
            Ok(())
        }

        /// Moves the committed face value by `delta` only if it stays within
        /// the budget and the campaign still accepts batches. One guarded
        /// UPDATE: the row lock it takes serialises concurrent batch changes.
        async fn commit_face(
            tx: &mut sqlx::Transaction<'_, <campaign_sql::R as sqlx::Row>::Database>,
            campaign: quan_domain::CampaignId,
            delta: i64,
            now_ms: i64,
        ) -> Result<(), quan_store::StoreError> {
            let r = sqlx::query(
                "UPDATE campaigns SET committed_fen = committed_fen + $2, updated_at_ms = $3
                 WHERE id = $1 AND committed_fen + $2 <= budget_fen AND committed_fen + $2 >= 0
                   AND status IN ('draft', 'funded', 'running')",
            )
            .bind(campaign.as_uuid())
            .bind(delta)
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(campaign_sql::err)?;
            if r.rows_affected() == 1 {
                return Ok(());
            }
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1")
                .bind(campaign.as_uuid())
                .fetch_optional(&mut **tx)
                .await
                .map_err(campaign_sql::err)?;
            match status.as_deref() {
                None => Err(quan_store::StoreError::NotFound),
                Some("draft" | "funded" | "running") => Err(quan_store::StoreError::Conflict { what: "budget" }),
                Some(_) => Err(quan_store::StoreError::Conflict { what: "campaign_changed" }),
            }
        }

        /// The kinds of a batch and their stock. A new kind's stock is split
        /// over the buckets; more stock on an existing kind goes to bucket 0.
        async fn upsert_kinds(
            tx: &mut sqlx::Transaction<'_, <campaign_sql::R as sqlx::Row>::Database>,
            b: &quan_store::Batch,
        ) -> Result<(), quan_store::StoreError> {
            use quan_store::STOCK_BUCKETS;
            for k in &b.spec.kinds {
                let before: Option<i64> =
                    sqlx::query_scalar("SELECT stock FROM batch_kinds WHERE batch_id = $1 AND code = $2")
                        .bind(b.id.as_uuid())
                        .bind(&k.kind.code)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(campaign_sql::err)?;
                sqlx::query(
                    "INSERT INTO batch_kinds (batch_id, code, face_fen, stock) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (batch_id, code) DO UPDATE SET stock = excluded.stock, face_fen = excluded.face_fen",
                )
                .bind(b.id.as_uuid())
                .bind(&k.kind.code)
                .bind(k.kind.face_value().as_i64())
                .bind(i64::from(k.stock))
                .execute(&mut **tx)
                .await
                .map_err(campaign_sql::err)?;
                let stock = i64::from(k.stock);
                match before {
                    None => {
                        let n = i64::from(STOCK_BUCKETS);
                        for bucket in 0..n {
                            let share = stock / n + i64::from(bucket < stock % n);
                            sqlx::query(
                                "INSERT INTO batch_stock (batch_id, kind_code, bucket, remaining) VALUES ($1, $2, $3, $4)",
                            )
                            .bind(b.id.as_uuid())
                            .bind(&k.kind.code)
                            .bind(bucket)
                            .bind(share)
                            .execute(&mut **tx)
                            .await
                            .map_err(campaign_sql::err)?;
                        }
                    }
                    Some(old) if stock != old => {
                        // Stock only grows once claims may have started
                        // (the domain refuses anything else after opening).
                        sqlx::query("UPDATE batch_stock SET remaining = remaining + $3 WHERE batch_id = $1 AND kind_code = $2 AND bucket = 0")
                            .bind(b.id.as_uuid())
                            .bind(&k.kind.code)
                            .bind(stock - old)
                            .execute(&mut **tx)
                            .await
                            .map_err(campaign_sql::err)?;
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        }
    };
}
