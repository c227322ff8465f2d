//! `MerchantAlikeStore` in SQL, for `impl_merchant_alike_store!`.

/// Implements `MerchantAlikeStore` for `$store`; expanded after
/// `impl_merchant_store!`, whose row reader it reuses.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_merchant_alike_store {
    ($store:ty, $row:ty) => {
        #[async_trait::async_trait]
        impl quan_store::MerchantAlikeStore for $store {
            async fn merchants_alike(
                &self,
                id: quan_domain::MerchantId,
            ) -> Result<Vec<(quan_store::Merchant, [bool; 3])>, quan_store::StoreError> {
                use quan_store::sql::{err, get};
                let cols = crate::merchant_sql::MERCHANT_COLS
                    .split(',')
                    .map(|c| format!("o.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT {cols},
                         CASE WHEN o.account_number = m.account_number THEN 1 ELSE 0 END AS same_account,
                         CASE WHEN o.contact_phone_hash = m.contact_phone_hash THEN 1 ELSE 0 END AS same_phone,
                         CASE WHEN lower(trim(o.address)) = lower(trim(m.address)) THEN 1 ELSE 0 END AS same_address
                     FROM merchants m JOIN merchants o ON o.id <> m.id
                       AND (o.account_number = m.account_number OR o.contact_phone_hash = m.contact_phone_hash
                            OR lower(trim(o.address)) = lower(trim(m.address)))
                     WHERE m.id = $1 ORDER BY o.id LIMIT 20"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                rows.iter()
                    .map(|r| {
                        let flag = |c: &str| -> Result<bool, quan_store::StoreError> { Ok(get::<_, i32>(r, c)? != 0) };
                        Ok((
                            crate::merchant_sql::merchant(r)?,
                            [flag("same_account")?, flag("same_phone")?, flag("same_address")?],
                        ))
                    })
                    .collect()
            }
        }
    };
}

/// Implements `TransferSearchStore` for `$store`; expanded after
/// `impl_ledger_store!`, whose transfer reader it reuses.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_transfer_search_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl quan_store::TransferSearchStore for $store {
            async fn transfers_by_reference(
                &self,
                campaign: quan_domain::CampaignId,
                reference: &str,
                limit: u32,
            ) -> Result<Vec<quan_store::Transfer>, quan_store::StoreError> {
                crate::ledger_sql::transfers_where(self.pool(), campaign, None, Some(reference), limit).await
            }
        }
    };
}
