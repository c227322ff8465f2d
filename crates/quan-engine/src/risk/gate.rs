//! Risk at the claim, on each node: GCRA rate limits per account, device
//! token, client address and address block; the proof of work a batch may
//! ask for (issued from `pow_lead_s` before the opening, checked in
//! microseconds, each challenge taken once on this node); and the signals
//! (`quan_domain::signals`) that raise the work asked of an account and
//! are recorded for the risk review. A refusal always names its rule.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use quan_domain::pow::{Challenge, PowError};
use quan_domain::signals::{AccountFacts, Signal, extra_bits, lockstep, phone_prefix, signals};
use quan_domain::{BatchId, ResidentId};
use quan_store::{Resident, RiskSignal};

use super::config::{Rate, RiskConfig};
use crate::claims::{ClaimContext, ClaimRejection};
use crate::rate_limit::RateLimiter;

/// A challenge handed to a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedChallenge {
    pub challenge: String,
    pub bits: u8,
    pub expires_at: DateTime<Utc>,
    /// The signals that raised `bits` above the base (codes only).
    pub signals: Vec<Signal>,
}

/// Keys one kind of count keeps per batch at most; past it, new keys count
/// as one more each (a flood of fake tokens shows as nothing new).
const SEEN_KEYS_MAX: usize = 2_000_000;
/// Accounts counted per key at most.
const SEEN_PER_KEY_MAX: usize = 10_000;
/// Signal rows waiting for the background writer at most.
const PENDING_SIGNALS_MAX: usize = 100_000;

/// What this node has seen of one batch's claimants.
#[derive(Debug, Default)]
struct Seen {
    /// The batch's close: after it, what was seen of it is forgotten.
    closes_at: DateTime<Utc>,
    devices: HashMap<String, HashSet<ResidentId>>,
    addresses: HashMap<IpAddr, HashSet<ResidentId>>,
    positions: HashMap<(i64, i64), HashSet<ResidentId>>,
    times: HashMap<ResidentId, Vec<i64>>,
}

fn count<K: std::hash::Hash + Eq>(map: &mut HashMap<K, HashSet<ResidentId>>, key: K, who: ResidentId) -> u32 {
    if map.len() >= SEEN_KEYS_MAX && !map.contains_key(&key) {
        return 1;
    }
    let set = map.entry(key).or_default();
    if set.len() < SEEN_PER_KEY_MAX {
        set.insert(who);
    }
    u32::try_from(set.len()).unwrap_or(u32::MAX)
}

#[derive(Debug)]
pub(crate) struct RiskGate {
    account: RateLimiter,
    device: RateLimiter,
    address: RateLimiter,
    block: RateLimiter,
    pub(crate) sms_device: RateLimiter,
    pub(crate) sms_block: RateLimiter,
    pub(crate) login_block: RateLimiter,
    /// Real-name checks per account (each costs the platform money).
    pub(crate) real_name: RateLimiter,
    seen: Mutex<HashMap<BatchId, Seen>>,
    /// Challenges taken on this node (by salt), until they expire.
    used: Mutex<HashMap<[u8; 16], i64>>,
    recorded: Mutex<HashSet<(BatchId, ResidentId, Signal)>>,
    pending: Arc<Mutex<Vec<RiskSignal>>>,
}

fn limiter(r: Rate) -> RateLimiter {
    RateLimiter::new(r.per_s, Duration::seconds(1), r.burst, 1_000_000)
}

impl RiskGate {
    pub(crate) fn new(c: &RiskConfig) -> RiskGate {
        let per_minute = |n: u32| RateLimiter::new(n, Duration::minutes(1), n, 1_000_000);
        RiskGate {
            account: limiter(c.claims_per_account),
            device: limiter(c.claims_per_device),
            address: limiter(c.claims_per_address),
            block: limiter(c.claims_per_block),
            sms_device: per_minute(c.sms_per_device_per_minute),
            sms_block: per_minute(c.sms_per_block_per_minute),
            login_block: per_minute(c.logins_per_block_per_minute),
            real_name: RateLimiter::new(5, Duration::hours(1), 5, 1_000_000),
            seen: Mutex::new(HashMap::new()),
            used: Mutex::new(HashMap::new()),
            recorded: Mutex::new(HashSet::new()),
            pending: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

/// An address's block: the /24 of an IPv4 address, the /64 of an IPv6 one.
pub fn block(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// A position's cell of about a metre (1e-5 degree): a key for counting
/// accounts at one place, never an amount.
#[allow(clippy::float_arithmetic, clippy::cast_possible_truncation)]
fn metre_cell((lat, lng): (f64, f64)) -> (i64, i64) {
    ((lat * 1e5).round() as i64, (lng * 1e5).round() as i64)
}

fn wait_s(d: Duration) -> u64 {
    u64::try_from((d.num_milliseconds() + 999) / 1000).unwrap_or(1).max(1)
}

impl crate::Engine {
    fn gate(&self) -> &RiskGate {
        &self.inner.risk_gate
    }

    /// The claim's rate limits, the account's first (it names the rule
    /// that refused).
    pub(crate) fn claim_rate_limits(
        &self,
        resident: ResidentId,
        ctx: &ClaimContext,
        now: DateTime<Utc>,
    ) -> Result<(), ClaimRejection> {
        let g = self.gate();
        let limited = |rule: &'static str, r: Result<(), Duration>| {
            r.map_err(|d| ClaimRejection::RateLimited { rule, retry_after_s: wait_s(d) })
        };
        limited("per_account", g.account.check(&resident.to_string(), now))?;
        if let Some(d) = &ctx.device {
            limited("per_device", g.device.check(d, now))?;
        }
        if let Some(a) = ctx.address {
            limited("per_address", g.address.check(&a.to_string(), now))?;
            limited("per_address_block", g.block.check(&block(a), now))?;
        }
        Ok(())
    }

    /// The signals this claimant shows now, counted on this node.
    fn signals_now(
        &self,
        b: &quan_store::Batch,
        resident: &Resident,
        ctx: &ClaimContext,
        position: Option<(f64, f64)>,
        now: DateTime<Utc>,
    ) -> Vec<Signal> {
        let mut seen = self.gate().seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.contains_key(&b.id) {
            // A batch new to this node: forget the closed ones, and the
            // signals recorded for them.
            seen.retain(|_, s| s.closes_at > now);
            self.gate()
                .recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|(batch, _, _)| seen.contains_key(batch));
        }
        let s = seen.entry(b.id).or_insert_with(|| Seen { closes_at: b.spec.closing_at, ..Seen::default() });
        let who = resident.id;
        let accounts_on_device = ctx.device.as_ref().map_or(1, |d| count(&mut s.devices, d.clone(), who));
        let accounts_on_address = ctx.address.map_or(1, |a| count(&mut s.addresses, a, who));
        let at = position.map(metre_cell);
        let accounts_at_position = at.map_or(1, |p| count(&mut s.positions, p, who));
        let times = s.times.entry(who).or_default();
        times.push(now.timestamp_millis());
        if times.len() > 4 {
            times.remove(0);
        }
        let facts = AccountFacts {
            phone_prefix: phone_prefix(&resident.phone_masked),
            registered_min_before_opening: (b.spec.opening_at - resident.created_at).num_minutes(),
            accounts_on_device,
            accounts_on_address,
            accounts_at_position,
            lockstep: lockstep(times),
        };
        drop(seen);
        let rules = &self.config().risk.signals;
        let found = signals(&facts, rules);
        // Only accounts whose signals add up to a lead are recorded: one
        // weak signal (a new account on the morning of a grab, a virtual
        // number) is common among honest people, and a row for each would
        // compete with the claims' own writes.
        if extra_bits(&found, rules) > 0 {
            self.record_signals(b.id, who, &found, now);
        }
        found
    }

    /// Keeps each (batch, resident, signal) once, written in the background
    /// a moment later with the others found meanwhile.
    fn record_signals(&self, batch: BatchId, who: ResidentId, found: &[Signal], now: DateTime<Utc>) {
        let fresh: Vec<Signal> = {
            let mut rec = self.gate().recorded.lock().unwrap_or_else(|p| p.into_inner());
            found.iter().copied().filter(|s| rec.insert((batch, who, *s))).collect()
        };
        if fresh.is_empty() {
            return;
        }
        let first = {
            let mut p = self.gate().pending.lock().unwrap_or_else(|p| p.into_inner());
            if p.len() >= PENDING_SIGNALS_MAX {
                // The writer is behind: these leads are kept on this node only.
                return;
            }
            let first = p.is_empty();
            p.extend(fresh.into_iter().map(|s| RiskSignal {
                batch_id: batch,
                resident_id: who,
                signal: s.code().into(),
                at: now,
            }));
            first
        };
        if first {
            let (pending, store) = (self.gate().pending.clone(), self.store().clone());
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let rows = std::mem::take(&mut *pending.lock().unwrap_or_else(|p| p.into_inner()));
                if let Err(e) = store.put_risk_signals(&rows).await {
                    tracing::error!(error = %e, rows = rows.len(), "recording risk signals failed");
                }
            });
        }
    }

    /// Writes the signals found and not yet written (the background writer
    /// does it a moment after the first; a simulation calls this before it
    /// closes its store).
    pub async fn flush_risk_signals(&self) -> Result<(), quan_store::StoreError> {
        let rows = std::mem::take(&mut *self.gate().pending.lock().unwrap_or_else(|p| p.into_inner()));
        if rows.is_empty() { Ok(()) } else { self.store().put_risk_signals(&rows).await }
    }

    /// The work a claimant must show now: the base, raised by their signals.
    fn bits_for(&self, found: &[Signal]) -> u8 {
        let r = &self.config().risk;
        r.pow_bits.saturating_add(extra_bits(found, &r.signals)).min(quan_domain::pow::BITS_MAX)
    }

    fn pow_key(&self) -> [u8; 32] {
        self.inner.pii_key.derived("proof_of_work")
    }

    /// Signals, then the proof of work when the batch asks for it: a
    /// missing, forged, foreign, expired, reused or too easy solution is
    /// refused by name.
    pub(crate) fn risk_at_claim(
        &self,
        b: &quan_store::Batch,
        resident: &Resident,
        ctx: &ClaimContext,
        position: Option<(f64, f64)>,
        now: DateTime<Utc>,
    ) -> Result<(), ClaimRejection> {
        let found = self.signals_now(b, resident, ctx, position, now);
        if !b.spec.proof_of_work {
            return Ok(());
        }
        let bits = self.bits_for(&found);
        let Some(sol) = &ctx.pow else { return Err(ClaimRejection::ChallengeRequired { bits }) };
        let now_ms = now.timestamp_millis();
        let c = quan_domain::pow::check(&sol.challenge, &sol.nonce, &self.pow_key(), b.id, resident.id, now_ms)
            .map_err(ClaimRejection::Challenge)?;
        if c.bits < bits {
            return Err(ClaimRejection::ChallengeTooEasy { bits, signals: found });
        }
        let mut used = self.gate().used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() > 1_000_000 {
            used.retain(|_, exp| *exp >= now_ms);
        }
        if used.insert(c.salt, c.expires_at_ms).is_some() {
            return Err(ClaimRejection::Challenge(PowError::Used));
        }
        Ok(())
    }

    /// A challenge for a resident and a batch that asks for proof of work,
    /// from `pow_lead_s` before its opening on.
    pub async fn claim_challenge(
        &self,
        actor: &crate::Actor,
        batch_id: BatchId,
        ctx: &ClaimContext,
    ) -> Result<IssuedChallenge, ClaimRejection> {
        let crate::Actor::Resident { resident, .. } = actor else { return Err(ClaimRejection::Forbidden) };
        let now = self.now();
        self.claim_rate_limits(resident.id, ctx, now)?;
        let b = self.store().batch_by_id(batch_id).await?;
        if !b.spec.proof_of_work {
            return Err(ClaimRejection::NoChallengeNeeded);
        }
        let from = b.spec.opening_at - Duration::seconds(self.config().risk.pow_lead_s);
        if now < from {
            return Err(ClaimRejection::ChallengeTooEarly { from });
        }
        if now >= b.spec.closing_at {
            return Err(ClaimRejection::Closed);
        }
        let found = self.signals_now(&b, resident, ctx, None, now);
        let mut salt = [0u8; 16];
        self.inner.random.fill(&mut salt);
        let expires_at = now + Duration::seconds(self.config().risk.pow_ttl_s);
        let c = Challenge {
            batch: batch_id,
            resident: resident.id,
            expires_at_ms: expires_at.timestamp_millis(),
            bits: self.bits_for(&found),
            salt,
        };
        let raised = if c.bits > self.config().risk.pow_bits { found } else { Vec::new() };
        Ok(IssuedChallenge { challenge: c.encode(&self.pow_key()), bits: c.bits, expires_at, signals: raised })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_block_is_its_slash_24_or_slash_64() {
        assert_eq!(block("203.0.113.77".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))), "203.0.113.0/24");
        let v6: IpAddr = "2408:8207:1234:5678:9abc::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(block(v6), "2408:8207:1234:5678::/64");
    }

    #[test]
    fn counts_stop_growing_past_their_bound() {
        let mut m: HashMap<u32, HashSet<ResidentId>> = HashMap::new();
        let r = |n: u128| ResidentId::from_uuid(uuid::Uuid::from_u128(n));
        assert_eq!(count(&mut m, 1, r(1)), 1);
        assert_eq!(count(&mut m, 1, r(2)), 2);
        assert_eq!(count(&mut m, 1, r(2)), 2, "the same account counts once");
        assert_eq!(count(&mut m, 2, r(1)), 1);
    }
}
