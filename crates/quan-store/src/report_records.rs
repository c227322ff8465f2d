//! Aggregates the T+1 reports are built from: raw sums per grouping, for
//! one business day and cumulative to its end. Residents are counted,
//! never listed.

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::BatchId;

/// What a report query groups redemptions and refunds by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grouping {
    /// The whole campaign: one row.
    Total,
    Batch,
    /// The merchant's industry.
    Industry,
    /// The merchant's district (GB/T 2260 code).
    District,
    /// The merchant's scale (large / medium / small / micro).
    Scale,
    /// Batch × industry × district.
    Cell,
}

/// A row's key; the fields its grouping does not use are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub batch: Option<BatchId>,
    pub industry: Option<String>,
    pub district: Option<String>,
    pub scale: Option<String>,
}

/// Redemptions' sums: made on the business day (by its business day), or
/// up to and including it. Amounts are as redeemed (refunds are apart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedemptionSums {
    pub redemptions: u64,
    pub order_fen: i128,
    pub subsidy_fen: i128,
    pub platform_match_fen: i128,
    pub merchant_match_fen: i128,
    /// Distinct residents who redeemed (核销用户数).
    pub redeemers: u64,
    /// Distinct merchants with a redemption.
    pub merchants: u64,
}

/// Refunds' sums, by the refund's own business day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundSums {
    pub refunds: u64,
    pub amount_fen: i128,
    pub subsidy_returned_fen: i128,
    /// Full refunds that returned the voucher to the wallet.
    pub vouchers_back: u64,
}

/// Vouchers issued by claims (and lottery draws), by the time of issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IssueSums {
    pub vouchers: u64,
    pub face_fen: i128,
    /// Distinct residents who got a voucher (抢券用户数).
    pub claimers: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate<T> {
    pub key: GroupKey,
    pub day: T,
    pub cumulative: T,
}

/// One business day's redemptions, for the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPoint {
    pub day: NaiveDate,
    pub redemptions: u64,
    pub order_fen: i128,
    pub subsidy_fen: i128,
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
