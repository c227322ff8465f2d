//! What redemption reads from this node's memory: batches and merchants
//! for a second, tills and campaigns' regions for good, and the vouchers
//! whose codes this node issued lately.

use quan_domain::code;
use quan_domain::{MerchantId, TillId};
use quan_store::{StoreError, Voucher};

use crate::Engine;

/// How long a node uses its copy of a batch or a merchant when redeeming.
/// A suspension made on another node takes effect here within this time
/// (on this node at once).
pub const REDEEM_CACHE_MS: u64 = 1_000;

/// Batches and merchants as redemption last read them (real time, not the
/// business clock: freshness is an operational matter).
#[derive(Debug, Default)]
pub(crate) struct ReadCache {
    batches: std::sync::Mutex<
        std::collections::HashMap<quan_domain::BatchId, (std::sync::Arc<quan_store::Batch>, std::time::Instant)>,
    >,
    merchants: std::sync::Mutex<
        std::collections::HashMap<MerchantId, (std::sync::Arc<quan_store::Merchant>, std::time::Instant)>,
    >,
    /// Tills never change once opened.
    tills: std::sync::Mutex<std::collections::HashMap<TillId, (std::sync::Arc<quan_store::Till>, std::time::Instant)>>,
    /// Vouchers whose code this node issued lately, as read then (state
    /// `claimed`): the till that scans the code moments later needs no read.
    pub(super) issued:
        std::sync::Mutex<std::collections::HashMap<uuid::Uuid, (std::sync::Arc<Voucher>, std::time::Instant)>>,
    /// Campaigns' regions, which never change.
    regions: std::sync::Mutex<std::collections::HashMap<quan_domain::CampaignId, quan_domain::Region>>,
}

/// How long a voucher is remembered after its code was issued: the longest
/// code window and its grace.
const ISSUED_CACHE_S: u64 = 2 * code::REFRESH_S_MAX as u64;

/// Entries kept at most per map (emptied when full).
const READ_CACHE_LEN_MAX: usize = 100_000;

pub(super) fn fresh<K: std::hash::Hash + Eq, V: Clone>(
    map: &std::sync::Mutex<std::collections::HashMap<K, (V, std::time::Instant)>>,
    key: &K,
) -> Option<V> {
    let m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.get(key)
        .filter(|(_, at)| at.elapsed() < std::time::Duration::from_millis(REDEEM_CACHE_MS))
        .map(|(v, _)| v.clone())
}

pub(super) fn remember<K: std::hash::Hash + Eq, V>(
    map: &std::sync::Mutex<std::collections::HashMap<K, (V, std::time::Instant)>>,
    key: K,
    v: V,
) {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= READ_CACHE_LEN_MAX {
        m.clear();
    }
    m.insert(key, (v, std::time::Instant::now()));
}

impl Engine {
    pub(crate) async fn batch_for_redemption(
        &self,
        id: quan_domain::BatchId,
    ) -> Result<std::sync::Arc<quan_store::Batch>, StoreError> {
        if let Some(b) = fresh(&self.inner.read_cache.batches, &id) {
            return Ok(b);
        }
        let b = std::sync::Arc::new(self.store().batch_by_id(id).await?);
        remember(&self.inner.read_cache.batches, id, b.clone());
        Ok(b)
    }

    /// The region a campaign serves (it never changes, so it is kept).
    pub(super) async fn campaign_region(&self, id: quan_domain::CampaignId) -> Result<quan_domain::Region, StoreError> {
        if let Some(r) = self.inner.read_cache.regions.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(r.clone());
        }
        let region = self.store().campaign_by_id(id).await?.spec.region;
        let mut m = self.inner.read_cache.regions.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= READ_CACHE_LEN_MAX {
            m.clear();
        }
        m.insert(id, region.clone());
        Ok(region)
    }

    pub(super) async fn merchant_for_redemption(
        &self,
        id: MerchantId,
    ) -> Result<std::sync::Arc<quan_store::Merchant>, StoreError> {
        if let Some(m) = fresh(&self.inner.read_cache.merchants, &id) {
            return Ok(m);
        }
        let m = std::sync::Arc::new(self.store().merchant_by_id(id).await?);
        remember(&self.inner.read_cache.merchants, id, m.clone());
        Ok(m)
    }

    pub(crate) async fn till_for_redemption(&self, id: TillId) -> Result<std::sync::Arc<quan_store::Till>, StoreError> {
        if let Some((t, _)) = self.inner.read_cache.tills.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(t.clone());
        }
        let t = std::sync::Arc::new(self.store().till_by_id(id).await?);
        remember(&self.inner.read_cache.tills, id, t.clone());
        Ok(t)
    }

    pub(super) fn issued_voucher(&self, id: uuid::Uuid) -> Option<std::sync::Arc<Voucher>> {
        let m = self.inner.read_cache.issued.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&id)
            .filter(|(_, at)| at.elapsed() < std::time::Duration::from_secs(ISSUED_CACHE_S))
            .map(|(v, _)| v.clone())
    }

    pub(super) fn forget_issued(&self, id: uuid::Uuid) {
        self.inner.read_cache.issued.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// Forgets this node's copy of a merchant (after a review here).
    pub(crate) fn forget_merchant(&self, id: MerchantId) {
        self.inner.read_cache.merchants.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}
