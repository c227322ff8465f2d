//! Redemption at the till, in both directions, and refunds. The decisions
//! are the domain's (`quan_domain::redemption`, `quan_domain::code`); the
//! postings too (`quan_domain::postings`); this module loads the facts,
//! signs and checks the dynamic codes, and records each redemption or
//! refund with its ledger transfers in one transaction.

mod cache;
mod codes;
mod committer;
mod error;
mod preview;
mod redeem;
mod refund;

use chrono::{DateTime, Utc};
use quan_domain::postings::Posting;
use quan_domain::{Fen, Role, TillId};
use quan_store::{Redemption, Refund, StoreError, Transfer, Voucher};
use serde::Serialize;

pub use cache::REDEEM_CACHE_MS;
pub(crate) use cache::ReadCache;
pub use codes::CodeConfig;
pub(crate) use committer::Redeemer;
pub use committer::{REDEEM_BATCH_LEN_MAX, REDEEM_GATHER_US, REDEEM_QUEUE_LEN_MAX};
pub use error::RedemptionError;
pub use preview::Preview;
pub(crate) use redeem::Where;

use crate::Engine;
use crate::auth::Actor;

/// A code to show, and until when it is good.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCode {
    pub code: String,
    /// The end of its window (the page fetches the next one then).
    pub expires_at: DateTime<Utc>,
    pub refresh_s: u32,
}

/// One line of an order as the till sends it.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Fen,
}

/// The order a voucher is used on.
#[derive(Debug, Clone, Default)]
pub struct OrderInput {
    pub amount: Fen,
    /// The merchant's own order number; an order with one voucher already
    /// on it takes no second one-per-order voucher.
    pub order_ref: String,
    pub items: Vec<OrderLine>,
    /// Discounts added on top of the voucher by the payment platform
    /// (平台配套优惠) and by the merchant (商户让利); counted for the
    /// reports' leverage figures, not paid from the budget.
    pub platform_match: Fen,
    pub merchant_match: Fen,
}

/// A voucher's kind in its batch, and its own rule (its tier's, for a pack).
fn voucher_rule<'b>(
    batch: &'b quan_store::Batch,
    v: &Voucher,
) -> Result<(&'b quan_domain::batch::BatchKind, quan_domain::voucher_kind::Discount), StoreError> {
    let kind = batch
        .spec
        .kinds
        .iter()
        .find(|k| k.kind.code == v.kind_code)
        .ok_or_else(|| StoreError::message(format!("voucher {} names a kind its batch lacks", v.id)))?;
    let discount = kind
        .kind
        .discount
        .pack()
        .get(v.tier as usize)
        .cloned()
        .ok_or_else(|| StoreError::message(format!("voucher {} has no tier {}", v.id, v.tier)))?;
    Ok((kind, discount))
}

/// Order lines at most.
pub const ORDER_LINES_MAX: usize = 200;
/// Characters of an order reference at most.
pub const ORDER_REF_LEN_MAX: usize = 64;
/// Redemptions returned by one poll of a till at most.
pub const TILL_POLL_LEN_MAX: u32 = 200;

impl Engine {
    /// A redemption, for the merchant that took it (owner or any of its
    /// cashiers), the resident who used it, or staff of its campaign's region.
    pub async fn redemption(&self, actor: &Actor, id: uuid::Uuid) -> Result<Redemption, RedemptionError> {
        let r = self.store().redemption_by_id(id).await?;
        self.may_see(actor, &r).await?;
        Ok(r)
    }

    async fn may_see(&self, actor: &Actor, r: &Redemption) -> Result<(), RedemptionError> {
        let ok = match actor {
            Actor::Resident { resident, .. } => resident.id == r.resident_id,
            Actor::Staff { user, .. } => match user.role {
                Role::Cashier | Role::MerchantOwner => user.merchant == Some(r.merchant_id),
                Role::Official | Role::Auditor | Role::Operator => {
                    let c = self.store().campaign_by_id(r.campaign_id).await?;
                    user.region.contains(&c.spec.region)
                }
                _ => false,
            },
        };
        if ok { Ok(()) } else { Err(RedemptionError::NotFound) }
    }

    /// A till's redemptions since an instant: how the till sees, live, a
    /// redemption the resident made by scanning its code.
    pub async fn till_redemptions(
        &self,
        actor: &Actor,
        till: TillId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Redemption>, RedemptionError> {
        self.own_till(actor, till).await?;
        Ok(self.store().redemptions_at_till(till, since, TILL_POLL_LEN_MAX).await?)
    }

    /// The refunds of a redemption, oldest first.
    pub async fn refunds(&self, actor: &Actor, id: uuid::Uuid) -> Result<Vec<Refund>, RedemptionError> {
        let r = self.store().redemption_by_id(id).await?;
        self.may_see(actor, &r).await?;
        Ok(self.store().refunds_of(id).await?)
    }

    /// A ledger transfer of `p`, with a fresh id, under `reference` at `now`.
    pub(crate) fn transfer(&self, p: Posting, reference: &str, now: DateTime<Utc>) -> Transfer {
        Transfer {
            id: self.new_uuid(),
            debit: p.debit,
            credit: p.credit,
            amount: p.amount,
            reason: p.reason,
            reference: reference.to_string(),
            at: now,
        }
    }
}
