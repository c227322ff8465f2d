//! Rows of the campaign aggregate: campaigns, their events, batches and
//! lottery registrations.

use chrono::{DateTime, Utc};
use quan_domain::batch::BatchSpec;
use quan_domain::campaign::{CampaignSpec, CampaignStatus};
use quan_domain::{BatchId, CampaignId, Fen, ResidentId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub spec: CampaignSpec,
    pub status: CampaignStatus,
    /// Money received from the treasury so far.
    pub funded: Fen,
    /// Σ face value of all batches: what the batches could cost at most.
    pub committed: Fen,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One recorded change of a campaign (its audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignEvent {
    pub id: uuid::Uuid,
    pub campaign_id: CampaignId,
    /// `created`, `funded`, `started`, `closing`, `closed`, `batch_created`, `batch_amended`, `lottery_drawn`.
    pub kind: String,
    pub amount: Option<Fen>,
    pub batch_id: Option<BatchId>,
    pub note: String,
    pub actor: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// The lottery part of a lottery batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotteryState {
    /// Secret until the draw; published with the result.
    pub seed: [u8; 32],
    /// Published from creation on.
    pub commitment: [u8; 32],
    pub drawn_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: BatchId,
    pub campaign_id: CampaignId,
    pub spec: BatchSpec,
    pub face_total: Fen,
    /// Bumped by every amendment; amendments name the version they change.
    pub version: i64,
    pub lottery: Option<LotteryState>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// A guarded change of a campaign's status and money: it applies only if
/// the campaign is still as the caller read it.
#[derive(Debug, Clone)]
pub struct CampaignTransition {
    pub id: CampaignId,
    pub from_status: CampaignStatus,
    pub from_funded: Fen,
    pub to_status: CampaignStatus,
    pub to_funded: Fen,
    pub event: CampaignEvent,
    /// Ledger transfers posted in the same transaction (funding).
    pub transfers: Vec<crate::Transfer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotteryRegistration {
    pub batch_id: BatchId,
    pub resident_id: ResidentId,
    pub at: DateTime<Utc>,
}
