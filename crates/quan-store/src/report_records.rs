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
    /// Redemptions made that business day.
    pub redemptions: Vec<DayRedemption>,
    /// Refunds recorded that business day.
    pub refunds: Vec<DayRefund>,
    /// Vouchers issued in the day's time span.
    pub vouchers: Vec<DayVoucher>,
    /// Earlier redemptions (before the day) of the residents who redeemed
    /// that day: tells who redeemed for the first time.
    pub redemption_history: Vec<EarlierRedemption>,
    /// Earlier vouchers (before the day) of the residents who got one that day.
    pub voucher_history: Vec<EarlierVoucher>,
}

/// A redemption of the day, as the report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRedemption {
    pub batch: BatchId,
    pub merchant: MerchantId,
    pub resident: ResidentId,
    pub order_fen: i64,
    /// The subsidy as redeemed.
    pub discount_fen: i64,
    pub platform_match_fen: i64,
    pub merchant_match_fen: i64,
}

/// A refund of the day: its redemption's batch and merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRefund {
    pub batch: BatchId,
    pub merchant: MerchantId,
    pub amount_fen: i64,
    pub subsidy_returned_fen: i64,
    /// The voucher came back to the wallet.
    pub voucher_back: bool,
}

/// A voucher issued in the day's time span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayVoucher {
    pub batch: BatchId,
    pub resident: ResidentId,
    pub face_fen: i64,
    pub kind_code: String,
    /// The district the resident claimed from, if known.
    pub claim_district: Option<String>,
}

/// An earlier redemption of one of the day's residents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRedemption {
    pub batch: BatchId,
    pub merchant: MerchantId,
    pub resident: ResidentId,
}

/// An earlier voucher of one of the day's residents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierVoucher {
    pub batch: BatchId,
    pub resident: ResidentId,
    pub kind_code: String,
    pub claim_district: Option<String>,
}

/// Per campaign and merchant, what happened on one business day (what a
/// settlement statement shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayActivity {
    pub campaign: quan_domain::CampaignId,
    pub merchant: MerchantId,
    pub redemptions: u64,
    pub discount_fen: i128,
    pub refunds: u64,
    pub subsidy_returned_fen: i128,
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

/// One node's answers to the claims of one batch in one second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrabSecond {
    pub batch: quan_domain::BatchId,
    /// Unix seconds.
    pub second: i64,
    pub node: uuid::Uuid,
    /// Claimed, sold out, limit reached, not eligible, busy, other.
    pub answers: [i64; 6],
    /// Answers per latency bucket (the engine's bucket bounds).
    pub latency: Vec<i64>,
}
