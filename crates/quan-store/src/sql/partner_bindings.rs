//! Residents bound to partners in SQL (for `impl_binding_store!`).

/// Implements `BindingStore` for `$store` (which has `fn pool(&self)`).
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_binding_store {
    ($store:ty, $row:ty) => {
        mod binding_store {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::ResidentId;
            use quan_store::sql::{at, err, get};
            use quan_store::{Binding, StoreError};
            use sqlx::Row;
            use uuid::Uuid;

            #[async_trait::async_trait]
            impl quan_store::BindingStore for $store {
                async fn add_binding_code(
                    &self,
                    code_hash: &[u8],
                    partner: Uuid,
                    resident: ResidentId,
                    expires: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO partner_binding_codes (code_hash, partner_id, resident_id, expires_at_ms) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(code_hash)
                    .bind(partner)
                    .bind(resident.as_uuid())
                    .bind(expires.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(quan_store::sql::unique("binding_code"))?;
                    Ok(())
                }

                async fn use_binding_code(
                    &self,
                    code_hash: &[u8],
                    partner: Uuid,
                    now: DateTime<Utc>,
                ) -> Result<Option<ResidentId>, StoreError> {
                    let row = sqlx::query(
                        "UPDATE partner_binding_codes SET used_at_ms = $3
                         WHERE code_hash = $1 AND partner_id = $2 AND used_at_ms IS NULL AND expires_at_ms > $3
                         RETURNING resident_id",
                    )
                    .bind(code_hash)
                    .bind(partner)
                    .bind(now.timestamp_millis())
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    row.map(|r| get::<_, Uuid>(&r, "resident_id").map(ResidentId::from_uuid)).transpose()
                }

                async fn bind_resident(
                    &self,
                    partner: Uuid,
                    resident: ResidentId,
                    openid: &str,
                    when: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO partner_bindings (partner_id, resident_id, openid, created_at_ms) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (partner_id, resident_id) DO UPDATE SET revoked_at_ms = NULL, created_at_ms = excluded.created_at_ms",
                    )
                    .bind(partner)
                    .bind(resident.as_uuid())
                    .bind(openid)
                    .bind(when.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                async fn bound_resident(&self, partner: Uuid, openid: &str) -> Result<Option<ResidentId>, StoreError> {
                    let id: Option<Uuid> = sqlx::query_scalar(
                        "SELECT resident_id FROM partner_bindings WHERE partner_id = $1 AND openid = $2 AND revoked_at_ms IS NULL",
                    )
                    .bind(partner)
                    .bind(openid)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(id.map(ResidentId::from_uuid))
                }

                async fn bindings_of(&self, resident: ResidentId) -> Result<Vec<Binding>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT b.partner_id, p.name, b.created_at_ms FROM partner_bindings b JOIN partners p ON p.id = b.partner_id
                         WHERE b.resident_id = $1 AND b.revoked_at_ms IS NULL ORDER BY b.created_at_ms",
                    )
                    .bind(resident.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(Binding {
                                partner_id: get(r, "partner_id")?,
                                partner_name: get(r, "name")?,
                                created_at: at(get(r, "created_at_ms")?),
                            })
                        })
                        .collect()
                }

                async fn unbind_resident(
                    &self,
                    partner: Uuid,
                    resident: ResidentId,
                    when: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let n = sqlx::query(
                        "UPDATE partner_bindings SET revoked_at_ms = $3 WHERE partner_id = $1 AND resident_id = $2 AND revoked_at_ms IS NULL",
                    )
                    .bind(partner)
                    .bind(resident.as_uuid())
                    .bind(when.timestamp_millis())
                    .execute(self.pool())
                    .await
                    .map_err(err)?
                    .rows_affected();
                    Ok(n == 1)
                }
            }
        }
    };
}
