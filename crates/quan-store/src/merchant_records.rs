//! Rows of the merchant aggregate.

use chrono::{DateTime, Utc};
use quan_domain::merchant::{MerchantStatus, ReviewAction, ValidApplication};
use quan_domain::{Fen, MerchantId, TillId, UserId};

#[derive(Debug, Clone, PartialEq)]
pub struct Merchant {
    pub id: MerchantId,
    pub app: ValidApplication,
    pub status: MerchantStatus,
    /// Why it was rejected or suspended; empty otherwise.
    pub status_reason: String,
    /// `application` (filed by the merchant) or `import` (a bureau's list).
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One review decision, kept forever: who, when, from what to what, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantReview {
    pub id: uuid::Uuid,
    pub merchant_id: MerchantId,
    pub action: ReviewAction,
    pub from: MerchantStatus,
    pub to: MerchantStatus,
    pub reason: String,
    pub actor: UserId,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Till {
    pub id: TillId,
    pub merchant_id: MerchantId,
    /// The merchant's own fixed name for it, e.g. `T01`.
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A catalogue item for trade-in kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: uuid::Uuid,
    pub merchant_id: MerchantId,
    pub sku: String,
    pub brand: String,
    pub model: String,
    pub category: String,
    /// e.g. `1` for China energy label grade 1.
    pub energy_class: String,
    pub list_price: Fen,
    pub updated_at: DateTime<Utc>,
}

/// A list price as it was from `at` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub price: Fen,
    pub at: DateTime<Utc>,
    pub actor: UserId,
}

/// Which merchants a list shows, besides their region and status.
#[derive(Debug, Clone, Copy, Default)]
pub struct MerchantQuery<'a> {
    /// Legal name, address or contact name containing it (any case), or the credit code.
    pub search: Option<&'a str>,
    /// Only this district (six digits).
    pub district: Option<&'a str>,
    pub industry: Option<quan_domain::Industry>,
    pub scale: Option<quan_domain::merchant::Scale>,
}

impl<'a> MerchantQuery<'a> {
    pub fn search(search: Option<&'a str>) -> MerchantQuery<'a> {
        MerchantQuery { search, ..MerchantQuery::default() }
    }
}
