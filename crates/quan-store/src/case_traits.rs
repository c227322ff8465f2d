//! Risk cases in the store: opened by the nightly analysis or an operator,
//! worked with recorded actions, closed with an outcome; and what the
//! analysis reads (the redemptions' pairs, the claims' ages, the catalogue's
//! price history).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::{CampaignId, Fen, MerchantId, ResidentId, UserId};

use crate::StoreError;

/// A merchant, resident or product a case names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CaseMember {
    /// `merchant`, `resident` or `product`.
    pub kind: &'static str,
    pub id: String,
}

/// A case as the analysis or an operator opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub id: uuid::Uuid,
    /// `merchant`, `resident`, `product` or `ring`.
    pub kind: &'static str,
    /// One open case per subject (`ring:<merchants>`, `cohort:<hour>`, …).
    pub subject: String,
    pub source: String,
    pub district: String,
    pub campaign: Option<CampaignId>,
    pub score: i64,
    pub summary: String,
    /// JSON.
    pub evidence: String,
    pub amount: Fen,
    pub members: Vec<CaseMember>,
    pub at: DateTime<Utc>,
}

/// One recorded action on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseAction {
    pub seq: i64,
    /// `opened`, `found_again`, `hold_settlement`, `release_settlement`,
    /// `suspend_merchants`, `freeze_vouchers`, `release_vouchers`, `closed`.
    pub action: String,
    /// `None`: the analysis.
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
    pub note: String,
    /// JSON of what it did.
    pub detail: String,
}

/// A case as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskCase {
    pub id: uuid::Uuid,
    pub number: i64,
    pub kind: String,
    pub subject: String,
    pub source: String,
    pub district: String,
    pub campaign: Option<CampaignId>,
    pub score: i64,
    pub summary: String,
    pub evidence: String,
    pub amount: Fen,
    /// `open` or `closed`.
    pub status: String,
    pub outcome: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub members: Vec<CaseMember>,
    pub actions: Vec<CaseAction>,
    /// Merchants whose settlement this case holds now.
    pub settlement_held: Vec<MerchantId>,
    /// Vouchers this case keeps frozen now, and their face.
    pub frozen_vouchers: u32,
    pub frozen_fen: Fen,
}

/// What an action does besides being recorded (in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEffect {
    /// Nothing but the record (a note, a suspension done through the merchants' review).
    Record,
    HoldSettlement(Vec<MerchantId>),
    ReleaseSettlement,
    /// Freezes these residents' unused vouchers of any campaign.
    FreezeVouchers(Vec<ResidentId>),
    ReleaseVouchers,
    /// Closes the case with `fraud_confirmed` or `false_alarm`.
    Close(&'static str),
}

/// A case's open holds and freezes after an action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EffectDone {
    /// Merchants whose settlement was held or released by it.
    pub merchants: u32,
    /// Vouchers frozen or released by it, and their face.
    pub vouchers: u32,
    pub fen: Fen,
}

/// The redemptions of one resident at one merchant in a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedemptionFact {
    pub id: uuid::Uuid,
    pub resident: ResidentId,
    pub merchant: MerchantId,
    pub batch: quan_domain::BatchId,
    pub kind_code: String,
    pub face: Fen,
    pub order: Fen,
    pub subsidy: Fen,
    pub redeemed_at: DateTime<Utc>,
}

/// One account's claims in a campaign, for the hoarding analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimFact {
    pub resident: ResidentId,
    pub registered_at: DateTime<Utc>,
    /// Vouchers claimed before the cut-off given.
    pub claimed_aged: u32,
    pub redeemed: u32,
}

/// A catalogue product with its price history (oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPrices {
    pub merchant: MerchantId,
    pub sku: String,
    pub brand: String,
    pub model: String,
    pub history: Vec<(DateTime<Utc>, Fen)>,
}

/// A redemption's risk hold as the T+1 report counts it: its amounts
/// never change once held (`held`) or decided (`amount` at the decision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldFact {
    pub merchant: MerchantId,
    pub held: Fen,
    pub amount: Fen,
    pub held_at: DateTime<Utc>,
    /// `released` or `recovered`, and when.
    pub decided: Option<(String, DateTime<Utc>)>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Opens a case, or records `found_again` on the open case of the same
    /// subject (its evidence replaced, members it did not name added): the
    /// case's id and the members new to it (all of them when opened).
    async fn open_case(&self, c: &NewCase) -> Result<(uuid::Uuid, Vec<CaseMember>), StoreError>;
    /// Cases newest first (open ones only when `open_only`), without actions.
    async fn risk_cases(&self, open_only: bool, limit: u32) -> Result<Vec<RiskCase>, StoreError>;
    /// One case with its members and actions; `NotFound`.
    async fn risk_case(&self, id: uuid::Uuid) -> Result<RiskCase, StoreError>;
    /// Records `action` (its `seq` is assigned) and does `effect` in one
    /// transaction. `Conflict { what: "case_closed" }` on a closed case.
    async fn act_on_case(
        &self,
        case: uuid::Uuid,
        action: &CaseAction,
        effect: &CaseEffect,
    ) -> Result<EffectDone, StoreError>;
    /// Merchants whose settlement an open hold stops.
    async fn settlement_holds(&self) -> Result<Vec<MerchantId>, StoreError>;
    /// The campaign's standing redemptions from `from` until `until`.
    async fn redemption_facts(
        &self,
        campaign: CampaignId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RedemptionFact>, StoreError>;
    /// Every account that claimed in the campaign, with vouchers claimed
    /// before `aged_before` and vouchers redeemed.
    async fn claim_facts(&self, campaign: CampaignId, aged_before: DateTime<Utc>)
    -> Result<Vec<ClaimFact>, StoreError>;
    /// Every catalogue product with its price history.
    async fn product_prices(&self) -> Result<Vec<ProductPrices>, StoreError>;
    /// The campaign's risk holds held before `until`.
    async fn hold_facts(&self, campaign: CampaignId, until: DateTime<Utc>) -> Result<Vec<HoldFact>, StoreError>;
}
