//! Redemptions and refunds.

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{BatchId, CampaignId, Fen, MerchantId, ResidentId, TillId, UserId};

/// Who showed the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// 用户出示、商家扫码: the cashier scanned the resident's voucher code.
    ResidentShows,
    /// 商家出示、用户扫码: the resident scanned the till's code.
    MerchantShows,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ResidentShows => "resident_shows",
            Direction::MerchantShows => "merchant_shows",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        [Direction::ResidentShows, Direction::MerchantShows].into_iter().find(|d| d.as_str() == s)
    }
}

/// One use of a voucher on an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub id: uuid::Uuid,
    pub voucher_id: uuid::Uuid,
    pub campaign_id: CampaignId,
    pub batch_id: BatchId,
    pub kind_code: String,
    pub resident_id: ResidentId,
    pub merchant_id: MerchantId,
    pub till_id: Option<TillId>,
    pub cashier_id: Option<UserId>,
    pub direction: Direction,
    /// The merchant's own order number (for reconciliation and the
    /// one-voucher-per-order rule); may be empty.
    pub order_ref: String,
    pub order: Fen,
    pub basis: Fen,
    pub discount: Fen,
    pub face: Fen,
    /// Subsidy standing after refunds.
    pub subsidy: Fen,
    /// Order amount refunded so far.
    pub refunded: Fen,
    /// Matching discounts added on top of the voucher by the payment
    /// platform and by the merchant, as given at redemption (memo figures).
    pub platform_match: Fen,
    pub merchant_match: Fen,
    /// Standing, or reversed once a full refund returned the voucher.
    pub state: quan_domain::redemption::RedemptionState,
    pub business_day: NaiveDate,
    pub redeemed_at: DateTime<Utc>,
    /// The `reference` of the ledger transfers that posted this redemption:
    /// a commit posts its redemptions together (`redemptions:<id of the
    /// first redemption of the commit>`, one transfer per pair of accounts),
    /// so an auditor sums the redemptions with one reference to check its
    /// transfers. `redemption:<id>` for redemptions recorded before postings
    /// were batched (one transfer each). Empty until committed.
    pub ledger_ref: String,
    /// Held for a risk review (`risk_holds`): set by the redemption path
    /// when the cash-out rules hold it, read back with the redemption.
    pub risk: Option<RiskMark>,
}

/// A redemption's risk hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskMark {
    /// Held at the redemption, and still held (a refund lowers it).
    pub held: Fen,
    pub still_held: Fen,
    /// The rules met (codes, comma-separated) and their summed score.
    pub rules: String,
    pub score: u32,
    /// `released` or `recovered`, once an operator decided.
    pub outcome: Option<String>,
}

impl RiskMark {
    /// What of the subsidy the merchant's risk-held account holds for it now.
    pub fn holding(&self) -> Fen {
        if self.outcome.is_none() { self.still_held } else { Fen::ZERO }
    }
}

/// One refund of (part of) a redeemed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: uuid::Uuid,
    pub redemption_id: uuid::Uuid,
    pub amount: Fen,
    pub subsidy_returned: Fen,
    pub voucher_back: bool,
    pub actor: UserId,
    pub business_day: NaiveDate,
    pub at: DateTime<Utc>,
}

/// One merchant's settlement for one campaign and business day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub id: uuid::Uuid,
    pub business_day: NaiveDate,
    pub campaign_id: CampaignId,
    pub merchant_id: MerchantId,
    /// What the bank is told to pay (`paid`), or what is held (`held`).
    pub amount: Fen,
    /// `paid`, `held`, `recovered` (everything went to what the merchant
    /// owed back), `confirmed` or `mismatch`.
    pub status: String,
    pub hold_reason: String,
    pub confirmed: Option<Fen>,
    pub bank_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Netted against what the merchant owed back (refunds after payment).
    pub recovered: Fen,
    /// Held earlier and paid with this row.
    pub released: Fen,
}

/// What the ledger says a merchant has earned in a campaign up to an
/// instant, and what it has been paid in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owed {
    pub campaign_id: CampaignId,
    pub merchant_id: MerchantId,
    /// Subsidy credited by redemptions before the instant.
    pub earned: i128,
    /// Subsidy taken back by refunds before the instant.
    pub refunded: i128,
    /// Moved out by settlements (paid, held or netted), ever.
    pub paid: i128,
    /// The payable account's balance now (refunds after the instant included).
    pub balance: i128,
    /// The merchant's held account's balance now.
    pub held: i128,
    /// The merchant's recoverable account's balance now (zero or below).
    pub recoverable: i128,
}

/// What a merchant's standing redemptions of a campaign still earn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerchantEarned {
    pub merchant_id: MerchantId,
    /// Subsidy (redeemed − refunded).
    pub subsidy: i128,
    /// Matching discounts standing (in proportion to the order not refunded).
    pub platform_match: i128,
    pub merchant_match: i128,
}
