//! The flash claim. Cheap answers (not open, closed, sold out, limit
//! reached, not eligible) come before the queue; every other request joins
//! its batch's sequencer, which gathers requests for up to a millisecond (or
//! `CLAIM_BATCH_LEN_MAX` of them) and commits them in ONE transaction, then
//! answers each. The database constraints are the second line of defence.

mod channels;
mod memory;
mod pending;
mod rejection;
mod sequencer;
mod window;
mod winners;

use chrono::{DateTime, Utc};
use quan_domain::batch::{BatchMode, CountBy};
use quan_domain::campaign::CampaignStatus;
use quan_domain::eligibility::{Facts, Failure, decide};
use quan_domain::{BatchId, BusinessDay, Fen};
use quan_store::IdempotencyBegin;
use serde::{Deserialize, Serialize};

pub use channels::{ChannelMove, ChannelShare, OWN_CHANNEL};
pub use memory::BATCH_CACHE_MS;
pub use rejection::ClaimRejection;
pub(crate) use sequencer::Sequencers;
pub use window::WINDOW_ENTRIES_MAX;
pub use winners::WINNERS_AT_ONCE;

use crate::Engine;
use crate::auth::Actor;
use crate::districts::{Located, Position};

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

/// A successful claim: the engine's record of it, which is also what a
/// keyed claim's retry gets back (stored with the claim, in its commit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    pub claim_id: uuid::Uuid,
    pub campaign_id: quan_domain::CampaignId,
    pub batch_id: BatchId,
    pub kind_code: String,
    pub vouchers: Vec<ClaimedVoucher>,
    /// The claim's one instant: its vouchers' `created_at`, the instant of
    /// the commit that made them durable.
    pub claimed_at: DateTime<Utc>,
}

/// One voucher of a claim (a pack has one per tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedVoucher {
    pub id: uuid::Uuid,
    /// 0 for a single voucher; the tier's position in a pack.
    pub tier: u32,
    pub face: Fen,
}

/// What a stored claim answer says; the format is the engine's, marked so
/// an answer stored by another operation is never taken for a claim.
#[derive(Serialize, Deserialize)]
struct StoredClaim<C> {
    claimed: C,
}

impl Claimed {
    /// The answer a keyed claim's retry gets, as stored.
    fn stored_answer(&self) -> String {
        serde_json::to_string(&StoredClaim { claimed: self }).expect("a claim serialises")
    }
}

/// A claim's `Idempotency-Key`: the caller's scope, the key and the
/// fingerprint of the request it stands for. Stored in the claim's own
/// transaction when it is granted.
#[derive(Debug, Clone)]
pub struct ClaimKeying {
    pub scope: String,
    pub key: String,
    pub request_hash: [u8; 32],
}

/// What a claim's `Idempotency-Key` already stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyedAnswer {
    /// The claim it was granted with.
    Claimed(Claimed),
    /// An answer stored in another form (by an earlier version): replayed as it is.
    Stored { status: u16, body: String },
    /// Another request with the key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// What a claim brings besides who and what: the phone's device token,
/// the client's address and the solved proof of work.
#[derive(Debug, Clone, Default)]
pub struct ClaimContext {
    pub device: Option<String>,
    pub address: Option<std::net::IpAddr>,
    pub pow: Option<PowSolution>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowSolution {
    pub challenge: String,
    pub nonce: String,
}

/// Who takes a voucher, from where, on which business day.
#[derive(Debug, Clone)]
struct Taking {
    /// The resident's ID hash, when known (per-person limits).
    person: Option<quan_domain::KeyedHash>,
    /// The district their position fell in, when one was given.
    district: Option<String>,
    day: chrono::NaiveDate,
    /// Set for a claim through a partner's app.
    via: Option<Via>,
}

/// A claim through a partner's app (its channel): the partner, the
/// resident's id for it and its request number, told back in the claim's
/// `voucher.claimed` event.
#[derive(Debug, Clone)]
pub(crate) struct Via {
    pub(crate) partner: uuid::Uuid,
    pub(crate) openid: String,
    pub(crate) out_request_no: String,
}

impl Via {
    /// The channel the claim counts under: the partner's id.
    pub(crate) fn channel(&self) -> String {
        self.partner.to_string()
    }
}

impl Engine {
    /// A resident claims one voucher (or one pack) of `kind` from a batch.
    pub async fn claim(
        &self,
        actor: &Actor,
        batch_id: BatchId,
        kind: Option<&str>,
        position: Option<Position>,
    ) -> Result<Claimed, ClaimRejection> {
        self.claim_keyed(actor, batch_id, kind, position, None, &ClaimContext::default()).await
    }

    /// `claim`, with the request's `Idempotency-Key` stored together with a
    /// granted claim (`KeyTaken` when another request holds the key), and
    /// what the request brings for risk control (device, address, proof
    /// of work).
    pub async fn claim_keyed(
        &self,
        actor: &Actor,
        batch_id: BatchId,
        kind: Option<&str>,
        position: Option<Position>,
        keying: Option<ClaimKeying>,
        ctx: &ClaimContext,
    ) -> Result<Claimed, ClaimRejection> {
        let started = std::time::Instant::now();
        let answer = self.claim_answered(actor, batch_id, kind, position, keying, ctx).await;
        if !matches!(answer, Err(ClaimRejection::NotFound | ClaimRejection::Forbidden)) {
            self.count_claim(batch_id, crate::grab_stats::outcome_of(&answer), started.elapsed());
        }
        answer
    }

    async fn claim_answered(
        &self,
        actor: &Actor,
        batch_id: BatchId,
        kind: Option<&str>,
        position: Option<Position>,
        keying: Option<ClaimKeying>,
        ctx: &ClaimContext,
    ) -> Result<Claimed, ClaimRejection> {
        let Actor::Resident { resident, .. } = actor else { return Err(ClaimRejection::Forbidden) };
        self.claim_by(resident, batch_id, (kind, position), keying, ctx, None).await
    }

    /// A resident's claim, in quan's own channel or through a partner's
    /// (`via`: its share of the stock, its pauses; no proof of work or
    /// admission window, which guard quan's own H5).
    pub(crate) async fn claim_by(
        &self,
        resident: &quan_store::Resident,
        batch_id: BatchId,
        (kind, position): (Option<&str>, Option<Position>),
        keying: Option<ClaimKeying>,
        ctx: &ClaimContext,
        via: Option<Via>,
    ) -> Result<Claimed, ClaimRejection> {
        let now = self.now();
        self.claim_rate_limits(resident.id, ctx, now)?;
        let (b, status, region) = self.batch_view(batch_id, now).await?;
        let channel = via.as_ref().map(Via::channel);
        let scope = quan_domain::pause::ClaimScope {
            batch: batch_id,
            campaign: b.campaign_id,
            campaign_region: &region,
            channel: channel.as_deref(),
        };
        if let Some(p) = quan_domain::pause::stopping_claim(&self.active_pauses().await, &scope) {
            return Err(ClaimRejection::Paused(Box::new(crate::risk::pauses::PausedBy::of(p))));
        }
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
        let (tx, mem) = match &channel {
            None => self.sequencer(b.campaign_id, batch_id),
            Some(c) => self.channel_sequencer(b.campaign_id, batch_id, c),
        };
        if mem.lock().unwrap_or_else(|p| p.into_inner()).sold_out.get(&k.kind.code).copied().unwrap_or(false) {
            return Err(ClaimRejection::SoldOut);
        }
        if matches!(b.spec.mode, BatchMode::Lottery { .. })
            && !self.lottery_winners(&b, &mem).await?.contains(&resident.id)
        {
            return Err(ClaimRejection::NotAWinner);
        }
        if via.is_none() {
            self.risk_at_claim(&b, resident, ctx, position.as_ref().map(|p| (p.lat, p.lng)), now)?;
        }
        let (failures, person, district) = self.eligibility_failures(resident, &b, position).await?;
        if !failures.is_empty() {
            return Err(ClaimRejection::NotEligible(failures));
        }
        let day = BusinessDay::of(now, self.config().business_day_cutoff).date();
        let at = Taking { person, district: district.map(|d| d.to_string()), day, via };
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
            || b.spec.limits.count_by != CountBy::Account
            || b.spec.require_real_name;
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
        if b.spec.require_real_name && identity.as_ref().is_none_or(|i| i.real_name_checked_at.is_none()) {
            failures.push(Failure {
                code: "real_name_required",
                message: "this batch asks for a real-name check: your name, ID number and phone number".into(),
            });
        }
        if b.spec.limits.count_by == CountBy::Person && person.is_none() {
            failures.push(Failure {
                code: "identity_required",
                message: "this batch counts claims per person: verify your ID number first".into(),
            });
        }
        Ok((failures, person, district))
    }

    /// What a claim's `Idempotency-Key` already stands for, if anything:
    /// looked up only when the claim is not granted now (a grant proves the
    /// key was new: the commit refuses a stored key).
    pub async fn claim_answer(&self, keying: &ClaimKeying) -> Result<Option<KeyedAnswer>, ClaimRejection> {
        let found = self.store().find_idempotent(&keying.scope, &keying.key, &keying.request_hash).await?;
        Ok(found.map(|f| match f {
            IdempotencyBegin::Replay { status, body } => match serde_json::from_str::<StoredClaim<Claimed>>(&body) {
                Ok(StoredClaim { claimed }) => KeyedAnswer::Claimed(claimed),
                Err(_) => KeyedAnswer::Stored { status, body },
            },
            IdempotencyBegin::InFlight | IdempotencyBegin::New => KeyedAnswer::InFlight,
            IdempotencyBegin::Mismatch => KeyedAnswer::Mismatch,
        }))
    }
}
