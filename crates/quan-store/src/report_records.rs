//! Aggregates the T+1 reports are built from: raw sums per grouping, for
//! one business day and cumulative to its end. Residents are counted,
//! never listed.

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{BatchId, MerchantId, ResidentId};

/// One business day's activity of a campaign, as the T+1 report folds it
/// into the previous day's cumulative figures; read by index, so a day
/// costs what happened that day, not the campaign's whole history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportDay {
    /// Redemptions made that business day: batch, merchant, resident,
    /// order, discount (subsidy as redeemed), platform and merchant matching.
    pub redemptions: Vec<(BatchId, MerchantId, ResidentId, i64, i64, i64, i64)>,
    /// Refunds recorded that business day: the redemption's batch and
    /// merchant, amount, subsidy returned, whether the voucher came back.
    pub refunds: Vec<(BatchId, MerchantId, i64, i64, bool)>,
    /// Vouchers issued in the day's time span: batch, resident, face value,
    /// kind, and the district the resident claimed from (if known).
    pub vouchers: Vec<(BatchId, ResidentId, i64, String, Option<String>)>,
    /// Earlier redemptions (before the day) of the residents who redeemed
    /// that day: batch, merchant, resident. Tells who redeemed for the first time.
    pub redemption_history: Vec<(BatchId, MerchantId, ResidentId)>,
    /// Earlier vouchers (before the day) of the residents who got one that
    /// day: batch, resident, kind, claim district.
    pub voucher_history: Vec<(BatchId, ResidentId, String, Option<String>)>,
}

/// A stored report: its content (canonical JSON) and the SHA-256 of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSnapshot {
    pub campaign_id: quan_domain::CampaignId,
    pub business_day: NaiveDate,
    /// `daily` or `final`.
    pub kind: String,
    pub content: String,
    pub sha256: String,
    pub built_at: DateTime<Utc>,
}

/// The figures of the live view, read from running totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveFigures {
    /// Vouchers handed out (stock taken) and their face value.
    pub claimed: u64,
    pub claimed_face_fen: i128,
    pub stock: u64,
    /// Redemptions standing.
    pub redeemed: u64,
    /// Subsidy standing, total and per merchant district.
    pub subsidy_fen: i128,
    pub subsidy_by_district: Vec<(String, i128)>,
}
