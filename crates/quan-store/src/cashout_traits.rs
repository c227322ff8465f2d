//! What risk control after the grab adds to the store: redemptions held
//! for a review, and the operator's decision on each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::UserId;

use crate::{Redemption, StoreError, Transfer};

/// An operator's decision on a risk hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldDecision {
    pub redemption_id: uuid::Uuid,
    /// `released` or `recovered`.
    pub outcome: &'static str,
    pub by: UserId,
    pub at: DateTime<Utc>,
    pub note: String,
    /// The amount still held the decision was made on (a refund in between
    /// changes it: `Conflict { what: "hold_changed" }`).
    pub amount: quan_domain::Fen,
}

#[async_trait]
pub trait CashoutStore: Send + Sync {
    /// Held redemptions not decided yet that still hold money (a refund may
    /// have taken it all back), oldest first, at most `limit`.
    async fn open_risk_holds(&self, limit: u32) -> Result<Vec<Redemption>, StoreError>;
    /// Decides a hold and posts `transfers` (release or recovery of its
    /// amount) in one transaction. `NotFound` for no hold;
    /// `Conflict { what: "hold_decided" }` when it was decided already;
    /// `Conflict { what: "hold_changed" }` when its amount moved.
    async fn decide_risk_hold(&self, d: &HoldDecision, transfers: &[Transfer]) -> Result<(), StoreError>;
}
