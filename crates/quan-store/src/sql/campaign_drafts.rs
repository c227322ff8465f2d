//! `CampaignDraftStore` in SQL, for `impl_campaign_draft_store!`: editing
//! and deleting a draft that holds no money.

/// Implements `CampaignDraftStore` for `$store`; expanded after
/// `impl_campaign_store!`, whose batch and event writers it reuses.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_campaign_draft_store {
    ($store:ty, $row:ty) => {
        /// Locks the campaign row while it is a draft with no money; `Conflict { what: "not_a_draft" }` otherwise.
        async fn lock_draft(
            tx: &mut sqlx::Transaction<'_, <campaign_sql::R as sqlx::Row>::Database>,
            id: quan_domain::CampaignId,
            now_ms: i64,
        ) -> Result<(), quan_store::StoreError> {
            let n = sqlx::query(
                "UPDATE campaigns SET updated_at_ms = $2
                 WHERE id = $1 AND status = 'draft' AND funded_fen = 0 AND deleted_at_ms IS NULL",
            )
            .bind(id.as_uuid())
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(campaign_sql::err)?
            .rows_affected();
            if n == 1 { Ok(()) } else { Err(quan_store::StoreError::Conflict { what: "not_a_draft" }) }
        }

        #[async_trait::async_trait]
        impl quan_store::CampaignDraftStore for $store {
            async fn replace_draft(
                &self,
                c: &quan_store::Campaign,
                batches: &[quan_store::Batch],
                events: &[quan_store::CampaignEvent],
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::{err, ms, to_json};
                let mut tx = self.pool().begin().await.map_err(err)?;
                lock_draft(&mut tx, c.id, ms(c.updated_at)).await?;
                for sql in [
                    "DELETE FROM batch_stock WHERE batch_id IN (SELECT id FROM batches WHERE campaign_id = $1)",
                    "DELETE FROM batch_kinds WHERE batch_id IN (SELECT id FROM batches WHERE campaign_id = $1)",
                    "DELETE FROM batches WHERE campaign_id = $1",
                ] {
                    sqlx::query(sql).bind(c.id.as_uuid()).execute(&mut *tx).await.map_err(err)?;
                }
                sqlx::query(
                    "UPDATE campaigns SET name = $2, region = $3, spec_json = $4, budget_fen = $5, committed_fen = 0
                     WHERE id = $1",
                )
                .bind(c.id.as_uuid())
                .bind(&c.spec.name)
                .bind(c.spec.region.as_str())
                .bind(to_json(&c.spec)?)
                .bind(c.spec.budget_fen.as_i64())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                for b in batches {
                    insert_batch_row(&mut tx, b, ms(c.updated_at)).await?;
                }
                for e in events {
                    insert_event(&mut tx, e).await?;
                }
                tx.commit().await.map_err(err)
            }

            async fn delete_draft(
                &self,
                id: quan_domain::CampaignId,
                event: &quan_store::CampaignEvent,
            ) -> Result<(), quan_store::StoreError> {
                use campaign_sql::{err, ms};
                let mut tx = self.pool().begin().await.map_err(err)?;
                lock_draft(&mut tx, id, ms(event.at)).await?;
                sqlx::query("UPDATE campaigns SET deleted_at_ms = $2 WHERE id = $1")
                    .bind(id.as_uuid())
                    .bind(ms(event.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                insert_event(&mut tx, event).await?;
                tx.commit().await.map_err(err)
            }
        }
    };
}
