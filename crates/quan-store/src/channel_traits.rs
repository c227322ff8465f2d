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
}
