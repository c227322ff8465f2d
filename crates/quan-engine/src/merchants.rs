//! Merchants: applications, bulk imports, review, tills, cashiers and the
//! product catalogue.

use std::collections::HashSet;

use quan_domain::merchant::{MerchantApplication, MerchantStatus, ReviewAction, review};
use quan_domain::{Fen, Invalid, MerchantId, Region, Role, TillId, UserId, Username};
use quan_store::{Merchant, MerchantReview, PriceChange, Product, StoreError, Till, User};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status, whole_seconds};

#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("no such merchant, till or product")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error("a merchant with this unified social credit code is already registered")]
    CreditCodeTaken,
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("the till code `{0}` is already used by this merchant")]
    TillCodeTaken(String),
    #[error("someone else changed this merchant at the same moment; read it again and retry")]
    Concurrent,
    #[error("too many applications from this client; try again in {0} s")]
    TooManyRequests(u64),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for MerchantError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => MerchantError::NotFound,
            e => MerchantError::Store(e),
        }
    }
}

impl Rejection for MerchantError {
    fn status(&self) -> Status {
        match self {
            MerchantError::Invalid(_) => Status::Unprocessable,
            MerchantError::NotFound => Status::NotFound,
            MerchantError::Forbidden => Status::Forbidden,
            MerchantError::CreditCodeTaken
            | MerchantError::UsernameTaken(_)
            | MerchantError::TillCodeTaken(_)
            | MerchantError::Concurrent => Status::Conflict,
            MerchantError::TooManyRequests(_) => Status::TooManyRequests,
            MerchantError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            MerchantError::Invalid(i) => i.rule,
            MerchantError::NotFound => "not_found",
            MerchantError::Forbidden => "forbidden",
            MerchantError::CreditCodeTaken => "credit_code_taken",
            MerchantError::UsernameTaken(_) => "username_taken",
            MerchantError::TillCodeTaken(_) => "till_code_taken",
            MerchantError::Concurrent => "concurrent_change",
            MerchantError::TooManyRequests(_) => "too_many_requests",
            MerchantError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            MerchantError::Invalid(i) => Some(&i.field),
            _ => None,
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            MerchantError::TooManyRequests(s) => Some(*s),
            _ => None,
        }
    }
}

fn invalid(e: Invalid) -> MerchantError {
    MerchantError::Invalid(e)
}

/// The owner account filed with an application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerAccount {
    pub username: String,
    pub password: String,
    pub display_name: String,
}

/// What a catalogue item is, as the owner submits it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    pub brand: String,
    pub model: String,
    pub category: String,
    pub energy_class: String,
    pub list_price_fen: Fen,
}

/// One rejected row of an import: the line of the file, the field, the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// Running totals of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportTotals {
    pub rows: usize,
    pub inserted: u64,
    pub already_present: u64,
    pub errors: Vec<RowError>,
}

/// Imports a file in chunks; remembers the credit codes it has seen so a
/// code repeated within one file is reported, not silently merged.
#[derive(Debug)]
pub struct MerchantImport {
    actor_region: Region,
    status: MerchantStatus,
    seen: HashSet<String>,
    pub totals: ImportTotals,
}

impl Engine {
    fn staff_region(actor: &Actor) -> Option<&Region> {
        match actor {
            Actor::Staff { user, .. } if user.role.is_region_scoped() => Some(&user.region),
            _ => None,
        }
    }

    /// The district of a merchant comes from its location where boundaries
    /// are imported (locations are taken as GCJ-02, what map pickers give),
    /// else from the code of its address.
    fn place(&self, mut app: quan_domain::merchant::ValidApplication) -> quan_domain::merchant::ValidApplication {
        if let Some(l) = app.location {
            let p = crate::districts::Position {
                lng: l.lng,
                lat: l.lat,
                crs: quan_domain::geo::Crs::Gcj02,
                accuracy_m: None,
            };
            if let Ok(crate::districts::Located::Inside(code)) = self.locate(&p) {
                app.district = code;
            }
        }
        app
    }

    fn new_merchant(
        &self,
        app: quan_domain::merchant::ValidApplication,
        status: MerchantStatus,
        source: &str,
    ) -> Merchant {
        let mut app = self.place(app);
        app.contact_phone = self.keep_phone(app.contact_phone);
        let now = self.now();
        Merchant {
            id: MerchantId::from_uuid(self.new_uuid()),
            app,
            status,
            status_reason: String::new(),
            source: source.into(),
            created_at: now,
            updated_at: now,
        }
    }

    /// A merchant applies to join and gets an owner account at once (it can
    /// log in to follow the review). `client` is its address, for rate limits.
    pub async fn apply_merchant(
        &self,
        app: &MerchantApplication,
        owner: &OwnerAccount,
        client: &str,
    ) -> Result<(Merchant, User), MerchantError> {
        if let Err(wait) = self.inner.application_limiter.check(client, self.now()) {
            return Err(MerchantError::TooManyRequests(whole_seconds(wait)));
        }
        let valid = app.validate().map_err(invalid)?;
        let username = Username::parse(&owner.username)
            .map_err(|e| invalid(Invalid::new("owner.username", "bad_username", e.to_string())))?;
        self.check_password(&owner.password)
            .map_err(|e| invalid(Invalid::new("owner.password", "password_too_short", e.to_string())))?;
        let display_name =
            quan_domain::invalid::text("owner.display_name", &owner.display_name, 64).map_err(invalid)?;
        let m = self.new_merchant(valid, MerchantStatus::Pending, "application");
        let region = Region::parse(m.app.district.as_str())
            .map_err(|e| invalid(Invalid::new("address_district", "bad_district_code", e.to_string())))?;
        let user = User {
            id: UserId::from_uuid(self.new_uuid()),
            username,
            role: Role::MerchantOwner,
            region,
            display_name,
            password_hash: self.hash_password_blocking(owner.password.clone()).await,
            disabled: false,
            created_at: self.now(),
            created_by: None,
            merchant: Some(m.id),
            till: None,
        };
        match self.store().insert_merchant(&m, Some(&user)).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "credit_code" }) => return Err(MerchantError::CreditCodeTaken),
            Err(StoreError::Conflict { .. }) => return Err(MerchantError::UsernameTaken(user.username.to_string())),
            Err(e) => return Err(e.into()),
        }
        let back = self.store().merchant_by_id(m.id).await?;
        assert_eq!(back, m, "a stored merchant must read back as written");
        tracing::info!(merchant_id = %m.id, district = %m.app.district, "merchant applied");
        Ok((m, user))
    }

    /// Starts an import by an official or operator; rows outside their region
    /// are refused row by row. `approved` imports a bureau's vetted list as
    /// approved merchants, otherwise they wait for review.
    pub fn start_import(&self, actor: &Actor, approved: bool) -> Result<MerchantImport, MerchantError> {
        let region = Self::staff_region(actor)
            .filter(|_| matches!(actor.role(), Role::Official | Role::Operator))
            .ok_or(MerchantError::Forbidden)?;
        let status = if approved { MerchantStatus::Approved } else { MerchantStatus::Pending };
        Ok(MerchantImport {
            actor_region: region.clone(),
            status,
            seen: HashSet::new(),
            totals: ImportTotals::default(),
        })
    }

    /// Imports one chunk of `(line, row)` in one transaction: valid rows go
    /// in (those already registered are counted, not duplicated), invalid
    /// rows are reported with their line, field and rule.
    pub async fn import_chunk(
        &self,
        import: &mut MerchantImport,
        rows: Vec<(usize, Result<MerchantApplication, RowError>)>,
    ) -> Result<(), MerchantError> {
        let mut batch = Vec::with_capacity(rows.len());
        for (line, row) in rows {
            import.totals.rows += 1;
            let app = match row {
                Ok(a) => a,
                Err(e) => {
                    import.totals.errors.push(e);
                    continue;
                }
            };
            let refuse = |e: Invalid| RowError { line, field: e.field, rule: e.rule.into(), message: e.message };
            let valid = match app.validate() {
                Ok(v) => v,
                Err(e) => {
                    import.totals.errors.push(refuse(e));
                    continue;
                }
            };
            let valid = self.place(valid);
            if !import.actor_region.contains_district(&valid.district) {
                let msg = format!("{} is outside your region {}", valid.district, import.actor_region);
                import.totals.errors.push(refuse(Invalid::new("address_district", "district_outside_region", msg)));
                continue;
            }
            if !import.seen.insert(valid.credit_code.as_str().to_owned()) {
                let msg = "this credit code appears on an earlier line of the file".to_owned();
                import.totals.errors.push(refuse(Invalid::new("credit_code", "duplicate_in_file", msg)));
                continue;
            }
            batch.push(self.new_merchant(valid, import.status, "import"));
        }
        let inserted = self.store().insert_merchants(&batch).await?;
        import.totals.inserted += inserted;
        import.totals.already_present += batch.len() as u64 - inserted;
        Ok(())
    }

    /// Staff see merchants in their region; owners and cashiers their own.
    pub async fn get_merchant(&self, actor: &Actor, id: MerchantId) -> Result<Merchant, MerchantError> {
        let m = self.store().merchant_by_id(id).await?;
        let visible = match actor {
            Actor::Staff { user, .. } if user.role.is_region_scoped() => user.region.contains_district(&m.app.district),
            Actor::Staff { user, .. } => user.merchant == Some(id),
            Actor::Resident { .. } => false,
        };
        if visible { Ok(m) } else { Err(MerchantError::NotFound) }
    }

    /// Merchants of my region by status, narrowed by `q` (its search cut to
    /// [`crate::SEARCH_CHARS_MAX`] characters).
    pub async fn list_merchants(
        &self,
        actor: &Actor,
        status: Option<MerchantStatus>,
        after: Option<MerchantId>,
        limit: u32,
        q: &quan_store::MerchantQuery<'_>,
    ) -> Result<Vec<Merchant>, MerchantError> {
        let region = Self::staff_region(actor).ok_or(MerchantError::Forbidden)?;
        let q = quan_store::MerchantQuery { search: crate::search_text(q.search), ..*q };
        Ok(self.store().list_merchants(region, status, after, limit.clamp(1, crate::LIST_LEN_MAX), &q).await?)
    }

    /// Operators approve, reject, suspend and reinstate; officials may also
    /// suspend (freeze) a merchant. Every decision is kept with who and when.
    pub async fn review_merchant(
        &self,
        actor: &Actor,
        id: MerchantId,
        action: ReviewAction,
        reason: &str,
    ) -> Result<Merchant, MerchantError> {
        let allowed = match actor.role() {
            Role::Operator => true,
            Role::Official => action == ReviewAction::Suspend,
            _ => false,
        };
        if !allowed || Self::staff_region(actor).is_none() {
            return Err(MerchantError::Forbidden);
        }
        let m = self.get_merchant(actor, id).await?;
        let to = review(m.status, action, Some(reason)).map_err(invalid)?;
        let Actor::Staff { user, .. } = actor else { return Err(MerchantError::Forbidden) };
        let r = MerchantReview {
            id: self.new_uuid(),
            merchant_id: id,
            action,
            from: m.status,
            to,
            reason: reason.trim().into(),
            actor: user.id,
            at: self.now(),
        };
        match self.store().review_merchant(&r).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Err(MerchantError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        // Redemption on this node sees a suspension at once (other nodes within a second).
        self.forget_merchant(id);
        tracing::info!(merchant_id = %id, from = m.status.as_str(), to = to.as_str(), by = %user.id, "merchant reviewed");
        Ok(self.store().merchant_by_id(id).await?)
    }

    pub async fn merchant_reviews(&self, actor: &Actor, id: MerchantId) -> Result<Vec<MerchantReview>, MerchantError> {
        self.get_merchant(actor, id).await?;
        Ok(self.store().merchant_reviews(id).await?)
    }

    /// The owner of `id`, or Forbidden.
    pub(crate) fn owner_of(actor: &Actor, id: MerchantId) -> Result<&User, MerchantError> {
        match actor {
            Actor::Staff { user, .. } if user.role == Role::MerchantOwner && user.merchant == Some(id) => Ok(user),
            _ => Err(MerchantError::Forbidden),
        }
    }

    pub async fn create_till(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        code: &str,
        name: &str,
    ) -> Result<Till, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        Self::owner_of(actor, merchant)?;
        let code_ok =
            !code.is_empty() && code.len() <= 16 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !code_ok {
            return Err(invalid(Invalid::new("code", "bad_till_code", "1 to 16 letters, digits or '-'")));
        }
        let name = quan_domain::invalid::text("name", name, 64).map_err(invalid)?;
        let t = Till {
            id: TillId::from_uuid(self.new_uuid()),
            merchant_id: merchant,
            code: code.into(),
            name,
            created_at: self.now(),
        };
        match self.store().insert_till(&t).await {
            Ok(()) => Ok(t),
            Err(StoreError::Conflict { .. }) => Err(MerchantError::TillCodeTaken(code.into())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn tills(&self, actor: &Actor, merchant: MerchantId) -> Result<Vec<Till>, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        Ok(self.store().tills(merchant).await?)
    }

    /// The owner creates a cashier account bound to one of its tills.
    pub async fn create_cashier(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        username: &str,
        display_name: &str,
        till: TillId,
        password: Option<String>,
    ) -> Result<(User, Option<String>), MerchantError> {
        let m = self.get_merchant(actor, merchant).await?;
        let owner = Self::owner_of(actor, merchant)?;
        let t = self
            .store()
            .till_by_id(till)
            .await
            .map_err(|_| invalid(Invalid::new("till_id", "unknown_till", "no such till at this merchant")))?;
        if t.merchant_id != merchant {
            return Err(invalid(Invalid::new("till_id", "unknown_till", "no such till at this merchant")));
        }
        let username =
            Username::parse(username).map_err(|e| invalid(Invalid::new("username", "bad_username", e.to_string())))?;
        let display_name = quan_domain::invalid::text("display_name", display_name, 64).map_err(invalid)?;
        let (password, generated) = match password {
            Some(p) => (p, None),
            None => {
                let p = self.generate_password();
                (p.clone(), Some(p))
            }
        };
        self.check_password(&password)
            .map_err(|e| invalid(Invalid::new("password", "password_too_short", e.to_string())))?;
        let user = User {
            id: UserId::from_uuid(self.new_uuid()),
            username,
            role: Role::Cashier,
            region: Region::parse(m.app.district.as_str())
                .map_err(|e| invalid(Invalid::new("district", "bad_district_code", e.to_string())))?,
            display_name,
            password_hash: self.hash_password_blocking(password).await,
            disabled: false,
            created_at: self.now(),
            created_by: Some(owner.id),
            merchant: Some(merchant),
            till: Some(till),
        };
        match self.store().insert_user(&user).await {
            Ok(()) => Ok((user, generated)),
            Err(StoreError::Conflict { .. }) => Err(MerchantError::UsernameTaken(user.username.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// The owner adds or updates a catalogue item; a new price is recorded
    /// in the item's price history.
    pub async fn upsert_product(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        sku: &str,
        spec: &ProductSpec,
    ) -> Result<Product, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        let owner = Self::owner_of(actor, merchant)?;
        let sku = quan_domain::invalid::text("sku", sku, 64).map_err(invalid)?;
        let t = |f: &str, v: &str| quan_domain::invalid::text(f, v, 64).map_err(invalid);
        if spec.list_price_fen <= Fen::ZERO || spec.list_price_fen > Fen::AMOUNT_MAX {
            return Err(invalid(Invalid::new("list_price_fen", "not_positive", "a list price is more than zero")));
        }
        let p = Product {
            id: self.new_uuid(),
            merchant_id: merchant,
            sku,
            brand: t("brand", &spec.brand)?,
            model: t("model", &spec.model)?,
            category: t("category", &spec.category)?,
            energy_class: t("energy_class", &spec.energy_class)?,
            list_price: spec.list_price_fen,
            updated_at: self.now(),
        };
        Ok(self.store().upsert_product(&p, owner.id).await?)
    }

    pub async fn products(&self, actor: &Actor, merchant: MerchantId) -> Result<Vec<Product>, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        Ok(self.store().products(merchant).await?)
    }

    pub async fn price_history(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        sku: &str,
    ) -> Result<Vec<PriceChange>, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        Ok(self.store().price_history(merchant, sku).await?)
    }
}
