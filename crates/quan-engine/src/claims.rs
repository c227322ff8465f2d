//! The flash claim. Cheap answers (not open, closed, sold out, limit
//! reached, not eligible) come before the queue; every other request joins
//! its batch's sequencer, which gathers requests for up to a millisecond (or
//! `CLAIM_BATCH_LEN_MAX` of them) and commits them in ONE transaction, then
//! answers each. The database constraints are the second line of defence.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use quan_domain::batch::{BatchMode, CountBy};
use quan_domain::campaign::CampaignStatus;
use quan_domain::eligibility::{Facts, Failure, decide};
use quan_domain::{BatchId, BusinessDay, Fen};
use quan_store::{ClaimBatch, ClaimOutcome, ClaimRequest, STOCK_BUCKETS, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::Engine;
use crate::auth::Actor;
use crate::districts::{Located, Position};
use crate::rejection::{Rejection, Status};

/// Requests committed together at most. With a claim one row, a commit's
/// fsync is a large part of its time on SQLite: 2 048 rather than 512 gave
/// ~8 % more claims/s there (docs/PERFORMANCE.md, eighth session).
pub const CLAIM_BATCH_LEN_MAX: usize = 2048;
/// How long the sequencer waits for more requests once it has one.
pub const CLAIM_GATHER_US: u64 = 1_000;
/// Requests waiting per batch before new ones are told `busy`.
pub const CLAIM_QUEUE_LEN_MAX: usize = 20_000;
/// The longest a request waits for its answer.
pub const CLAIM_WAIT_S: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ClaimRejection {
    #[error("the batch opens at {}", quan_domain::beijing(*opens_at))]
    NotOpen { opens_at: DateTime<Utc>, server_time: DateTime<Utc> },
    #[error("the batch has closed")]
    Closed,
    #[error("this batch is sold out")]
    SoldOut,
    #[error("you have reached your limit for this batch")]
    LimitReached,
    #[error("you are not eligible for this batch")]
    NotEligible(Vec<Failure>),
    #[error("this lottery batch is only for its winners")]
    NotAWinner,
    #[error("this batch has several voucher kinds: say which (`kind`)")]
    KindRequired,
    #[error("this batch has no voucher kind `{0}`")]
    UnknownKind(String),
    #[error("too many claims are waiting; try again in a second")]
    Busy,
    /// Another request with the same `Idempotency-Key` holds the claim;
    /// its stored answer is this one's.
    #[error("a request with this Idempotency-Key has claimed already")]
    KeyTaken,
    #[error("no such batch")]
    NotFound,
    #[error("only residents claim vouchers")]
    Forbidden,
    #[error("{0}")]
    Position(crate::districts::PositionRejection),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ClaimRejection {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ClaimRejection::NotFound,
            e => ClaimRejection::Store(e),
        }
    }
}

impl Rejection for ClaimRejection {
    fn status(&self) -> Status {
        use ClaimRejection as C;
        match self {
            C::NotOpen { .. } | C::Closed | C::SoldOut | C::LimitReached | C::KeyTaken => Status::Conflict,
            C::NotEligible(_) | C::NotAWinner | C::Forbidden => Status::Forbidden,
            C::KindRequired | C::UnknownKind(_) | C::Position(_) => Status::Unprocessable,
            C::Busy => Status::TooManyRequests,
            C::NotFound => Status::NotFound,
            C::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        use ClaimRejection as C;
        match self {
            C::NotOpen { .. } => "not_open",
            C::Closed => "closed",
            C::SoldOut => "sold_out",
            C::LimitReached => "limit_reached",
            C::NotEligible(_) => "not_eligible",
            C::NotAWinner => "not_a_winner",
            C::KindRequired => "kind_required",
            C::UnknownKind(_) => "unknown_kind",
            C::Busy => "busy",
            C::KeyTaken => "idempotency_key_in_flight",
            C::NotFound => "not_found",
            C::Forbidden => "forbidden",
            C::Position(p) => p.code(),
            C::Store(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        matches!(self, ClaimRejection::Busy).then_some(1)
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            ClaimRejection::NotOpen { opens_at, server_time } => {
                Some(serde_json::json!({ "opens_at": opens_at, "server_time": server_time }))
            }
            ClaimRejection::NotEligible(f) => Some(serde_json::json!({ "failures": f })),
            _ => None,
        }
    }
}

/// A successful claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub claim_id: uuid::Uuid,
    pub campaign_id: quan_domain::CampaignId,
    pub kind_code: String,
    pub vouchers: Vec<(uuid::Uuid, u32, Fen)>,
    /// The claim's one instant: its vouchers' `created_at`, the instant of
    /// the commit that made them durable.
    pub claimed_at: DateTime<Utc>,
}

/// A claim's `Idempotency-Key`, and how to write the answer a retry gets:
/// stored in the claim's own transaction when it is granted.
#[derive(Clone)]
pub struct ClaimKeying {
    pub scope: String,
    pub key: String,
    pub request_hash: [u8; 32],
    /// The 201 body for a granted claim.
    pub render: Arc<dyn Fn(&Claimed) -> String + Send + Sync>,
}

impl std::fmt::Debug for ClaimKeying {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimKeying").field("scope", &self.scope).field("key", &self.key).finish_non_exhaustive()
    }
}

/// Who takes a voucher, from where, on which business day.
#[derive(Debug, Clone)]
struct Taking {
    /// The resident's ID hash, when known (per-person limits).
    person: Option<quan_domain::KeyedHash>,
    /// The district their position fell in, when one was given.
    district: Option<String>,
    day: chrono::NaiveDate,
}

/// How a keyed claim's 201 body is written (HTTP's rendering).
type Render = Arc<dyn Fn(&Claimed) -> String + Send + Sync>;
/// A committed claim's outcome and its commit's instant, or why it failed.
type Reply = oneshot::Sender<Result<(ClaimOutcome, DateTime<Utc>), String>>;

struct Pending {
    req: ClaimRequest,
    /// A keyed claim's answer, rendered by the sequencer once the commit's
    /// instant is known (so the stored answer names the vouchers' instant).
    render: Option<(Claimed, Render)>,
    reply: Reply,
}

/// What this node remembers of a batch between requests.
#[derive(Debug, Default)]
struct Memory {
    sold_out: HashMap<String, bool>,
    /// Slots known taken per limit scope.
    taken: HashMap<String, u32>,
    /// The batch and its campaign's status, re-read once it is
    /// `BATCH_CACHE_MS` old (so closing a campaign stops claims within that
    /// and one re-read, at most twice that).
    cached: Option<(Arc<quan_store::Batch>, CampaignStatus, DateTime<Utc>)>,
    /// When a request began re-reading the stale copy: until it is done
    /// (for at most `BATCH_CACHE_MS`), the others answer from the copy
    /// instead of all reading the same two rows at once.
    refreshing_since: Option<DateTime<Utc>>,
    /// A lottery batch's winners, read once after its draw (they never change).
    winners: Option<Arc<std::collections::HashSet<quan_domain::ResidentId>>>,
}

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
    Answers((Arc<quan_store::Batch>, CampaignStatus)),
    Reread(Arc<Mutex<Memory>>),
    Missing,
}

/// One request's turn at a node's first read of a batch: held while it
/// reads; the batch's gate is forgotten when the turn ends (so ids of
/// batches that do not exist leave nothing behind).
struct FirstRead<'a> {
    gates: &'a Mutex<HashMap<BatchId, Arc<tokio::sync::Mutex<()>>>>,
    batch: BatchId,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl<'a> FirstRead<'a> {
    async fn enter(gates: &'a Mutex<HashMap<BatchId, Arc<tokio::sync::Mutex<()>>>>, batch: BatchId) -> FirstRead<'a> {
        let gate = gates.lock().unwrap_or_else(|p| p.into_inner()).entry(batch).or_default().clone();
        FirstRead { gates, batch, _turn: gate.lock_owned().await }
    }
}

impl Drop for FirstRead<'_> {
    fn drop(&mut self) {
        self.gates.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.batch);
    }
}

/// A batch's queue into its sequencer, and this node's memory of it.
type Lane = (mpsc::Sender<Pending>, Arc<Mutex<Memory>>);

pub(crate) struct Sequencers {
    queues: Mutex<HashMap<BatchId, Lane>>,
    bucket_hint: u32,
    /// Reads of a batch and its campaign's status for claims.
    batch_reads: std::sync::atomic::AtomicU64,
    /// Per batch without a copy on this node: the turn of the one request
    /// reading it first.
    first_reads: Mutex<HashMap<BatchId, Arc<tokio::sync::Mutex<()>>>>,
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
            bucket_hint: bucket_hint % STOCK_BUCKETS,
            batch_reads: std::sync::atomic::AtomicU64::new(0),
            first_reads: Mutex::new(HashMap::new()),
        }
    }
}

/// Gathers and commits one batch's claims until the engine is dropped
/// (it holds no reference to the engine, so dropping the engine ends it).
/// Up to `store.commits_in_parallel()` commits run at once, each starting
/// on its own stock buckets; the next batch of claims is gathered while a
/// commit slot is free, so a slow commit makes the next batch larger, not
/// later.
async fn run_sequencer(
    store: Arc<dyn Store>,
    clock: Arc<dyn quan_domain::Clock>,
    campaign: quan_domain::CampaignId,
    batch: BatchId,
    bucket_hint: u32,
    mut rx: mpsc::Receiver<Pending>,
) {
    let parallel = store.commits_in_parallel().max(1);
    let slots = Arc::new(tokio::sync::Semaphore::new(parallel));
    let spread = STOCK_BUCKETS / u32::try_from(parallel).unwrap_or(1).max(1);
    let mut commit_no: u32 = 0;
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut pending = vec![first];
        let deadline = tokio::time::Instant::now() + Duration::from_micros(CLAIM_GATHER_US);
        while pending.len() < CLAIM_BATCH_LEN_MAX {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(p)) => pending.push(p),
                _ => break,
            }
        }
        let hint = bucket_hint.wrapping_add(commit_no.wrapping_mul(spread)) % STOCK_BUCKETS;
        commit_no = commit_no.wrapping_add(1);
        let at = clock.now();
        let store = store.clone();
        // Keyed answers are rendered in the commit's own task, not in this
        // loop that gathers the next commit.
        tokio::spawn(async move {
            let (mut reqs, replies): (Vec<_>, Vec<_>) = pending.into_iter().map(|p| render_at(p, at)).unzip();
            for r in &mut reqs {
                r.bucket_hint = hint;
            }
            // The batch's one ledger transfer takes the id of its first claim:
            // unique, and it names the batch in the ledger.
            let transfer_id = reqs[0].claim_id;
            let b = ClaimBatch { campaign, batch, at, transfer_id, requests: reqs };
            let started = std::time::Instant::now();
            let result = store.commit_claims(&b).await;
            drop(permit);
            tracing::debug!(batch_id = %batch, len = b.requests.len(), commit_us = started.elapsed().as_micros() as u64, "claims committed");
            match result {
                Ok(outcomes) => {
                    assert_eq!(outcomes.len(), replies.len(), "one outcome per request");
                    for (o, reply) in outcomes.into_iter().zip(replies) {
                        let _ = reply.send(Ok((o, at)));
                    }
                }
                Err(e) => {
                    tracing::error!(batch_id = %batch, error = %e, "committing claims failed");
                    for reply in replies {
                        let _ = reply.send(Err(e.to_string()));
                    }
                }
            }
        });
    }
}

/// A pending claim at its commit's instant: a keyed claim's stored answer
/// rendered with that instant.
fn render_at(p: Pending, at: DateTime<Utc>) -> (ClaimRequest, Reply) {
    let mut req = p.req;
    if let (Some((mut claimed, render)), Some(key)) = (p.render, req.key.as_mut()) {
        claimed.claimed_at = at;
        key.body = render(&claimed);
    }
    (req, p.reply)
}

impl Engine {
    fn sequencer(
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
            campaign,
            batch,
            self.inner.sequencers.bucket_hint,
            rx,
        ));
        q.insert(batch, (tx.clone(), mem.clone()));
        (tx, mem)
    }

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
            if let Some((b, s, at)) = &m.cached {
                let age = (now - *at).num_milliseconds().abs();
                let refreshing = m.refreshing_since.map(|r| (now - r).num_milliseconds().abs());
                if copy_will_do(age, refreshing) {
                    return BatchCopy::Answers((b.clone(), *s));
                }
                m.refreshing_since = Some(now);
            }
        }
        BatchCopy::Reread(mem)
    }

    /// The batch and its campaign's status, from this node's memory when fresh.
    async fn batch_view(
        &self,
        batch_id: BatchId,
        now: DateTime<Utc>,
    ) -> Result<(Arc<quan_store::Batch>, CampaignStatus), ClaimRejection> {
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
            let status = self.store().campaign_by_id(b.campaign_id).await?.status;
            Ok::<_, ClaimRejection>((b, status))
        };
        let (b, status) = match read.await {
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
        if m.cached.as_ref().is_some_and(|(old, _, _)| old.version != b.version) {
            // Amended (e.g. more stock): what this node knew may be stale.
            m.sold_out.clear();
        }
        m.cached = Some((b.clone(), status, now));
        m.refreshing_since = None;
        Ok((b, status))
    }

    /// The winners of a drawn lottery batch, from this node's memory after
    /// the first read; an undrawn lottery has none yet (and is not cached).
    async fn lottery_winners(
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

    /// A resident claims one voucher (or one pack) of `kind` from a batch.
    pub async fn claim(
        &self,
        actor: &Actor,
        batch_id: BatchId,
        kind: Option<&str>,
        position: Option<Position>,
    ) -> Result<Claimed, ClaimRejection> {
        self.claim_keyed(actor, batch_id, kind, position, None).await
    }

    /// `claim`, with the request's `Idempotency-Key` stored together with a
    /// granted claim (`KeyTaken` when another request holds the key).
    pub async fn claim_keyed(
        &self,
        actor: &Actor,
        batch_id: BatchId,
        kind: Option<&str>,
        position: Option<Position>,
        keying: Option<ClaimKeying>,
    ) -> Result<Claimed, ClaimRejection> {
        let Actor::Resident { resident, .. } = actor else { return Err(ClaimRejection::Forbidden) };
        let now = self.now();
        let (b, status) = self.batch_view(batch_id, now).await?;
        if now < b.spec.opening_at {
            return Err(ClaimRejection::NotOpen { opens_at: b.spec.opening_at, server_time: now });
        }
        if now >= b.spec.closing_at {
            return Err(ClaimRejection::Closed);
        }
        if status != CampaignStatus::Running {
            return Err(if status == CampaignStatus::Closing || status == CampaignStatus::Closed {
                ClaimRejection::Closed
            } else {
                ClaimRejection::NotOpen { opens_at: b.spec.opening_at, server_time: now }
            });
        }
        let k = match (kind, b.spec.kinds.as_slice()) {
            (None, [only]) => only,
            (None, _) => return Err(ClaimRejection::KindRequired),
            (Some(code), kinds) => kinds
                .iter()
                .find(|k| k.kind.code == code)
                .ok_or_else(|| ClaimRejection::UnknownKind(code.chars().take(32).collect()))?,
        };
        let (tx, mem) = self.sequencer(b.campaign_id, batch_id);
        if mem.lock().unwrap_or_else(|p| p.into_inner()).sold_out.get(&k.kind.code).copied().unwrap_or(false) {
            return Err(ClaimRejection::SoldOut);
        }
        if matches!(b.spec.mode, BatchMode::Lottery { .. })
            && !self.lottery_winners(&b, &mem).await?.contains(&resident.id)
        {
            return Err(ClaimRejection::NotAWinner);
        }
        let (failures, person, district) = self.eligibility_failures(resident, &b, position).await?;
        if !failures.is_empty() {
            return Err(ClaimRejection::NotEligible(failures));
        }
        let day = BusinessDay::of(now, self.config().business_day_cutoff).date();
        let at = Taking { person, district: district.map(|d| d.to_string()), day };
        self.take(&b, k, resident.id, at, &mem, &tx, keying.as_ref()).await
    }

    /// Every rule of the batch the resident fails (empty: eligible), the
    /// resident's ID hash when the batch counts per person, and the district
    /// their position fell in (if one was given). The same decision for a
    /// claim and for a lottery registration.
    pub(crate) async fn eligibility_failures(
        &self,
        resident: &quan_store::Resident,
        b: &quan_store::Batch,
        position: Option<Position>,
    ) -> Result<(Vec<Failure>, Option<quan_domain::KeyedHash>, Option<quan_domain::DistrictCode>), ClaimRejection> {
        let rule = &b.spec.eligibility;
        let needs_identity = !rule.household_prefixes.is_empty()
            || rule.age_min.is_some()
            || rule.age_max.is_some()
            || b.spec.limits.count_by != CountBy::Account;
        let identity = if needs_identity { self.identity_of(resident.id).await? } else { None };
        let located = position.map(|p| self.locate(&p)).transpose().map_err(ClaimRejection::Position)?;
        let district = match located {
            Some(Located::Inside(c) | Located::Uncertain { inside: Some(c), .. }) => Some(c),
            _ => None,
        };
        let (on_lists, place) = self.lists_and_place(resident, identity.as_ref(), rule, located).await?;
        let facts = Facts {
            place,
            household_region: identity.as_ref().map(|i| i.household_region.as_str()),
            birth_date: identity.as_ref().map(|i| i.birth_date),
            on_lists: &on_lists,
        };
        let day = BusinessDay::of(self.now(), self.config().business_day_cutoff).date();
        let mut failures = decide(rule, &facts, day);
        let person = identity.as_ref().map(|i| i.id_hash);
        if b.spec.limits.count_by == CountBy::Person && person.is_none() {
            failures.push(Failure {
                code: "identity_required",
                message: "this batch counts claims per person: verify your ID number first".into(),
            });
        }
        Ok((failures, person, district))
    }

    /// Hands one voucher (or pack) of kind `k` to a resident through the
    /// batch's sequencer, under the batch's limits: the common end of a
    /// resident's claim and of a lottery winner's issue. `person` is the
    /// resident's ID hash, when known.
    #[allow(clippy::too_many_arguments)]
    async fn take(
        &self,
        b: &quan_store::Batch,
        k: &quan_domain::batch::BatchKind,
        resident: quan_domain::ResidentId,
        at: Taking,
        mem: &Mutex<Memory>,
        tx: &mpsc::Sender<Pending>,
        keying: Option<&ClaimKeying>,
    ) -> Result<Claimed, ClaimRejection> {
        let (person, day) = (at.person, at.day);
        let batch_id = b.id;
        let limits = &b.spec.limits;
        // Every limit as a scope of numbered slots, per account and/or per person.
        let mut who = Vec::new();
        if limits.count_by != CountBy::Person {
            who.push(format!("r:{resident}"));
        }
        if let (Some(p), CountBy::Person | CountBy::Both) = (&person, limits.count_by) {
            who.push(format!("p:{}", hex::encode(p.as_bytes())));
        }
        let mut slots = Vec::new();
        // The batch's limit is held by the claim's first voucher (the
        // claim's only row): per account, or per person when it counts
        // only per person; every other limit by a slot row.
        let mut batch_limit = None;
        let mut by_person = None;
        for w in &who {
            let per_batch = (format!("b:{batch_id}:{w}"), limits.per_batch);
            if w.starts_with("r:") {
                batch_limit = Some(per_batch);
            } else if limits.count_by == CountBy::Person {
                by_person = person;
                batch_limit = Some(per_batch);
            } else {
                slots.push(per_batch);
            }
            if let Some(n) = limits.per_kind {
                slots.push((format!("k:{batch_id}:{}:{w}", k.kind.code), n));
            }
            if let Some(n) = limits.per_campaign {
                slots.push((format!("c:{}:{w}", b.campaign_id), n));
            }
            if let Some(n) = limits.per_day {
                slots.push((format!("d:{}:{day}:{w}", b.campaign_id), n));
            }
        }
        let every_limit: Vec<(String, u32)> = batch_limit.iter().chain(&slots).cloned().collect();
        {
            let m = mem.lock().unwrap_or_else(|p| p.into_inner());
            if every_limit.iter().any(|(scope, size)| m.taken.get(scope).is_some_and(|t| t >= size)) {
                return Err(ClaimRejection::LimitReached);
            }
        }
        let vouchers: Vec<(uuid::Uuid, u32, Fen)> = k
            .kind
            .discount
            .pack()
            .iter()
            .enumerate()
            .map(|(i, d)| (self.new_uuid(), i as u32, d.face_value()))
            .collect();
        let claim_id = self.new_uuid();
        let mut claimed = Claimed {
            claim_id,
            campaign_id: b.campaign_id,
            kind_code: k.kind.code.clone(),
            vouchers,
            claimed_at: self.now(),
        };
        let key = keying.map(|kg| quan_store::ClaimKey {
            scope: kg.scope.clone(),
            key: kg.key.clone(),
            request_hash: kg.request_hash,
            status: 201,
            body: String::new(),
        });
        let render = keying.map(|kg| (claimed.clone(), kg.render.clone()));
        let req = ClaimRequest {
            claim_id,
            resident,
            kind_code: k.kind.code.clone(),
            face: k.kind.face_value(),
            vouchers: claimed.vouchers.clone(),
            batch_limit,
            person: by_person,
            slots,
            business_day: day,
            bucket_hint: self.inner.sequencers.bucket_hint,
            key,
            district: at.district,
        };
        let (reply, answer) = oneshot::channel();
        if let Err(e) = tx.try_send(Pending { req, render, reply }) {
            tracing::warn!(batch_id = %batch_id, closed = matches!(e, mpsc::error::TrySendError::Closed(_)), "claim queue full: busy");
            return Err(ClaimRejection::Busy);
        }
        let outcome = match tokio::time::timeout(Duration::from_secs(CLAIM_WAIT_S), answer).await {
            Ok(Ok(Ok((o, at)))) => {
                claimed.claimed_at = at;
                o
            }
            Ok(Ok(Err(e))) => return Err(ClaimRejection::Store(StoreError::message(e))),
            Ok(Err(_)) => {
                tracing::error!(batch_id = %batch_id, "a claim's answer was dropped unsent: busy");
                return Err(ClaimRejection::Busy);
            }
            Err(_) => {
                tracing::warn!(batch_id = %batch_id, wait_s = CLAIM_WAIT_S, "a claim got no answer in time: busy");
                return Err(ClaimRejection::Busy);
            }
        };
        let mut m = mem.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
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

    /// After a draw: every winner gets one voucher (or pack) of every kind
    /// of the batch, through the batch's sequencer and under its limits, as
    /// if each had claimed. Winners who already hold theirs are skipped (so
    /// running it again issues only what is missing). When the campaign is
    /// not running, nothing is issued and winners claim theirs in the
    /// batch's window instead. Returns how many claims were issued.
    pub(crate) async fn issue_to_winners(
        &self,
        batch_id: BatchId,
        winners: &[quan_domain::ResidentId],
    ) -> Result<u64, ClaimRejection> {
        let b = Arc::new(self.store().batch_by_id(batch_id).await?);
        let status = self.store().campaign_by_id(b.campaign_id).await?.status;
        if status != CampaignStatus::Running {
            return Ok(0);
        }
        let day = BusinessDay::of(self.now(), self.config().business_day_cutoff).date();
        let (tx, mem) = self.sequencer(b.campaign_id, batch_id);
        let mut issued = 0u64;
        for chunk in winners.chunks(WINNERS_AT_ONCE) {
            let mut tasks = tokio::task::JoinSet::new();
            for w in chunk {
                for k in 0..b.spec.kinds.len() {
                    let (engine, b, mem, tx, w) = (self.clone(), b.clone(), mem.clone(), tx.clone(), *w);
                    tasks.spawn(async move {
                        let person = if b.spec.limits.count_by == CountBy::Account {
                            None
                        } else {
                            engine.store().identity(w).await?.map(|i| i.id_hash)
                        };
                        loop {
                            let at = Taking { person, district: None, day };
                            match engine.take(&b, &b.spec.kinds[k], w, at, &mem, &tx, None).await {
                                Err(ClaimRejection::Busy) => tokio::time::sleep(Duration::from_millis(20)).await,
                                other => return other,
                            }
                        }
                    });
                }
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(Ok(_)) => issued += 1,
                    // Already holds it (an earlier issue, or claimed in the window).
                    Ok(Err(ClaimRejection::LimitReached)) => {}
                    Ok(Err(e)) => return Err(e),
                    Err(e) => return Err(ClaimRejection::Store(StoreError::message(e.to_string()))),
                }
            }
        }
        tracing::info!(batch_id = %batch_id, winners = winners.len(), issued, "vouchers issued to lottery winners");
        Ok(issued)
    }
}

/// Lottery winners whose vouchers are in flight at once.
pub const WINNERS_AT_ONCE: usize = 2_000;

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
