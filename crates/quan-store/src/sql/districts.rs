//! `DistrictStore` in SQL, for `impl_district_store!`.

/// Implements `DistrictStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`.
// `crate::…` is meant: those modules are expanded by the sibling macros
// in the same backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_district_store {
    ($store:ty, $row:ty) => {
        mod district_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::DistrictCode;
            use quan_domain::geo::Crs;
            use quan_store::{DistrictBoundary, StoreError};
            use sqlx::Row;

            type R = $row;

            use quan_store::sql::err;

            use quan_store::sql::get;

            fn boundary(row: &R) -> Result<DistrictBoundary, StoreError> {
                let code: String = get(row, "code")?;
                let crs: String = get(row, "crs")?;
                let at: i64 = get(row, "imported_at_ms")?;
                Ok(DistrictBoundary {
                    code: DistrictCode::parse(&code).map_err(|e| StoreError::message(e.to_string()))?,
                    name: get(row, "name")?,
                    crs: Crs::parse(&crs)
                        .ok_or_else(|| StoreError::message(format!("stored crs `{crs}` is not valid")))?,
                    geometry_json: get(row, "geometry_json")?,
                    version: get(row, "version")?,
                    imported_at: DateTime::from_timestamp_millis(at)
                        .ok_or_else(|| StoreError::message("imported_at out of range"))?,
                    source: get(row, "source")?,
                })
            }

            #[async_trait::async_trait]
            impl quan_store::DistrictStore for $store {
                async fn import_districts(
                    &self,
                    ds: &[DistrictBoundary],
                    at: DateTime<Utc>,
                ) -> Result<(u64, u64), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let (mut new, mut replaced) = (0, 0);
                    for d in ds {
                        let moved = sqlx::query(
                            "INSERT INTO district_history (code, version, name, crs, geometry_json, imported_at_ms, replaced_at_ms, source)
                             SELECT code, version, name, crs, geometry_json, imported_at_ms, $2, source FROM districts WHERE code = $1",
                        )
                        .bind(d.code.as_str())
                        .bind(at.timestamp_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?
                        .rows_affected();
                        sqlx::query(
                            "INSERT INTO districts (code, name, crs, geometry_json, version, imported_at_ms, source)
                             VALUES ($1, $2, $3, $4, 1, $5, $6)
                             ON CONFLICT (code) DO UPDATE SET name = excluded.name, crs = excluded.crs,
                                 geometry_json = excluded.geometry_json, version = districts.version + 1,
                                 imported_at_ms = excluded.imported_at_ms, source = excluded.source",
                        )
                        .bind(d.code.as_str())
                        .bind(&d.name)
                        .bind(d.crs.as_str())
                        .bind(&d.geometry_json)
                        .bind(at.timestamp_millis())
                        .bind(&d.source)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                        if moved > 0 { replaced += 1 } else { new += 1 }
                    }
                    tx.commit().await.map_err(err)?;
                    Ok((new, replaced))
                }

                async fn districts(&self) -> Result<Vec<DistrictBoundary>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT code, name, crs, geometry_json, version, imported_at_ms, source FROM districts ORDER BY code",
                    )
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(boundary).collect()
                }

                async fn district_history(&self, code: &DistrictCode) -> Result<Vec<DistrictBoundary>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT code, name, crs, geometry_json, version, imported_at_ms, source FROM district_history
                         WHERE code = $1 ORDER BY version",
                    )
                    .bind(code.as_str())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(boundary).collect()
                }
            }
        }
    };
}
