//! Which limits a claim must take. Every per-resident limit of a batch is a
//! scope of numbered slots (`0..limit`), counted per phone account and/or
//! per natural person; the store makes "at most N" hold by a unique key on
//! (scope, slot). The batch's own limit is held by the claim's first
//! voucher (its only row in a plain grab); every other limit by a slot row.

use chrono::NaiveDate;

use crate::batch::{CountBy, Limits};
use crate::{BatchId, CampaignId, KeyedHash, ResidentId};

/// A limit scope and how many slots it has.
pub type Scope = (String, u32);

/// The scopes one claim takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitScopes {
    /// The batch's own limit, held by the claim's first voucher: per
    /// account, or per person when the batch counts only per person.
    pub batch_limit: Option<Scope>,
    /// The person whose ID the first voucher's slot is keyed by, when the
    /// batch counts only per person.
    pub by_person: Option<KeyedHash>,
    /// Every other limit, each held by a slot row.
    pub slots: Vec<Scope>,
}

impl LimitScopes {
    /// Every scope the claim takes, the batch's own first.
    pub fn every(&self) -> Vec<Scope> {
        self.batch_limit.iter().chain(&self.slots).cloned().collect()
    }
}

/// What a claim is, for its limits.
#[derive(Debug, Clone, Copy)]
pub struct ClaimFacts<'a> {
    pub campaign: CampaignId,
    pub batch: BatchId,
    pub kind_code: &'a str,
    pub resident: ResidentId,
    /// The resident's ID hash, when known.
    pub person: Option<KeyedHash>,
    /// The claim's business day (UTC+8).
    pub day: NaiveDate,
}

/// How every scope counted per this person ends (`…:p:<hex>`): what
/// giving a person's slots back looks for.
pub fn person_scope_suffix(person: &crate::KeyedHash) -> String {
    format!(":p:{}", hex(person.as_bytes()))
}

/// The scopes a claim under `limits` must take.
pub fn limit_scopes(limits: &Limits, c: &ClaimFacts<'_>) -> LimitScopes {
    let mut who = Vec::new();
    if limits.count_by != CountBy::Person {
        who.push(format!("r:{}", c.resident));
    }
    if let (Some(p), CountBy::Person | CountBy::Both) = (&c.person, limits.count_by) {
        who.push(format!("p:{}", hex(p.as_bytes())));
    }
    let mut out = LimitScopes { batch_limit: None, by_person: None, slots: Vec::new() };
    for w in &who {
        let per_batch = (format!("b:{}:{w}", c.batch), limits.per_batch);
        if w.starts_with("r:") {
            out.batch_limit = Some(per_batch);
        } else if limits.count_by == CountBy::Person {
            out.by_person = c.person;
            out.batch_limit = Some(per_batch);
        } else {
            out.slots.push(per_batch);
        }
        if let Some(n) = limits.per_kind {
            out.slots.push((format!("k:{}:{}:{w}", c.batch, c.kind_code), n));
        }
        if let Some(n) = limits.per_campaign {
            out.slots.push((format!("c:{}:{w}", c.campaign), n));
        }
        if let Some(n) = limits.per_day {
            out.slots.push((format!("d:{}:{}:{w}", c.campaign, c.day), n));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(person: Option<KeyedHash>) -> ClaimFacts<'static> {
        ClaimFacts {
            campaign: CampaignId::from_uuid(uuid::Uuid::from_u128(1)),
            batch: BatchId::from_uuid(uuid::Uuid::from_u128(2)),
            kind_code: "k10",
            resident: ResidentId::from_uuid(uuid::Uuid::from_u128(3)),
            person,
            day: NaiveDate::from_ymd_opt(2026, 12, 6).expect("a date"),
        }
    }

    const PERSON: KeyedHash = KeyedHash::from_bytes([0xab; 32]);

    #[test]
    fn a_batch_counted_per_account_is_held_by_the_first_voucher_alone() {
        let limits = Limits { count_by: CountBy::Account, ..Limits::default() };
        let s = limit_scopes(&limits, &facts(Some(PERSON)));
        assert_eq!(s.batch_limit, Some((format!("b:{}:r:{}", facts(None).batch, facts(None).resident), 1)));
        assert!(s.slots.is_empty(), "no slot rows: {s:?}");
        assert_eq!(s.by_person, None);
    }

    #[test]
    fn counted_both_ways_the_person_takes_a_slot_row_for_the_batch_beside_the_account() {
        let s = limit_scopes(&Limits::default(), &facts(Some(PERSON)));
        assert!(s.batch_limit.as_ref().is_some_and(|(k, _)| k.contains(":r:")));
        assert_eq!(s.slots.len(), 1);
        assert!(s.slots[0].0.ends_with(&format!(":p:{}", "ab".repeat(32))), "{s:?}");
    }

    #[test]
    fn counted_per_person_the_first_voucher_holds_the_persons_batch_slot() {
        let limits = Limits { count_by: CountBy::Person, per_day: Some(2), ..Limits::default() };
        let s = limit_scopes(&limits, &facts(Some(PERSON)));
        assert!(s.batch_limit.as_ref().is_some_and(|(k, _)| k.contains(":p:")));
        assert_eq!(s.by_person, Some(PERSON));
        assert_eq!(s.slots, vec![(format!("d:{}:2026-12-06:p:{}", facts(None).campaign, "ab".repeat(32)), 2)]);
    }

    #[test]
    fn every_optional_limit_is_a_scope_for_each_identity_counted() {
        let limits =
            Limits { per_batch: 2, per_campaign: Some(3), per_kind: Some(1), per_day: Some(1), ..Limits::default() };
        let s = limit_scopes(&limits, &facts(Some(PERSON)));
        // Account: batch (first voucher) + kind + campaign + day; person: batch + kind + campaign + day.
        assert_eq!(s.every().len(), 8);
        assert_eq!(s.every()[0], s.batch_limit.clone().expect("a batch limit"));
        assert!(s.slots.iter().any(|(k, n)| k.starts_with("k:") && k.contains(":k10:") && *n == 1));
    }

    #[test]
    fn without_a_known_person_only_the_account_is_counted() {
        let s = limit_scopes(&Limits { per_campaign: Some(2), ..Limits::default() }, &facts(None));
        assert_eq!(s.every().len(), 2);
        assert!(s.every().iter().all(|(k, _)| k.contains(":r:")));
    }
}
