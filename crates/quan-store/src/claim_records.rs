//! Claims and vouchers.

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{BatchId, CampaignId, Fen, ResidentId};

/// One resident's claim, prepared by the engine (ids made, slots named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub claim_id: uuid::Uuid,
    pub resident: ResidentId,
    pub kind_code: String,
    /// The claim's face value: one voucher's, or a pack's total.
    pub face: Fen,
    /// The vouchers it hands out: (id, tier, face value).
    pub vouchers: Vec<(uuid::Uuid, u32, Fen)>,
    /// The batch's per-account limit, as its scope's name (named in a
    /// refusal) and size: the claim's first voucher takes a free slot
    /// `0..size` of it (its row is the claim's only row), or the claim is
    /// refused. `None` when the batch counts per person only.
    pub batch_limit: Option<(String, u32)>,
    /// Set when `batch_limit` counts per natural person: the keyed hash of
    /// the person's ID number, kept with the slot on the first voucher
    /// (unique per person, batch and slot, whichever account claims).
    pub person: Option<quan_domain::KeyedHash>,
    /// Every other limit as a scope and its size: the claim takes one free
    /// slot `0..size` in every scope (a `claim_slots` row), or is refused.
    pub slots: Vec<(String, u32)>,
    pub business_day: NaiveDate,
    /// Which stock bucket to try first (spreads nodes over buckets).
    pub bucket_hint: u32,
    /// The request's `Idempotency-Key` and the answer to replay to its
    /// retries, stored in the claim's own transaction when it is granted.
    pub key: Option<ClaimKey>,
    /// The district the resident's position fell in, when one was given
    /// (kept with its vouchers, for the reports).
    pub district: Option<String>,
    /// The webhook event telling of the claim (a claim through a partner),
    /// written in its commit when it is granted.
    pub event: Option<crate::NewEvent>,
}

/// An `Idempotency-Key` record written with a granted claim: no extra write
/// transaction per keyed claim, and a key can never stand for two vouchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKey {
    pub scope: String,
    pub key: String,
    pub request_hash: [u8; 32],
    /// The answer retries get (201 and its JSON body).
    pub status: u16,
    pub body: String,
}

/// Claims of one batch committed together, in arrival order.
#[derive(Debug, Clone)]
pub struct ClaimBatch {
    pub campaign: CampaignId,
    pub batch: BatchId,
    pub at: DateTime<Utc>,
    /// The id of the one ledger transfer reserving the batch's face value.
    pub transfer_id: uuid::Uuid,
    pub requests: Vec<ClaimRequest>,
    /// The channel every request came through and whose stock it takes:
    /// `""` quan's own H5 and API, else a partner's id.
    pub channel: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    Claimed,
    SoldOut,
    /// The scope whose slots were all taken.
    LimitReached {
        scope: String,
    },
    /// Another request (another connection or node) holds the same
    /// `Idempotency-Key`: this one claimed nothing; its answer is that one's.
    KeyTaken,
}

/// A voucher as its holder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    pub id: uuid::Uuid,
    pub claim_id: uuid::Uuid,
    pub campaign_id: CampaignId,
    pub batch_id: BatchId,
    pub kind_code: String,
    pub tier: u32,
    pub resident_id: ResidentId,
    pub face: Fen,
    pub state: quan_domain::redemption::VoucherState,
    pub created_at: DateTime<Utc>,
    /// Held back from use since then, and why (`voucher_freezes`).
    pub frozen: Option<(DateTime<Utc>, quan_domain::redemption::FreezeReason)>,
    /// Locked for a partner's payment order (its id) until then; a lock
    /// past its time holds nothing.
    pub lock: Option<(uuid::Uuid, DateTime<Utc>)>,
}

/// Stock buckets per kind; with one node only the first is touched until it
/// runs dry, with several the hints spread them out.
pub const STOCK_BUCKETS: u32 = 8;

/// Why claim and redemption batches were committed again, counted since
/// the store opened (for `/metrics`, and for tests that prove a path never
/// deadlocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitRetries {
    /// The database broke a deadlock (or a serialization failure) by
    /// aborting a claim batch's transaction.
    pub deadlocks: u64,
    /// The last stock the batch needed sat in buckets other batches held.
    pub stock_held: u64,
    /// The same as `deadlocks`, for a batch of redemptions.
    pub redemption_deadlocks: u64,
}

/// The counters behind [`CommitRetries`], one set per store.
#[derive(Debug, Default)]
pub struct CommitRetryCounters {
    pub deadlocks: std::sync::atomic::AtomicU64,
    pub stock_held: std::sync::atomic::AtomicU64,
    pub redemption_deadlocks: std::sync::atomic::AtomicU64,
}

impl CommitRetryCounters {
    pub fn read(&self) -> CommitRetries {
        use std::sync::atomic::Ordering::Relaxed;
        CommitRetries {
            deadlocks: self.deadlocks.load(Relaxed),
            stock_held: self.stock_held.load(Relaxed),
            redemption_deadlocks: self.redemption_deadlocks.load(Relaxed),
        }
    }
}
