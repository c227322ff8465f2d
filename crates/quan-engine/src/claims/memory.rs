//! What a node remembers of a batch between claims: its copy of the batch
//! and its campaign's status (re-read once a second, by one request while
//! the others answer from the copy), what is sold out, which limit scopes
//! are full, and a drawn lottery's winners.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use quan_domain::BatchId;
use quan_domain::campaign::CampaignStatus;

use super::ClaimRejection;
use crate::Engine;

/// What this node remembers of a batch between requests.
#[derive(Debug, Default)]
pub(super) struct Memory {
    pub(super) sold_out: HashMap<String, bool>,
    /// Slots known taken per limit scope.
    pub(super) taken: HashMap<String, u32>,
    /// The batch and its campaign's status, re-read once it is
    /// `BATCH_CACHE_MS` old (so closing a campaign stops claims within that
    /// and one re-read, at most twice that).
    pub(super) cached: Option<(Seen, DateTime<Utc>)>,
    /// When a request began re-reading the stale copy: until it is done
    /// (for at most `BATCH_CACHE_MS`), the others answer from the copy
    /// instead of all reading the same two rows at once.
    pub(super) refreshing_since: Option<DateTime<Utc>>,
    /// A lottery batch's winners, read once after its draw (they never change).
    pub(super) winners: Option<Arc<std::collections::HashSet<quan_domain::ResidentId>>>,
}

/// A batch as a claim needs it: the batch, its campaign's status and region.
pub(super) type Seen = (Arc<quan_store::Batch>, CampaignStatus, quan_domain::Region);

/// How long a node answers from its copy of a batch before re-reading it.
pub const BATCH_CACHE_MS: i64 = 1_000;

/// Whether a request answers from this node's copy of a batch, `age_ms`
/// old, while another request began re-reading it `refreshing_ms` ago
/// (`None`: nobody is): when it is fresh, or stale but being re-read (for
/// at most another `BATCH_CACHE_MS`). In a grab a thousand requests find
/// the copy stale in the same millisecond; all of them reading the same two
/// rows took the node's database pool for that moment every second.
fn copy_will_do(age_ms: i64, refreshing_ms: Option<i64>) -> bool {
    age_ms < BATCH_CACHE_MS || (refreshing_ms.is_some_and(|r| r < BATCH_CACHE_MS) && age_ms < 2 * BATCH_CACHE_MS)
}

/// See [`Engine::batch_copy`].
enum BatchCopy {
    Answers(Seen),
    Reread(Arc<Mutex<Memory>>),
    Missing,
}

/// One request's turn at a node's first read of a batch: held while it
/// reads; the batch's gate is forgotten when the turn ends (so ids of
/// batches that do not exist leave nothing behind).
pub(super) struct FirstRead<'a> {
    gates: &'a Mutex<HashMap<BatchId, Arc<tokio::sync::Mutex<()>>>>,
    batch: BatchId,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl<'a> FirstRead<'a> {
    pub(super) async fn enter(
        gates: &'a Mutex<HashMap<BatchId, Arc<tokio::sync::Mutex<()>>>>,
        batch: BatchId,
    ) -> FirstRead<'a> {
        let gate = gates.lock().unwrap_or_else(|p| p.into_inner()).entry(batch).or_default().clone();
        FirstRead { gates, batch, _turn: gate.lock_owned().await }
    }
}

impl Drop for FirstRead<'_> {
    fn drop(&mut self) {
        self.gates.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.batch);
    }
}

impl Engine {
    /// How often this node has read a batch and its campaign's status from
    /// the database to answer claims (the rest came from its copy).
    pub fn batch_reads(&self) -> u64 {
        self.inner.sequencers.batch_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What this node's copy of a batch can do for a request now: answer
    /// it, or be read again (this request does it; a stale copy is marked
    /// as being re-read so others answer from it meanwhile); `Missing` when
    /// the node has none.
    fn batch_copy(&self, batch_id: BatchId, now: DateTime<Utc>) -> BatchCopy {
        let lane = self
            .inner
            .sequencers
            .queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&batch_id)
            .map(|(_, m)| m.clone());
        let Some(mem) = lane else { return BatchCopy::Missing };
        {
            let mut m = mem.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((seen, at)) = &m.cached {
                let age = (now - *at).num_milliseconds().abs();
                let refreshing = m.refreshing_since.map(|r| (now - r).num_milliseconds().abs());
                if copy_will_do(age, refreshing) {
                    return BatchCopy::Answers(seen.clone());
                }
                m.refreshing_since = Some(now);
            }
        }
        BatchCopy::Reread(mem)
    }

    /// The batch and its campaign's status, from this node's memory when fresh.
    pub(super) async fn batch_view(&self, batch_id: BatchId, now: DateTime<Utc>) -> Result<Seen, ClaimRejection> {
        let (lane, _first) = match self.batch_copy(batch_id, now) {
            BatchCopy::Answers(found) => return Ok(found),
            BatchCopy::Reread(mem) => (Some(mem), None),
            BatchCopy::Missing => {
                // This node's first read of the batch (it just started, or
                // the batch is new to it): one request reads it, the others
                // wait for that and answer from its copy.
                let first = FirstRead::enter(&self.inner.sequencers.first_reads, batch_id).await;
                match self.batch_copy(batch_id, now) {
                    BatchCopy::Answers(found) => return Ok(found),
                    BatchCopy::Reread(mem) => (Some(mem), Some(first)),
                    BatchCopy::Missing => (None, Some(first)),
                }
            }
        };
        self.inner.sequencers.batch_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let read = async {
            let b = Arc::new(self.store().batch_by_id(batch_id).await?);
            let c = self.store().campaign_by_id(b.campaign_id).await?;
            Ok::<_, ClaimRejection>((b, c.status, c.spec.region))
        };
        let (b, status, region) = match read.await {
            Ok(read) => read,
            Err(e) => {
                if let Some(mem) = &lane {
                    mem.lock().unwrap_or_else(|p| p.into_inner()).refreshing_since = None;
                }
                return Err(e);
            }
        };
        // Its lists into memory before its claims need them (the first
        // read of a batch is usually a request before the opening second).
        self.preload_lists(&b.spec.eligibility.lists);
        let (_, mem) = self.sequencer(b.campaign_id, batch_id);
        let mut m = mem.lock().unwrap_or_else(|p| p.into_inner());
        // Amended (e.g. more stock, or stock moved between channels): what
        // this node knew sold out may be stale, in every channel's lane.
        let amended = m.cached.as_ref().is_some_and(|((old, _, _), _)| old.version != b.version);
        let seen = (b, status, region);
        m.cached = Some((seen.clone(), now));
        m.refreshing_since = None;
        drop(m);
        if amended {
            self.forget_sold_out(batch_id);
        }
        Ok(seen)
    }

    /// The winners of a drawn lottery batch, from this node's memory after
    /// the first read; an undrawn lottery has none yet (and is not cached).
    pub(super) async fn lottery_winners(
        &self,
        b: &quan_store::Batch,
        mem: &Mutex<Memory>,
    ) -> Result<Arc<std::collections::HashSet<quan_domain::ResidentId>>, ClaimRejection> {
        if let Some(w) = &mem.lock().unwrap_or_else(|p| p.into_inner()).winners {
            return Ok(w.clone());
        }
        let winners: Arc<std::collections::HashSet<_>> =
            Arc::new(self.store().lottery_winners(b.id).await?.into_iter().collect());
        if b.lottery.as_ref().is_some_and(|l| l.drawn_at.is_some()) {
            mem.lock().unwrap_or_else(|p| p.into_inner()).winners = Some(winners.clone());
        }
        Ok(winners)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_copy_of_a_batch_answers_and_a_stale_one_is_read_again() {
        assert!(copy_will_do(0, None));
        assert!(copy_will_do(BATCH_CACHE_MS - 1, None));
        assert!(!copy_will_do(BATCH_CACHE_MS, None));
    }

    #[test]
    fn a_stale_copy_answers_while_another_request_reads_it_again_but_not_for_long() {
        assert!(copy_will_do(BATCH_CACHE_MS + 5, Some(3)), "another request is reading it");
        assert!(!copy_will_do(BATCH_CACHE_MS + 5, Some(BATCH_CACHE_MS)), "that read is taking too long: read it too");
        assert!(!copy_will_do(2 * BATCH_CACHE_MS, Some(0)), "never older than twice the cache time");
    }
}
