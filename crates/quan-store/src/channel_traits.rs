//! A batch's stock split between claim channels: quan's own H5 and API
//! (`""`) and partners' apps (the partner's id), each share sold out on its
//! own, unclaimed stock moved between them by an official.

use async_trait::async_trait;
use quan_domain::BatchId;

use crate::StoreError;

/// One kind's share of a batch for one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelStock {
    pub kind_code: String,
    /// `""` quan's own, else a partner's id.
    pub channel: String,
    /// Stock not yet claimed.
    pub remaining: i64,
    /// Claims made through the channel (a pack counted once).
    pub claimed: i64,
    /// Of those claims' vouchers, the ones redeemed now.
    pub redeemed: i64,
}

/// A campaign's figures by channel over `[from, to)` (the T+1 report):
/// claims made through each channel, redemptions of the vouchers each
/// channel issued, and partners' confirmed checkouts (支付立减) — each as it
/// was made (discounts at redemption; later refunds and reverses do not
/// change a stored day, so a rebuild gives the same bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelFigures {
    /// `""` quan's own, else a partner's id.
    pub channel: String,
    pub claims_day: i64,
    /// Claims as of `to`.
    pub claims: i64,
    /// Face value of the vouchers issued as of `to`.
    pub face_fen: i64,
    /// Redemptions in the day of vouchers issued through the channel, and
    /// their discounts as redeemed.
    pub redemptions_day: i64,
    pub subsidy_day_fen: i64,
    /// Redemptions the partner's checkouts made in the day (reversed later or
    /// not), and their discounts.
    pub checkouts_day: i64,
    pub checkout_discount_day_fen: i64,
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Moves `count` unclaimed units of `kind` from channel `from` to `to`
    /// (a partner's share is made on its first move), and marks the batch
    /// changed (its `version`) so every node forgets what it knew sold out.
    /// `Conflict { what: "stock_short" }` when `from` has less left (nothing
    /// moves); `NotFound` when the batch has no such kind.
    async fn move_channel_stock(
        &self,
        batch: BatchId,
        kind: &str,
        from: &str,
        to: &str,
        count: i64,
    ) -> Result<(), StoreError>;
    /// Every channel's share of every kind of the batch, quan's own first.
    async fn channel_stock(&self, batch: BatchId) -> Result<Vec<ChannelStock>, StoreError>;
    /// A campaign's figures by channel over `[from_ms, to_ms)`, by channel.
    async fn channel_figures(
        &self,
        campaign: quan_domain::CampaignId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ChannelFigures>, StoreError>;
}
