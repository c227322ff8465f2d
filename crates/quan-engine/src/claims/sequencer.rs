//! A batch's sequencer: one task per open batch per node gathers claims
//! (the shared committer in `crate::committer`) and commits them in one
//! transaction; `take` is the common end of a resident's claim and of a
//! lottery winner's issue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use quan_domain::BatchId;
use quan_domain::claim_limits::{ClaimFacts, limit_scopes};
use quan_store::{ClaimBatch, ClaimOutcome, ClaimRequest, STOCK_BUCKETS, Store};
use tokio::sync::{mpsc, oneshot};

use super::memory::Memory;
use super::pending::{Answer, Pending, Reply};
use super::{
    CLAIM_BATCH_LEN_MAX, CLAIM_GATHER_US, CLAIM_QUEUE_LEN_MAX, CLAIM_WAIT_S, ClaimKeying, ClaimRejection, Claimed,
    ClaimedVoucher, Taking,
};
use crate::Engine;
use crate::committer::{self, CommitError, Gathering};

/// A batch's queue into its sequencer, and this node's memory of it.
type Lane = (mpsc::Sender<Pending>, Arc<Mutex<Memory>>);

pub(crate) struct Sequencers {
    pub(super) queues: Mutex<HashMap<BatchId, Lane>>,
    /// Per batch and partner: the lane of claims through the partner's app
    /// (its share of the stock).
    pub(super) channels: Mutex<HashMap<(BatchId, String), Lane>>,
    pub(super) bucket_hint: u32,
    /// Reads of a batch and its campaign's status for claims.
    pub(super) batch_reads: std::sync::atomic::AtomicU64,
    /// Per batch without a copy on this node: the turn of the one request
    /// reading it first.
    pub(super) first_reads: Mutex<HashMap<BatchId, Arc<tokio::sync::Mutex<()>>>>,
    /// Windowed grab batches' admission windows on this node.
    pub(super) windows: Mutex<HashMap<BatchId, Arc<Mutex<super::window::Window>>>>,
}

impl std::fmt::Debug for Sequencers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencers").field("bucket_hint", &self.bucket_hint).finish_non_exhaustive()
    }
}

impl Sequencers {
    pub(crate) fn new(bucket_hint: u32) -> Sequencers {
        Sequencers {
            queues: Mutex::new(HashMap::new()),
            channels: Mutex::new(HashMap::new()),
            bucket_hint: bucket_hint % STOCK_BUCKETS,
            batch_reads: std::sync::atomic::AtomicU64::new(0),
            first_reads: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl Engine {
    /// Forgets the slots this node counted taken for a person in every
    /// batch it serves (their claims gave them back: an identity conflict
    /// was resolved); the database decides their next claim.
    pub(crate) fn forget_person_claims(&self, person: &quan_domain::KeyedHash) {
        let suffix = quan_domain::claim_limits::person_scope_suffix(person);
        let queues = self.inner.sequencers.queues.lock().unwrap_or_else(|p| p.into_inner());
        for (_, mem) in queues.values() {
            mem.lock().unwrap_or_else(|p| p.into_inner()).taken.retain(|scope, _| !scope.ends_with(&suffix));
        }
    }
}

/// Gathers and commits one batch's claims until the engine is dropped
/// (it holds no reference to the engine, so dropping the engine ends it).
/// Up to `store.commits_in_parallel()` commits run at once, each starting
/// on its own stock buckets.
async fn run_sequencer(
    store: Arc<dyn Store>,
    clock: Arc<dyn quan_domain::Clock>,
    (campaign, batch, channel): (quan_domain::CampaignId, BatchId, String),
    bucket_hint: u32,
    rx: mpsc::Receiver<Pending>,
) {
    let parallel = store.commits_in_parallel().max(1);
    let spread = STOCK_BUCKETS / u32::try_from(parallel).unwrap_or(1).max(1);
    let g = Gathering { len_max: CLAIM_BATCH_LEN_MAX, gather_us: CLAIM_GATHER_US, parallel };
    committer::run(rx, g, move |pending: Vec<Pending>, commit_no| {
        let hint = bucket_hint.wrapping_add(commit_no.wrapping_mul(spread)) % STOCK_BUCKETS;
        let at = clock.now();
        let store = store.clone();
        let channel = channel.clone();
        // Keyed answers are written in the commit's own task, not in the
        // loop that gathers the next commit.
        async move {
            let (mut reqs, replies): (Vec<_>, Vec<_>) = pending.into_iter().map(|p| answer_at(p, at)).unzip();
            for r in &mut reqs {
                r.bucket_hint = hint;
            }
            // The batch's one ledger transfer takes the id of its first claim:
            // unique, and it names the batch in the ledger.
            let transfer_id = reqs[0].claim_id;
            let b = ClaimBatch { campaign, batch, at, transfer_id, requests: reqs, channel };
            let started = std::time::Instant::now();
            let result = store.commit_claims(&b).await;
            let len = b.requests.len();
            tracing::debug!(batch_id = %batch, len, commit_us = started.elapsed().as_micros() as u64, "claims committed");
            move || match result {
                Ok(outcomes) => {
                    assert_eq!(outcomes.len(), replies.len(), "one outcome per request");
                    for (o, reply) in outcomes.into_iter().zip(replies) {
                        let _ = reply.send(Ok((o, at)));
                    }
                }
                Err(e) => {
                    tracing::error!(batch_id = %batch, error = %e, "committing claims failed");
                    let e = CommitError::from(e);
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    })
    .await;
}

/// A pending claim at its commit's instant: a keyed claim's stored answer
/// (its record) written with that instant.
fn answer_at(p: Pending, at: DateTime<Utc>) -> (ClaimRequest, Reply) {
    let mut req = p.req;
    if let (Some(mut claimed), Some(key)) = (p.keyed, req.key.as_mut()) {
        claimed.claimed_at = at;
        key.body = claimed.stored_answer();
    }
    (req, p.reply)
}

impl Engine {
    pub(super) fn sequencer(
        &self,
        campaign: quan_domain::CampaignId,
        batch: BatchId,
    ) -> (mpsc::Sender<Pending>, Arc<Mutex<Memory>>) {
        let mut q = self.inner.sequencers.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((tx, mem)) = q.get(&batch).filter(|(tx, _)| !tx.is_closed()) {
            return (tx.clone(), mem.clone());
        }
        let (tx, rx) = mpsc::channel(CLAIM_QUEUE_LEN_MAX);
        let mem = Arc::new(Mutex::new(Memory::default()));
        tokio::spawn(run_sequencer(
            self.store().clone(),
            self.clock().clone(),
            (campaign, batch, String::new()),
            self.inner.sequencers.bucket_hint,
            rx,
        ));
        q.insert(batch, (tx.clone(), mem.clone()));
        (tx, mem)
    }

    /// The lane of claims through a partner's app (`channel`, its id): its
    /// own sequencer, taking the partner's share of the stock.
    pub(super) fn channel_sequencer(
        &self,
        campaign: quan_domain::CampaignId,
        batch: BatchId,
        channel: &str,
    ) -> (mpsc::Sender<Pending>, Arc<Mutex<Memory>>) {
        let mut q = self.inner.sequencers.channels.lock().unwrap_or_else(|p| p.into_inner());
        let key = (batch, channel.to_owned());
        if let Some((tx, mem)) = q.get(&key).filter(|(tx, _)| !tx.is_closed()) {
            return (tx.clone(), mem.clone());
        }
        let (tx, rx) = mpsc::channel(CLAIM_QUEUE_LEN_MAX);
        let mem = Arc::new(Mutex::new(Memory::default()));
        tokio::spawn(run_sequencer(
            self.store().clone(),
            self.clock().clone(),
            (campaign, batch, channel.to_owned()),
            self.inner.sequencers.bucket_hint,
            rx,
        ));
        q.insert(key, (tx.clone(), mem.clone()));
        (tx, mem)
    }

    /// Forgets what this node knew sold out in a batch's lanes (stock
    /// moved between channels).
    pub(crate) fn forget_sold_out(&self, batch: BatchId) {
        let lanes = self.inner.sequencers.queues.lock().unwrap_or_else(|p| p.into_inner());
        let channels = self.inner.sequencers.channels.lock().unwrap_or_else(|p| p.into_inner());
        let ours = lanes.get(&batch).into_iter();
        let theirs = channels.iter().filter(|((b, _), _)| *b == batch).map(|(_, l)| l);
        for (_, mem) in ours.chain(theirs) {
            mem.lock().unwrap_or_else(|p| p.into_inner()).sold_out.clear();
        }
    }

    /// Hands one voucher (or pack) of kind `k` to a resident through the
    /// batch's sequencer, under the batch's limits: the common end of a
    /// resident's claim and of a lottery winner's issue.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn take(
        &self,
        b: &quan_store::Batch,
        k: &quan_domain::batch::BatchKind,
        resident: quan_domain::ResidentId,
        at: Taking,
        mem: &Arc<Mutex<Memory>>,
        tx: &mpsc::Sender<Pending>,
        keying: Option<&ClaimKeying>,
    ) -> Result<Claimed, ClaimRejection> {
        let facts = ClaimFacts {
            campaign: b.campaign_id,
            batch: b.id,
            kind_code: &k.kind.code,
            resident,
            person: at.person,
            day: at.day,
        };
        let via = at.via;
        let scopes = limit_scopes(&b.spec.limits, &facts);
        let every_limit = scopes.every();
        {
            let m = mem.lock().unwrap_or_else(|p| p.into_inner());
            if every_limit.iter().any(|(scope, size)| m.taken.get(scope).is_some_and(|t| t >= size)) {
                return Err(ClaimRejection::LimitReached);
            }
        }
        let mut claimed = self.new_claim(b, k);
        let key = keying.map(|kg| quan_store::ClaimKey {
            scope: kg.scope.clone(),
            key: kg.key.clone(),
            request_hash: kg.request_hash,
            status: 201,
            body: String::new(),
        });
        let req = ClaimRequest {
            claim_id: claimed.claim_id,
            resident,
            kind_code: k.kind.code.clone(),
            face: k.kind.face_value(),
            vouchers: claimed.vouchers.iter().map(|v| (v.id, v.tier, v.face)).collect(),
            batch_limit: scopes.batch_limit,
            person: scopes.by_person,
            slots: scopes.slots,
            business_day: at.day,
            bucket_hint: self.inner.sequencers.bucket_hint,
            key,
            district: at.district,
            event: via.as_ref().map(|v| self.claim_event(v, b, &claimed)),
        };
        let keyed = keying.map(|_| claimed.clone());
        let (reply, answer) = oneshot::channel();
        let pending = Pending { req, keyed, reply };
        let (o, at) = if via.is_some() {
            self.committed(b.id, tx, pending, answer, 0).await?
        } else {
            self.admitted(b, tx, pending, answer).await?
        };
        claimed.claimed_at = at;
        let mut m = mem.lock().unwrap_or_else(|p| p.into_inner());
        match o {
            ClaimOutcome::Claimed => {
                for (scope, _) in &every_limit {
                    *m.taken.entry(scope.clone()).or_insert(0) += 1;
                }
                Ok(claimed)
            }
            ClaimOutcome::KeyTaken => Err(ClaimRejection::KeyTaken),
            ClaimOutcome::SoldOut => {
                m.sold_out.insert(k.kind.code.clone(), true);
                Err(ClaimRejection::SoldOut)
            }
            ClaimOutcome::LimitReached { scope } => {
                let size = every_limit.iter().find(|(s, _)| *s == scope).map_or(u32::MAX, |(_, n)| *n);
                m.taken.insert(scope, size);
                Err(ClaimRejection::LimitReached)
            }
        }
    }

    /// A new claim's record: fresh ids, one voucher per tier of the kind.
    fn new_claim(&self, b: &quan_store::Batch, k: &quan_domain::batch::BatchKind) -> Claimed {
        let vouchers = k
            .kind
            .discount
            .pack()
            .iter()
            .enumerate()
            .map(|(i, d)| ClaimedVoucher { id: self.new_uuid(), tier: i as u32, face: d.face_value() })
            .collect();
        Claimed {
            claim_id: self.new_uuid(),
            campaign_id: b.campaign_id,
            batch_id: b.id,
            kind_code: k.kind.code.clone(),
            vouchers,
            claimed_at: self.now(),
        }
    }

    /// Sends a claim to its sequencer and waits for its commit: `busy` when
    /// the queue is full or no answer comes in time.
    pub(super) async fn committed(
        &self,
        batch_id: BatchId,
        tx: &mpsc::Sender<Pending>,
        pending: Pending,
        answer: oneshot::Receiver<Answer>,
        extra_s: u64,
    ) -> Result<(ClaimOutcome, DateTime<Utc>), ClaimRejection> {
        if let Err(e) = tx.try_send(pending) {
            tracing::warn!(batch_id = %batch_id, closed = matches!(e, mpsc::error::TrySendError::Closed(_)), "claim queue full: busy");
            return Err(ClaimRejection::Busy);
        }
        self.answered(batch_id, answer, extra_s).await
    }

    /// Waits for a claim's commit (`CLAIM_WAIT_S`, and `extra_s` more when
    /// it waits for a window's draw first): `busy` when none comes in time.
    pub(super) async fn answered(
        &self,
        batch_id: BatchId,
        answer: oneshot::Receiver<Answer>,
        extra_s: u64,
    ) -> Result<(ClaimOutcome, DateTime<Utc>), ClaimRejection> {
        match tokio::time::timeout(super::window::wait_s(extra_s), answer).await {
            Ok(Ok(Ok(done))) => Ok(done),
            Ok(Ok(Err(e))) => Err(ClaimRejection::Commit(e)),
            Ok(Err(_)) => {
                tracing::error!(batch_id = %batch_id, "a claim's answer was dropped unsent: busy");
                Err(ClaimRejection::Busy)
            }
            Err(_) => {
                tracing::warn!(batch_id = %batch_id, wait_s = CLAIM_WAIT_S + extra_s, "a claim got no answer in time: busy");
                Err(ClaimRejection::Busy)
            }
        }
    }
}
