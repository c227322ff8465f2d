//! `MerchantStore` in SQL, for `impl_merchant_store!`.

/// Implements `MerchantStore` for `$store` (which has `fn pool(&self)`),
/// whose rows are `$row`.
// `crate::account_sql` is meant: `impl_account_stores!` expands it in the
// same backend crate.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_merchant_store {
    ($store:ty, $row:ty) => {
        mod merchant_sql {
            #![allow(unused_imports)]
            use super::*;

            use chrono::{DateTime, Utc};
            use quan_domain::merchant::{
                CreditCode, LatLng, MerchantStatus, ReviewAction, Scale, SettlementAccount, ValidApplication,
            };
            use quan_domain::{DistrictCode, Fen, Industry, MerchantId, PhoneNumber, Region, TillId, UserId};
            use quan_store::{Merchant, MerchantReview, PriceChange, Product, StoreError, Till, User};
            use sqlx::Row;
            use uuid::Uuid;

            type R = $row;
            type Tx<'a> = sqlx::Transaction<'a, <R as Row>::Database>;

            use quan_store::sql::err;

            use quan_store::sql::unique;

            use quan_store::sql::get;

            fn ms(t: DateTime<Utc>) -> i64 {
                t.timestamp_millis()
            }

            fn at(row: &R, col: &str) -> Result<DateTime<Utc>, StoreError> {
                let v: i64 = get(row, col)?;
                DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::message(format!("{col} out of range")))
            }

            fn bad(col: &str, v: &str) -> StoreError {
                StoreError::message(format!("stored {col} `{v}` is not valid"))
            }

            fn status(v: &str) -> Result<MerchantStatus, StoreError> {
                MerchantStatus::parse(v).ok_or_else(|| bad("status", v))
            }

            fn action_str(a: ReviewAction) -> &'static str {
                match a {
                    ReviewAction::Approve => "approve",
                    ReviewAction::Reject => "reject",
                    ReviewAction::Suspend => "suspend",
                    ReviewAction::Reinstate => "reinstate",
                }
            }

            fn action(v: &str) -> Result<ReviewAction, StoreError> {
                [ReviewAction::Approve, ReviewAction::Reject, ReviewAction::Suspend, ReviewAction::Reinstate]
                    .into_iter()
                    .find(|a| action_str(*a) == v)
                    .ok_or_else(|| bad("action", v))
            }

            pub(crate) const MERCHANT_COLS: &str =
                "id, legal_name, credit_code, industry, scale, address, district, lat, lng, contact_name, contact_phone,
                bank_name, account_name, account_number, status, status_reason, source, created_at_ms, updated_at_ms,
                contact_phone_hash, contact_phone_sealed";

            /// The contact phone as kept: masked, hashed and sealed; a row of
            /// an earlier version (no hash yet) still has the number itself.
            fn contact_phone(row: &R) -> Result<quan_domain::merchant::ContactPhone, StoreError> {
                use quan_domain::merchant::ContactPhone;
                let shown: String = get(row, "contact_phone")?;
                let hash: Option<Vec<u8>> = get(row, "contact_phone_hash")?;
                let sealed: Option<Vec<u8>> = get(row, "contact_phone_sealed")?;
                match (hash, sealed) {
                    (Some(h), Some(sealed)) => Ok(ContactPhone::Kept {
                        masked: shown,
                        hash: quan_domain::KeyedHash::from_slice(&h).ok_or_else(|| bad("contact_phone_hash", "?"))?,
                        sealed,
                    }),
                    _ => PhoneNumber::parse(&shown)
                        .map(ContactPhone::Given)
                        .map_err(|e| StoreError::message(e.to_string())),
                }
            }

            pub(crate) fn merchant(row: &R) -> Result<Merchant, StoreError> {
                let s = |c: &str| get::<_, String>(row, c);
                let lat: Option<f64> = get(row, "lat")?;
                let lng: Option<f64> = get(row, "lng")?;
                let app = ValidApplication {
                    legal_name: s("legal_name")?,
                    credit_code: CreditCode::parse(&s("credit_code")?)
                        .map_err(|e| StoreError::message(e.to_string()))?,
                    industry: Industry::parse(&s("industry")?).ok_or_else(|| bad("industry", "?"))?,
                    scale: Scale::parse(&s("scale")?).ok_or_else(|| bad("scale", "?"))?,
                    address: s("address")?,
                    district: DistrictCode::parse(&s("district")?).map_err(|e| StoreError::message(e.to_string()))?,
                    location: lat.zip(lng).map(|(lat, lng)| LatLng { lat, lng }),
                    contact_name: s("contact_name")?,
                    contact_phone: contact_phone(row)?,
                    settlement_account: SettlementAccount {
                        bank_name: s("bank_name")?,
                        account_name: s("account_name")?,
                        account_number: s("account_number")?,
                    },
                };
                Ok(Merchant {
                    id: MerchantId::from_uuid(get(row, "id")?),
                    app,
                    status: status(&s("status")?)?,
                    status_reason: s("status_reason")?,
                    source: s("source")?,
                    created_at: at(row, "created_at_ms")?,
                    updated_at: at(row, "updated_at_ms")?,
                })
            }

            pub(super) async fn insert_one(
                tx: &mut Tx<'_>,
                m: &Merchant,
                on_conflict_skip: bool,
            ) -> Result<u64, StoreError> {
                let a = &m.app;
                // Only a sealed phone is stored: the number never reaches the table.
                let quan_domain::merchant::ContactPhone::Kept { masked, hash, sealed } = &a.contact_phone else {
                    return Err(StoreError::message("a merchant's contact phone must be sealed before it is stored"));
                };
                let sql = format!(
                    "INSERT INTO merchants ({MERCHANT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21){}",
                    if on_conflict_skip { " ON CONFLICT (credit_code) DO NOTHING" } else { "" }
                );
                let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(m.id.as_uuid())
                    .bind(&a.legal_name)
                    .bind(a.credit_code.as_str())
                    .bind(a.industry.as_str())
                    .bind(a.scale.as_str())
                    .bind(&a.address)
                    .bind(a.district.as_str())
                    .bind(a.location.map(|l| l.lat))
                    .bind(a.location.map(|l| l.lng))
                    .bind(&a.contact_name)
                    .bind(masked)
                    .bind(&a.settlement_account.bank_name)
                    .bind(&a.settlement_account.account_name)
                    .bind(&a.settlement_account.account_number)
                    .bind(m.status.as_str())
                    .bind(&m.status_reason)
                    .bind(&m.source)
                    .bind(ms(m.created_at))
                    .bind(ms(m.updated_at))
                    .bind(&hash.as_bytes()[..])
                    .bind(&sealed[..])
                    .execute(&mut **tx)
                    .await
                    .map_err(unique("credit_code"))?;
                Ok(r.rows_affected())
            }

            fn review(row: &R) -> Result<MerchantReview, StoreError> {
                Ok(MerchantReview {
                    id: get(row, "id")?,
                    merchant_id: MerchantId::from_uuid(get(row, "merchant_id")?),
                    action: action(&get::<_, String>(row, "action")?)?,
                    from: status(&get::<_, String>(row, "from_status")?)?,
                    to: status(&get::<_, String>(row, "to_status")?)?,
                    reason: get(row, "reason")?,
                    actor: UserId::from_uuid(get(row, "actor")?),
                    at: at(row, "at_ms")?,
                })
            }

            fn till(row: &R) -> Result<Till, StoreError> {
                Ok(Till {
                    id: TillId::from_uuid(get(row, "id")?),
                    merchant_id: MerchantId::from_uuid(get(row, "merchant_id")?),
                    code: get(row, "code")?,
                    name: get(row, "name")?,
                    created_at: at(row, "created_at_ms")?,
                })
            }

            const PRODUCT_COLS: &str =
                "id, merchant_id, sku, brand, model, category, energy_class, list_price_fen, updated_at_ms";

            fn product(row: &R) -> Result<Product, StoreError> {
                Ok(Product {
                    id: get(row, "id")?,
                    merchant_id: MerchantId::from_uuid(get(row, "merchant_id")?),
                    sku: get(row, "sku")?,
                    brand: get(row, "brand")?,
                    model: get(row, "model")?,
                    category: get(row, "category")?,
                    energy_class: get(row, "energy_class")?,
                    list_price: Fen::new(get(row, "list_price_fen")?),
                    updated_at: at(row, "updated_at_ms")?,
                })
            }

            #[async_trait::async_trait]
            impl quan_store::MerchantStore for $store {
                async fn insert_merchant(&self, m: &Merchant, owner: Option<&User>) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    insert_one(&mut tx, m, false).await?;
                    if let Some(u) = owner {
                        crate::account_sql::insert_user_on(&mut tx, u).await?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn insert_merchants(&self, ms_: &[Merchant]) -> Result<u64, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let mut n = 0;
                    for m in ms_ {
                        n += insert_one(&mut tx, m, true).await?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(n)
                }

                async fn merchant_by_id(&self, id: MerchantId) -> Result<Merchant, StoreError> {
                    let sql = format!("SELECT {MERCHANT_COLS} FROM merchants WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(id.as_uuid())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    merchant(&row)
                }

                async fn list_merchants(
                    &self,
                    within: &Region,
                    st: Option<MerchantStatus>,
                    after: Option<MerchantId>,
                    limit: u32,
                    q: &quan_store::MerchantQuery<'_>,
                ) -> Result<Vec<Merchant>, StoreError> {
                    let search = q.search;
                    let sql = format!(
                        "SELECT {MERCHANT_COLS} FROM merchants
                         WHERE substr(district, 1, length($1)) = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR id > $3)
                           AND ($5 IS NULL OR lower(legal_name) LIKE $5 ESCAPE '\\' OR lower(address) LIKE $5 ESCAPE '\\'
                                OR lower(contact_name) LIKE $5 ESCAPE '\\' OR credit_code = upper($6))
                           AND ($7 IS NULL OR district = $7) AND ($8 IS NULL OR industry = $8) AND ($9 IS NULL OR scale = $9)
                         ORDER BY id LIMIT $4"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(within.as_str())
                        .bind(st.map(|s| s.as_str()))
                        .bind(after.map(|a| a.as_uuid()))
                        .bind(i64::from(limit))
                        .bind(search.map(quan_store::sql::contains_pattern))
                        .bind(search.map(str::trim))
                        .bind(q.district)
                        .bind(q.industry.map(|i| i.as_str()))
                        .bind(q.scale.map(|s| s.as_str()))
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(merchant).collect()
                }

                async fn merchants_with_clear_phone(
                    &self,
                    limit: u32,
                ) -> Result<Vec<(MerchantId, String)>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, contact_phone FROM merchants WHERE contact_phone_hash IS NULL ORDER BY id LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(|r| Ok((MerchantId::from_uuid(get(r, "id")?), get(r, "contact_phone")?))).collect()
                }

                async fn seal_merchant_phone(
                    &self,
                    id: MerchantId,
                    masked: &str,
                    hash: &quan_domain::KeyedHash,
                    sealed: &[u8],
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE merchants SET contact_phone = $2, contact_phone_hash = $3, contact_phone_sealed = $4
                         WHERE id = $1 AND contact_phone_hash IS NULL",
                    )
                    .bind(id.as_uuid())
                    .bind(masked)
                    .bind(&hash.as_bytes()[..])
                    .bind(sealed)
                    .execute(self.pool())
                    .await
                    .map_err(err)?;
                    Ok(())
                }

                async fn count_merchants(&self) -> Result<u64, StoreError> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM merchants")
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn review_merchant(&self, r: &MerchantReview) -> Result<(), StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let done = sqlx::query(
                        "UPDATE merchants SET status = $2, status_reason = $3, updated_at_ms = $4 WHERE id = $1 AND status = $5",
                    )
                    .bind(r.merchant_id.as_uuid())
                    .bind(r.to.as_str())
                    .bind(&r.reason)
                    .bind(ms(r.at))
                    .bind(r.from.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict { what: "merchant_changed" });
                    }
                    sqlx::query(
                        "INSERT INTO merchant_reviews (id, merchant_id, action, from_status, to_status, reason, actor, at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(r.id)
                    .bind(r.merchant_id.as_uuid())
                    .bind(action_str(r.action))
                    .bind(r.from.as_str())
                    .bind(r.to.as_str())
                    .bind(&r.reason)
                    .bind(r.actor.as_uuid())
                    .bind(ms(r.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    tx.commit().await.map_err(err)
                }

                async fn merchant_reviews(&self, id: MerchantId) -> Result<Vec<MerchantReview>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, merchant_id, action, from_status, to_status, reason, actor, at_ms FROM merchant_reviews
                         WHERE merchant_id = $1 ORDER BY at_ms, id",
                    )
                    .bind(id.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(review).collect()
                }

                async fn insert_till(&self, t: &Till) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO tills (id, merchant_id, code, name, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(t.id.as_uuid())
                    .bind(t.merchant_id.as_uuid())
                    .bind(&t.code)
                    .bind(&t.name)
                    .bind(ms(t.created_at))
                    .execute(self.pool())
                    .await
                    .map_err(unique("till_code"))?;
                    Ok(())
                }

                async fn till_by_id(&self, id: TillId) -> Result<Till, StoreError> {
                    let row = sqlx::query("SELECT id, merchant_id, code, name, created_at_ms FROM tills WHERE id = $1")
                        .bind(id.as_uuid())
                        .fetch_one(self.pool())
                        .await
                        .map_err(err)?;
                    till(&row)
                }

                async fn tills(&self, m: MerchantId) -> Result<Vec<Till>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, merchant_id, code, name, created_at_ms FROM tills WHERE merchant_id = $1 ORDER BY code",
                    )
                    .bind(m.as_uuid())
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter().map(till).collect()
                }

                async fn upsert_product(&self, p: &Product, actor: UserId) -> Result<Product, StoreError> {
                    let mut tx = self.pool().begin().await.map_err(err)?;
                    let sql = format!("SELECT {PRODUCT_COLS} FROM products WHERE merchant_id = $1 AND sku = $2");
                    let existing = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(p.merchant_id.as_uuid())
                        .bind(&p.sku)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    let existing = existing.as_ref().map(product).transpose()?;
                    let id = existing.as_ref().map_or(p.id, |e| e.id);
                    sqlx::query(
                        "INSERT INTO products (id, merchant_id, sku, brand, model, category, energy_class, list_price_fen, updated_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                         ON CONFLICT (merchant_id, sku) DO UPDATE SET brand = excluded.brand, model = excluded.model,
                             category = excluded.category, energy_class = excluded.energy_class,
                             list_price_fen = excluded.list_price_fen, updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(id)
                    .bind(p.merchant_id.as_uuid())
                    .bind(&p.sku)
                    .bind(&p.brand)
                    .bind(&p.model)
                    .bind(&p.category)
                    .bind(&p.energy_class)
                    .bind(p.list_price.as_i64())
                    .bind(ms(p.updated_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    if existing.as_ref().is_none_or(|e| e.list_price != p.list_price) {
                        sqlx::query(
                            "INSERT INTO product_prices (product_id, price_fen, at_ms, actor) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(id)
                        .bind(p.list_price.as_i64())
                        .bind(ms(p.updated_at))
                        .bind(actor.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(Product { id, ..p.clone() })
                }

                async fn products(&self, m: MerchantId) -> Result<Vec<Product>, StoreError> {
                    let sql = format!("SELECT {PRODUCT_COLS} FROM products WHERE merchant_id = $1 ORDER BY sku");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(m.as_uuid())
                        .fetch_all(self.pool())
                        .await
                        .map_err(err)?;
                    rows.iter().map(product).collect()
                }

                async fn price_history(&self, m: MerchantId, sku: &str) -> Result<Vec<PriceChange>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT pp.price_fen, pp.at_ms, pp.actor FROM product_prices pp JOIN products p ON p.id = pp.product_id
                         WHERE p.merchant_id = $1 AND p.sku = $2 ORDER BY pp.at_ms",
                    )
                    .bind(m.as_uuid())
                    .bind(sku)
                    .fetch_all(self.pool())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(PriceChange {
                                price: Fen::new(get(r, "price_fen")?),
                                at: at(r, "at_ms")?,
                                actor: UserId::from_uuid(get(r, "actor")?),
                            })
                        })
                        .collect()
                }
            }
        }
    };
}
