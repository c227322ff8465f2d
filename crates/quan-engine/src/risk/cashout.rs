//! The cash-out rules in the redemption path: what this node has seen of
//! each merchant over the last seven days (loaded from the database the
//! first time the node meets the merchant, so the counts survive a
//! restart), the counts a redemption is judged on, and its verdict. A held
//! redemption's subsidy goes to the merchant's risk-held account in the
//! redemption's own commit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Timelike, Utc};
use quan_domain::cashout::{self, Counts, Seen, Verdict};
use quan_domain::merchant::Scale;
use quan_domain::voucher_kind::Discount;
use quan_domain::{Fen, MerchantId, ResidentId, TillId, UTC8};
use quan_store::{Redemption, StoreError};

use crate::Engine;

/// Days of a merchant's redemptions a node keeps.
const DAYS_KEPT: i64 = 7;
/// Redemptions of one merchant a node keeps at most (the oldest go first).
const EVENTS_MAX: usize = 50_000;
/// Hours a merchant's usual hour is reckoned over a day.
const OPEN_HOURS_A_DAY: u32 = 10;
/// Threshold redemptions the hugging rule looks back over.
const HUG_LOOKBACK: usize = 50;

/// One redemption as the rules remember it.
#[derive(Debug, Clone, Copy)]
struct Event {
    at_ms: i64,
    till: Option<TillId>,
    resident: ResidentId,
    /// Its voucher had a threshold, and the order hugged it.
    threshold: bool,
    hugged: bool,
}

/// What the node has seen of one merchant.
#[derive(Debug, Default)]
struct MerchantSeen {
    /// Oldest first.
    events: VecDeque<Event>,
    /// Per resident, their redemptions' instants here (oldest first).
    pairs: HashMap<ResidentId, VecDeque<i64>>,
    /// The last `HUG_LOOKBACK` threshold redemptions: whether each hugged.
    hugs: VecDeque<bool>,
    /// Per till, its redemptions' instants of the last minute (oldest first):
    /// counted without walking the merchant's events.
    tills: HashMap<TillId, VecDeque<i64>>,
}

impl MerchantSeen {
    fn push(&mut self, e: Event) {
        self.pairs.entry(e.resident).or_default().push_back(e.at_ms);
        if let Some(t) = e.till {
            self.tills.entry(t).or_default().push_back(e.at_ms);
        }
        if e.threshold {
            self.hugs.push_back(e.hugged);
            if self.hugs.len() > HUG_LOOKBACK {
                self.hugs.pop_front();
            }
        }
        self.events.push_back(e);
        if self.events.len() > EVENTS_MAX {
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(old) = self.events.pop_front()
            && let Some(p) = self.pairs.get_mut(&old.resident)
        {
            p.pop_front();
            if p.is_empty() {
                self.pairs.remove(&old.resident);
            }
        }
    }

    fn prune(&mut self, now_ms: i64) {
        let horizon = now_ms - DAYS_KEPT * 86_400_000;
        while self.events.front().is_some_and(|e| e.at_ms < horizon) {
            self.drop_oldest();
        }
        self.tills.retain(|_, q| {
            while q.front().is_some_and(|at| *at < now_ms - 60_000) {
                q.pop_front();
            }
            !q.is_empty()
        });
    }

    fn counts(&self, till: Option<TillId>, resident: ResidentId, now_ms: i64) -> Counts {
        let since = |ms: i64| self.events.len() - self.events.partition_point(|e| e.at_ms < now_ms - ms);
        // `prune` has dropped what is older than a minute.
        let till_minute = till.and_then(|t| self.tills.get(&t)).map_or(0, VecDeque::len);
        let (seen, hugged) = self.hugs.iter().fold((0u32, 0u32), |(s, h), hug| (s + 1, h + u32::from(*hug)));
        let week = self.pairs.get(&resident).map_or(0, VecDeque::len);
        let days = u32::try_from(DAYS_KEPT).unwrap_or(7) * OPEN_HOURS_A_DAY;
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Counts {
            merchant_hour: n(since(3_600_000)),
            merchant_usual_hour: n(self.events.len()).div_ceil(days),
            till_minute: n(till_minute),
            threshold_seen: seen,
            threshold_hugged: hugged,
            pair_week: n(week),
            device_residents: 0,
        }
    }
}

/// A merchant's record on this node, loaded once however many redemptions
/// meet it first at the same time.
type Loaded = Arc<tokio::sync::OnceCell<Arc<Mutex<MerchantSeen>>>>;

/// Every merchant this node has met, each loaded once.
#[derive(Debug, Default)]
pub(crate) struct CashoutMemory {
    merchants: Mutex<HashMap<MerchantId, Loaded>>,
}

/// What the rules see of the redemption being decided.
pub(crate) struct Judged<'a> {
    pub merchant: MerchantId,
    pub scale: Scale,
    pub till: Option<TillId>,
    pub resident: ResidentId,
    pub order: Fen,
    pub discount: &'a Discount,
}

/// A voucher's threshold (满X减Y), if its rule has one.
pub(crate) fn threshold(d: &Discount) -> Option<Fen> {
    quan_domain::cashout::threshold(d, Fen::ZERO)
}

impl Engine {
    /// The rules' verdict on a redemption about to be recorded.
    pub(crate) async fn cashout_verdict(&self, j: &Judged<'_>, now: DateTime<Utc>) -> Result<Verdict, StoreError> {
        let seen = self.merchant_seen(j.merchant, now).await?;
        let counts = {
            let mut m = seen.lock().unwrap_or_else(|p| p.into_inner());
            m.prune(now.timestamp_millis());
            m.counts(j.till, j.resident, now.timestamp_millis())
        };
        let facts = Seen {
            order: j.order,
            threshold: threshold(j.discount),
            scale: j.scale,
            local_hour: u8::try_from(now.with_timezone(&UTC8).hour()).unwrap_or(0),
            distance_m: None,
        };
        Ok(cashout::at_redemption(&facts, &counts, &self.inner.config.cashout))
    }

    /// Counts a recorded redemption for the rules that judge the next ones.
    pub(crate) fn cashout_remember(&self, r: &quan_store::Redemption, threshold: Option<Fen>, at: DateTime<Utc>) {
        let cell = self.inner.cashout.merchants.lock().unwrap_or_else(|p| p.into_inner()).get(&r.merchant_id).cloned();
        if let Some(seen) = cell.as_ref().and_then(|c| c.get()) {
            let hugged = threshold.is_some_and(|t| cashout::hugs(r.order, t, self.inner.config.cashout.hug_band_bp));
            seen.lock().unwrap_or_else(|p| p.into_inner()).push(Event {
                at_ms: at.timestamp_millis(),
                till: r.till_id,
                resident: r.resident_id,
                threshold: threshold.is_some(),
                hugged,
            });
        }
    }

    /// This node's record of a merchant, loaded from its last seven days of
    /// redemptions the first time (by one request; the others wait for it).
    async fn merchant_seen(
        &self,
        merchant: MerchantId,
        now: DateTime<Utc>,
    ) -> Result<Arc<Mutex<MerchantSeen>>, StoreError> {
        let cell =
            self.inner.cashout.merchants.lock().unwrap_or_else(|p| p.into_inner()).entry(merchant).or_default().clone();
        let seen = cell
            .get_or_try_init(|| async {
                let today = now.with_timezone(&UTC8).date_naive();
                let from = today - Duration::days(DAYS_KEPT);
                let limit = u32::try_from(EVENTS_MAX).unwrap_or(u32::MAX);
                let mut past = self.store().redemptions_of_merchant(merchant, (from, today), None, limit).await?;
                past.reverse();
                let mut seen = MerchantSeen::default();
                for r in &past {
                    seen.push(self.event_of(r).await);
                }
                Ok::<_, StoreError>(Arc::new(Mutex::new(seen)))
            })
            .await?;
        Ok(seen.clone())
    }

    /// A recorded redemption as the rules remember it (its voucher's rule
    /// read from its batch, unknown rules counting as no threshold).
    async fn event_of(&self, r: &Redemption) -> Event {
        let discount = match self.batch_for_redemption(r.batch_id).await {
            Ok(b) => b.spec.kinds.iter().find(|k| k.kind.code == r.kind_code).map(|k| k.kind.discount.clone()),
            Err(_) => None,
        };
        let t = discount.as_ref().and_then(threshold);
        Event {
            at_ms: r.redeemed_at.timestamp_millis(),
            till: r.till_id,
            resident: r.resident_id,
            threshold: t.is_some(),
            hugged: t.is_some_and(|t| cashout::hugs(r.order, t, self.inner.config.cashout.hug_band_bp)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at_ms: i64, till: u128, resident: u128, hugged: bool) -> Event {
        Event {
            at_ms,
            till: Some(TillId::from_uuid(uuid::Uuid::from_u128(till))),
            resident: ResidentId::from_uuid(uuid::Uuid::from_u128(resident)),
            threshold: true,
            hugged,
        }
    }

    #[test]
    fn counts_look_back_an_hour_a_minute_and_a_week_and_old_ones_are_forgotten() {
        let hour = 3_600_000;
        let now = 10 * 86_400_000;
        let mut m = MerchantSeen::default();
        m.push(ev(now - 8 * 86_400_000, 1, 7, false));
        m.push(ev(now - 2 * hour, 1, 7, true));
        m.push(ev(now - 30 * 60_000, 2, 8, true));
        m.push(ev(now - 30_000, 1, 7, false));
        m.prune(now);
        let till = Some(TillId::from_uuid(uuid::Uuid::from_u128(1)));
        let c = m.counts(till, ResidentId::from_uuid(uuid::Uuid::from_u128(7)), now);
        assert_eq!((c.merchant_hour, c.till_minute, c.pair_week), (2, 1, 2), "{c:?}");
        assert_eq!((c.threshold_seen, c.threshold_hugged), (4, 2), "the hugging window keeps its last 50");
        assert_eq!(m.events.len(), 3, "the one eight days old is gone");
        assert_eq!(c.merchant_usual_hour, 1, "three in seven days of ten hours, rounded up");
    }
}
