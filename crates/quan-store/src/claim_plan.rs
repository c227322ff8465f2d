//! The bookkeeping of one claim commit, apart from its SQL: which request
//! is still standing, the rounds of numbered slots (the batch's limit on a
//! claim's first voucher, then every other limit), who gets the stock, and
//! what a refused request leaves to undo. `sql/claims.rs` runs the
//! statements; this decides what each round asks and what its answer means.

use std::collections::HashSet;

use quan_domain::Fen;

use crate::{ClaimBatch, ClaimKey, ClaimOutcome, ClaimRequest};

/// One commit's outcomes so far (`None`: still standing).
#[derive(Debug)]
pub struct ClaimPlan<'b> {
    b: &'b ClaimBatch,
    outcomes: Vec<Option<ClaimOutcome>>,
}

/// The rounds of the claims' first vouchers: slot 0 of the batch's limit
/// for every standing request, then slot 1 for those that missed, … up to
/// the limit.
#[derive(Debug)]
pub struct FirstVoucherRounds {
    pending: Vec<usize>,
    slot: u32,
}

/// The rounds of the other limits' slots: slot 0 for every (request,
/// scope), then slot 1 for those that missed, … up to each scope's size.
#[derive(Debug)]
pub struct SlotRounds {
    pending: Vec<(usize, usize)>,
    slot: u32,
}

/// Why a commit's answer cannot be: a row it wrote is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unstored(pub &'static str);

impl<'b> ClaimPlan<'b> {
    pub fn new(b: &'b ClaimBatch) -> ClaimPlan<'b> {
        ClaimPlan { b, outcomes: vec![None; b.requests.len()] }
    }

    fn standing(&self, i: usize) -> bool {
        self.outcomes[i].is_none()
    }

    /// Request `i`'s `Idempotency-Key` stands for another request's claim.
    pub fn key_taken(&mut self, i: usize) {
        self.outcomes[i] = Some(ClaimOutcome::KeyTaken);
    }

    pub fn first_voucher_rounds(&self) -> FirstVoucherRounds {
        FirstVoucherRounds { pending: (0..self.outcomes.len()).filter(|i| self.standing(*i)).collect(), slot: 0 }
    }

    /// The next round's rows, `None` when every request is placed: each
    /// request with the slot of the batch's limit its first voucher tries
    /// (`None` when the batch counts per person only), in person and
    /// resident order, as every commit does, so that commits meeting on a
    /// person or a resident cannot wait for each other in a cycle.
    pub fn first_voucher_round(&self, r: &mut FirstVoucherRounds) -> Option<Vec<(usize, Option<u32>)>> {
        if r.pending.is_empty() {
            return None;
        }
        let reqs = &self.b.requests;
        r.pending.sort_by_key(|i| (reqs[*i].person.map(|p| *p.as_bytes()), reqs[*i].resident));
        Some(r.pending.iter().map(|i| (*i, reqs[*i].batch_limit.as_ref().map(|_| r.slot))).collect())
    }

    /// What the round stored (the claim ids of the first vouchers written):
    /// a request that missed tries the next slot, or has reached its limit.
    pub fn first_vouchers_stored(
        &mut self,
        r: &mut FirstVoucherRounds,
        got: &HashSet<uuid::Uuid>,
    ) -> Result<(), Unstored> {
        r.slot += 1;
        let mut next = Vec::new();
        for i in std::mem::take(&mut r.pending) {
            let req = &self.b.requests[i];
            match &req.batch_limit {
                _ if got.contains(&req.claim_id) => {}
                Some((_, size)) if r.slot < *size => next.push(i),
                Some((scope, _)) => self.outcomes[i] = Some(ClaimOutcome::LimitReached { scope: scope.clone() }),
                None => return Err(Unstored("a claim's first voucher was not stored")),
            }
        }
        r.pending = next;
        Ok(())
    }

    pub fn slot_rounds(&self) -> SlotRounds {
        let pending = (0..self.outcomes.len())
            .filter(|i| self.standing(*i))
            .flat_map(|i| (0..self.b.requests[i].slots.len()).map(move |j| (i, j)))
            .collect();
        SlotRounds { pending, slot: 0 }
    }

    /// The next round's (scope, slot number, claim id) rows with the
    /// (request, scope) each stands for, `None` when done; in scope order,
    /// as every commit does (commits meeting on a resident's slots then
    /// cannot wait for each other in a cycle).
    pub fn slot_round(&self, r: &mut SlotRounds) -> Option<(u32, Vec<(usize, usize)>)> {
        if r.pending.is_empty() {
            return None;
        }
        let reqs = &self.b.requests;
        r.pending.sort_by(|(i, j), (k, l)| reqs[*i].slots[*j].0.cmp(&reqs[*k].slots[*l].0));
        Some((r.slot, r.pending.clone()))
    }

    /// What the round stored ((claim id, scope) of each slot row written).
    pub fn slots_stored(&mut self, r: &mut SlotRounds, got: &HashSet<(uuid::Uuid, String)>) {
        r.slot += 1;
        let mut next = Vec::new();
        for (i, j) in std::mem::take(&mut r.pending) {
            let req = &self.b.requests[i];
            let (scope, size) = &req.slots[j];
            if got.contains(&(req.claim_id, scope.clone())) {
                continue;
            }
            if r.slot < *size {
                next.push((i, j));
            } else if self.standing(i) {
                self.outcomes[i] = Some(ClaimOutcome::LimitReached { scope: scope.clone() });
            }
        }
        r.pending = next.into_iter().filter(|(i, _)| self.standing(*i)).collect();
    }

    /// The kinds the commit's requests want, each once, sorted.
    pub fn kinds(&self) -> Vec<&'b str> {
        let mut kinds: Vec<&str> = self.b.requests.iter().map(|r| r.kind_code.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// The standing requests for `kind`, in arrival order, and the stock
    /// bucket to try first.
    pub fn wanting(&self, kind: &str) -> (Vec<usize>, u32) {
        let w: Vec<usize> =
            (0..self.outcomes.len()).filter(|i| self.standing(*i) && self.b.requests[*i].kind_code == kind).collect();
        let hint = w.first().map_or(0, |i| self.b.requests[*i].bucket_hint);
        (w, hint)
    }

    /// `granted` units of stock went to the first of `wanting`; the rest
    /// are sold out.
    pub fn stock_granted(&mut self, wanting: &[usize], granted: i64) {
        for (pos, i) in wanting.iter().enumerate() {
            if pos as i64 >= granted {
                self.outcomes[*i] = Some(ClaimOutcome::SoldOut);
            }
        }
    }

    /// The keys stored for requests that were refused after all.
    pub fn refused_keys(&self, keyed: &[usize]) -> Vec<&'b ClaimKey> {
        keyed.iter().filter(|i| !self.standing(**i)).filter_map(|i| self.b.requests[*i].key.as_ref()).collect()
    }

    /// Requests refused after their first voucher was stored (by another
    /// limit's slot, or by stock): `with_slots` also those refused by the
    /// batch's own limit, whose other slot rows may stand.
    fn refused_after_storing(&self, with_slots: bool) -> impl Iterator<Item = &'b ClaimRequest> + '_ {
        (0..self.outcomes.len())
            .filter(move |i| match &self.outcomes[*i] {
                Some(ClaimOutcome::SoldOut) => true,
                Some(ClaimOutcome::LimitReached { scope }) => {
                    with_slots || self.b.requests[*i].batch_limit.as_ref().is_none_or(|(s, _)| s != scope)
                }
                _ => false,
            })
            .map(|i| &self.b.requests[i])
    }

    /// The first vouchers of refused requests, to delete by id.
    pub fn refused_first_vouchers(&self) -> Vec<uuid::Uuid> {
        self.refused_after_storing(false).filter_map(|r| r.vouchers.first().map(|v| v.0)).collect()
    }

    /// The claims whose slot rows are to be deleted (none when no request
    /// has other limits).
    pub fn refused_slot_claims(&self) -> Vec<uuid::Uuid> {
        if self.b.requests.iter().all(|r| r.slots.is_empty()) {
            return Vec::new();
        }
        self.refused_after_storing(true).map(|r| r.claim_id).collect()
    }

    /// The requests granted.
    pub fn granted(&self) -> Vec<&'b ClaimRequest> {
        (0..self.outcomes.len()).filter(|i| self.standing(*i)).map(|i| &self.b.requests[i]).collect()
    }

    /// The face value the granted claims reserve, `None` on overflow.
    pub fn reserved(&self) -> Option<Fen> {
        Fen::checked_sum((0..self.outcomes.len()).filter(|i| self.standing(*i)).map(|i| self.b.requests[i].face))
    }

    /// Every request's outcome: standing ones are claimed.
    pub fn outcomes(self) -> Vec<ClaimOutcome> {
        self.outcomes.into_iter().map(|o| o.unwrap_or(ClaimOutcome::Claimed)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quan_domain::{BatchId, CampaignId, ResidentId};

    fn request(n: u128, batch_limit: Option<u32>, slots: &[(&str, u32)], kind: &str) -> ClaimRequest {
        ClaimRequest {
            claim_id: uuid::Uuid::from_u128(n),
            resident: ResidentId::from_uuid(uuid::Uuid::from_u128(1000 + n)),
            kind_code: kind.into(),
            face: Fen::new(1_000),
            vouchers: vec![(uuid::Uuid::from_u128(2000 + n), 0, Fen::new(1_000))],
            batch_limit: batch_limit.map(|s| (format!("b:r{n}"), s)),
            person: None,
            slots: slots.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
            business_day: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date"),
            bucket_hint: 3,
            key: None,
            district: None,
            event: None,
        }
    }

    fn batch(requests: Vec<ClaimRequest>) -> ClaimBatch {
        ClaimBatch {
            campaign: CampaignId::from_uuid(uuid::Uuid::from_u128(1)),
            batch: BatchId::from_uuid(uuid::Uuid::from_u128(2)),
            at: chrono::DateTime::UNIX_EPOCH,
            transfer_id: uuid::Uuid::from_u128(3),
            requests,
            channel: String::new(),
        }
    }

    #[test]
    fn a_first_voucher_that_misses_tries_the_next_slot_until_the_limit_then_is_refused() {
        let b = batch(vec![request(1, Some(2), &[], "k"), request(2, Some(2), &[], "k")]);
        let mut plan = ClaimPlan::new(&b);
        let mut rounds = plan.first_voucher_rounds();
        let first = plan.first_voucher_round(&mut rounds).expect("a first round");
        assert_eq!(first.iter().map(|(_, s)| *s).collect::<Vec<_>>(), vec![Some(0), Some(0)]);
        let got: HashSet<_> = [b.requests[0].claim_id].into();
        plan.first_vouchers_stored(&mut rounds, &got).expect("stored");
        let second = plan.first_voucher_round(&mut rounds).expect("a second round for the one that missed");
        assert_eq!(second, vec![(1, Some(1))]);
        plan.first_vouchers_stored(&mut rounds, &HashSet::new()).expect("stored");
        assert!(plan.first_voucher_round(&mut rounds).is_none());
        let out = plan.outcomes();
        assert_eq!(out[0], ClaimOutcome::Claimed);
        assert_eq!(out[1], ClaimOutcome::LimitReached { scope: "b:r2".into() });
    }

    #[test]
    fn a_missing_first_voucher_without_a_batch_limit_is_an_error_not_a_refusal() {
        let b = batch(vec![request(1, None, &[], "k")]);
        let mut plan = ClaimPlan::new(&b);
        let mut rounds = plan.first_voucher_rounds();
        assert_eq!(plan.first_voucher_round(&mut rounds), Some(vec![(0, None)]));
        assert!(plan.first_vouchers_stored(&mut rounds, &HashSet::new()).is_err());
    }

    #[test]
    fn slots_are_asked_in_scope_order_and_a_full_scope_refuses_its_claim_and_drops_its_other_slots() {
        let b = batch(vec![request(1, Some(1), &[("z", 1), ("a", 1)], "k"), request(2, Some(1), &[("a", 1)], "k")]);
        let mut plan = ClaimPlan::new(&b);
        let mut rounds = plan.slot_rounds();
        let (slot, rows) = plan.slot_round(&mut rounds).expect("a round");
        assert_eq!(slot, 0);
        let scopes: Vec<&str> = rows.iter().map(|(i, j)| b.requests[*i].slots[*j].0.as_str()).collect();
        assert_eq!(scopes, vec!["a", "a", "z"]);
        // Request 1 got "a" and missed "z"; request 2 missed "a".
        let got: HashSet<_> = [(b.requests[0].claim_id, "a".to_owned())].into();
        plan.slots_stored(&mut rounds, &got);
        assert!(plan.slot_round(&mut rounds).is_none(), "every scope had one slot");
        assert_eq!(plan.refused_slot_claims(), vec![b.requests[0].claim_id, b.requests[1].claim_id]);
        assert_eq!(plan.refused_first_vouchers().len(), 2, "both first vouchers were stored before");
        let out = plan.outcomes();
        assert_eq!(out[0], ClaimOutcome::LimitReached { scope: "z".into() });
        assert_eq!(out[1], ClaimOutcome::LimitReached { scope: "a".into() });
    }

    #[test]
    fn stock_goes_to_the_first_arrivals_of_each_kind_and_only_the_granted_reserve_face_value() {
        let b =
            batch(vec![request(1, Some(1), &[], "a"), request(2, Some(1), &[], "b"), request(3, Some(1), &[], "a")]);
        let mut plan = ClaimPlan::new(&b);
        assert_eq!(plan.kinds(), vec!["a", "b"]);
        let (wanting, hint) = plan.wanting("a");
        assert_eq!((wanting.clone(), hint), (vec![0, 2], 3));
        plan.stock_granted(&wanting, 1);
        assert_eq!(plan.granted().len(), 2);
        assert_eq!(plan.reserved(), Some(Fen::new(2_000)));
        assert_eq!(plan.refused_first_vouchers(), vec![b.requests[2].vouchers[0].0]);
        assert_eq!(plan.outcomes()[2], ClaimOutcome::SoldOut);
    }

    #[test]
    fn a_refused_claims_stored_key_is_deleted_and_a_taken_key_claims_nothing() {
        let mut r1 = request(1, Some(1), &[], "k");
        r1.key = Some(ClaimKey {
            scope: "s".into(),
            key: "k1".into(),
            request_hash: [0; 32],
            status: 201,
            body: String::new(),
        });
        let b = batch(vec![r1, request(2, Some(1), &[], "k")]);
        let mut plan = ClaimPlan::new(&b);
        plan.key_taken(1);
        let (wanting, _) = plan.wanting("k");
        assert_eq!(wanting, vec![0]);
        plan.stock_granted(&wanting, 0);
        assert_eq!(plan.refused_keys(&[0]).len(), 1);
        assert!(plan.granted().is_empty());
        assert_eq!(plan.outcomes(), vec![ClaimOutcome::SoldOut, ClaimOutcome::KeyTaken]);
    }
}
