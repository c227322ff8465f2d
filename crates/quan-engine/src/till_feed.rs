//! A till's live feed of redemptions (商家出示、用户扫码): the resident scans
//! the till's code and pays on the phone; the cashier must see the result
//! before handing over the goods. A redemption on this node rings the till's
//! bell at once; redemptions committed on other nodes (several `quan serve`
//! on one PostgreSQL) are found by re-reading the till's redemptions every
//! `TILL_FEED_RECHECK_MS`. Each redemption is delivered once per feed, in the
//! order of its time, and a feed resumes after the last one it delivered.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use quan_domain::TillId;
use quan_store::{Redemption, StoreError};
use tokio::sync::broadcast;

use crate::Engine;
use crate::auth::Actor;
use crate::redemptions::{RedemptionError, TILL_POLL_LEN_MAX};

/// How often a feed re-reads its till when no bell rang (redemptions
/// committed by other nodes reach it within this).
pub const TILL_FEED_RECHECK_MS: u64 = 1_000;
/// How far back each read looks before the newest delivered redemption, for
/// one committed late by another node with an earlier time.
pub const TILL_FEED_LOOKBACK_MS: i64 = 10_000;
/// Bells buffered per subscriber before it re-reads instead.
const BELL_BUFFER_LEN: usize = 1_024;

/// Rings when a redemption at a till commits on this node.
#[derive(Debug)]
pub(crate) struct TillBell {
    tx: broadcast::Sender<TillId>,
}

impl Default for TillBell {
    fn default() -> Self {
        TillBell { tx: broadcast::channel(BELL_BUFFER_LEN).0 }
    }
}

impl TillBell {
    pub(crate) fn ring(&self, till: TillId) {
        // No feed listening is fine.
        let _ = self.tx.send(till);
    }
}

/// One till's feed; `next` waits for redemptions not yet delivered.
#[derive(Debug)]
pub struct TillFeed {
    engine: Engine,
    till: TillId,
    bell: broadcast::Receiver<TillId>,
    /// The newest delivered redemption's time.
    cursor: DateTime<Utc>,
    /// Delivered ids no older than `cursor - TILL_FEED_LOOKBACK_MS`.
    delivered: HashMap<uuid::Uuid, DateTime<Utc>>,
}

impl Engine {
    /// A feed of the till's redemptions from `since` on, or, with `after`
    /// (the id of the last redemption a previous feed delivered, as from an
    /// SSE `Last-Event-ID`), from just after that one. Cashiers of the till
    /// and owners of its merchant.
    pub async fn till_feed(
        &self,
        actor: &Actor,
        till: TillId,
        since: DateTime<Utc>,
        after: Option<uuid::Uuid>,
    ) -> Result<TillFeed, RedemptionError> {
        self.own_till(actor, till).await?;
        // Subscribe before the first read, so nothing falls in between.
        let bell = self.inner.till_bell.tx.subscribe();
        let mut feed = TillFeed { engine: self.clone(), till, bell, cursor: since, delivered: HashMap::new() };
        if let Some(id) = after {
            match self.store().redemption_by_id(id).await {
                Ok(r) if r.till_id == Some(till) => {
                    feed.cursor = r.redeemed_at;
                    feed.delivered.insert(r.id, r.redeemed_at);
                    // Those at the same instant with a smaller id went before it.
                    for r in self.store().redemptions_at_till(till, r.redeemed_at, TILL_POLL_LEN_MAX).await? {
                        if r.redeemed_at == feed.cursor && r.id < id {
                            feed.delivered.insert(r.id, r.redeemed_at);
                        }
                    }
                }
                // Unknown or another till's: start from `since`.
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(feed)
    }

    pub(crate) fn ring_till(&self, till: TillId) {
        self.inner.till_bell.ring(till);
    }
}

impl TillFeed {
    /// The till's redemptions this feed has not delivered yet, oldest first
    /// (at most `TILL_POLL_LEN_MAX`); waits until there is at least one.
    pub async fn next(&mut self) -> Result<Vec<Redemption>, RedemptionError> {
        loop {
            let fresh = self.read().await?;
            if !fresh.is_empty() {
                return Ok(fresh);
            }
            self.wait().await;
        }
    }

    /// Undelivered redemptions, marked delivered.
    async fn read(&mut self) -> Result<Vec<Redemption>, RedemptionError> {
        let store = self.engine.store();
        let from = self.cursor - chrono::Duration::milliseconds(TILL_FEED_LOOKBACK_MS);
        let mut page = store.redemptions_at_till(self.till, from, TILL_POLL_LEN_MAX).await?;
        if page.len() >= TILL_POLL_LEN_MAX as usize && page.iter().all(|r| self.delivered.contains_key(&r.id)) {
            // A busy till filled the look-back window: read on from the cursor.
            page = store.redemptions_at_till(self.till, self.cursor, TILL_POLL_LEN_MAX).await?;
        }
        let fresh: Vec<Redemption> = page.into_iter().filter(|r| !self.delivered.contains_key(&r.id)).collect();
        for r in &fresh {
            self.delivered.insert(r.id, r.redeemed_at);
            self.cursor = self.cursor.max(r.redeemed_at);
        }
        let keep_from = self.cursor - chrono::Duration::milliseconds(TILL_FEED_LOOKBACK_MS);
        self.delivered.retain(|_, at| *at >= keep_from);
        Ok(fresh)
    }

    /// Until this till's bell rings here, or the re-read interval passes.
    async fn wait(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(TILL_FEED_RECHECK_MS);
        loop {
            match tokio::time::timeout_at(deadline, self.bell.recv()).await {
                Ok(Ok(t)) if t == self.till => return,
                Ok(Ok(_)) => continue,
                // Missed bells (or none left to ring): read again anyway.
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => return,
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => {
                    tokio::time::sleep_until(deadline).await;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bell_reaches_every_subscriber_and_no_subscriber_is_fine() {
        let bell = TillBell::default();
        let till = TillId::from_uuid(uuid::Uuid::now_v7());
        bell.ring(till);
        let mut a = bell.tx.subscribe();
        let mut b = bell.tx.subscribe();
        bell.ring(till);
        assert_eq!(a.recv().await.ok(), Some(till));
        assert_eq!(b.recv().await.ok(), Some(till));
    }
}
