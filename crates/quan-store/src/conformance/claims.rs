//! Conformance cases for `ClaimStore`: stock, limits, keys, packs, races.

use chrono::NaiveDate;
use quan_domain::ledger::{Account, AccountKind, Reason};
use quan_domain::{BatchId, CampaignId, Fen, ResidentId};
use uuid::Uuid;

use super::{S, ok, t};
use crate::{Batch, Campaign};

use super::campaigns::*;

pub(super) fn claim_request(n: u128, resident: ResidentId, scope: &str, size: u32) -> crate::ClaimRequest {
    crate::ClaimRequest {
        claim_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0009_0000 + n),
        resident,
        kind_code: "k1".into(),
        face: Fen::new(100),
        vouchers: vec![(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_000a_0000 + n), 0, Fen::new(100))],
        // Scope `b` is the batch's per-account limit (held by the voucher
        // row), any other a slot row's.
        batch_limit: (scope == "b").then(|| (format!("b:{resident}"), size)),
        person: None,
        slots: if scope == "b" { Vec::new() } else { vec![(format!("{scope}:{resident}"), size)] },
        business_day: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default(),
        bucket_hint: (n % 8) as u32,
        key: None,
        district: None,
        event: None,
    }
}

/// The claims of one commit into batch `b`, at `t(at)`, whose reservation
/// has the id `transfer`.
pub(super) fn claim_batch(
    c: CampaignId,
    b: BatchId,
    at: i64,
    transfer: u128,
    requests: Vec<crate::ClaimRequest>,
) -> crate::ClaimBatch {
    crate::ClaimBatch {
        campaign: c,
        batch: b,
        at: t(at),
        transfer_id: Uuid::from_u128(transfer),
        requests,
        channel: String::new(),
    }
}

/// `n` claims of the batch's first `n` residents (scope `b`, one each),
/// committed in one batch whose reservation has the id `transfer`.
pub(super) async fn claim_all(
    s: &S,
    c: &Campaign,
    b: &Batch,
    rs: &[ResidentId],
    n: u128,
    transfer: u128,
) -> Vec<crate::ClaimRequest> {
    let reqs: Vec<_> = (0..n).map(|i| claim_request(i, rs[i as usize], "b", 1)).collect();
    let claims = claim_batch(c.id, b.id, 10, transfer, reqs.clone());
    ok(s.commit_claims(&claims).await, "claims");
    reqs
}

pub(super) async fn funded_batch(s: &S, stock: u32) -> (Campaign, Batch, Vec<ResidentId>) {
    let c = campaign(1, "4205", 1_000_000);
    let b = batch(1, c.id, stock, 1);
    ok(s.insert_campaign(&c, std::slice::from_ref(&b), &[event(1, c.id, "created", t(1))]).await, "campaign");
    let fund = crate::Transfer {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_000b_0000),
        debit: Account::campaign(c.id, AccountKind::Treasury),
        credit: Account::campaign(c.id, AccountKind::Available),
        amount: Fen::new(1_000_000),
        reason: Reason::Funding,
        reference: "test".into(),
        at: t(2),
    };
    ok(s.post_transfers(&[fund]).await, "fund");
    let mut residents = Vec::new();
    for n in 0..40u8 {
        let r = crate::Resident {
            id: ResidentId::from_uuid(Uuid::from_u128(5000 + u128::from(n))),
            phone_hash: super::hash(n),
            phone_masked: "x".into(),
            created_at: t(0),
        };
        residents.push(ok(s.upsert_resident(&r).await, "resident").id);
    }
    (c, b, residents)
}

pub async fn claims_never_oversell_never_exceed_a_limit_and_reserve_their_face_value(s: S) {
    let (c, b, rs) = funded_batch(&s, 5).await;
    let mut reqs: Vec<_> = (0..8).map(|i| claim_request(i, rs[i as usize], "b", 1)).collect();
    reqs.insert(1, claim_request(100, rs[0], "b", 1));
    let batch = claim_batch(c.id, b.id, 10, 0x77, reqs);
    let out = ok(s.commit_claims(&batch).await, "commit");
    use crate::ClaimOutcome as O;
    assert_eq!(out[0], O::Claimed);
    assert!(matches!(&out[1], O::LimitReached { .. }), "the same resident again: {:?}", out[1]);
    assert_eq!(out.iter().filter(|o| **o == O::Claimed).count(), 5);
    assert_eq!(out.iter().filter(|o| **o == O::SoldOut).count(), 3);
    assert_eq!(ok(s.remaining_stock(b.id).await, "left"), vec![("k1".to_owned(), 0)]);
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 5, "refused requests leave nothing behind");
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 500);
    let totals = ok(s.account_totals(c.id).await, "ledger");
    let reserved = totals.iter().find(|a| a.account.kind == AccountKind::Reserved).map(|a| a.credits - a.debits);
    assert_eq!(reserved, Some(500), "one reservation for the whole batch");
    assert_eq!(ok(s.vouchers_of(rs[0]).await, "wallet").len(), 1);
}

pub async fn a_large_commit_stores_each_claim_once_even_with_residents_in_it_twice(s: S) {
    let (c, b, _) = funded_batch(&s, 1_000).await;
    let who = |i: u128| ResidentId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0b00_0000 + i));
    // 1 100 requests of 1 000 residents (a commit of a grab's size): 100 of
    // them twice, their second request in the middle of the others.
    let mut reqs: Vec<_> = (0..1_000u128).map(|i| claim_request(i, who(i), "b", 1)).collect();
    for i in 0..100u128 {
        reqs.insert(500 + i as usize, claim_request(5_000 + i, who(i * 7), "b", 1));
    }
    let out = ok(s.commit_claims(&claim_batch(c.id, b.id, 10, 0x7c, reqs.clone())).await, "commit");
    use crate::ClaimOutcome as O;
    assert_eq!(out.iter().filter(|o| **o == O::Claimed).count(), 1_000, "one claim per resident");
    assert_eq!(out.iter().filter(|o| matches!(o, O::LimitReached { .. })).count(), 100);
    for (r, o) in reqs.iter().zip(&out) {
        let twice = reqs.iter().filter(|x| x.resident == r.resident).count() == 2;
        assert!(twice || *o == O::Claimed, "a resident asking once gets the claim: {o:?}");
    }
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 1_000);
    assert_eq!(ok(s.residents_over_limit(b.id, 1).await, "over"), 0);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 100_000);
    assert_eq!(ok(s.remaining_stock(b.id).await, "left"), vec![("k1".to_owned(), 0)]);
}

pub async fn a_packs_first_voucher_holds_its_claims_slot_and_a_refused_pack_leaves_no_voucher(s: S) {
    let (c, b, rs) = funded_batch(&s, 2).await;
    // A pack of three vouchers (100 + 50 + 50 fen) per claim, one claim per account.
    let pack = |n: u128, who: ResidentId| {
        let v = |tier: u32, face: i64| {
            (
                Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00c0_0000 + n * 8 + u128::from(tier)),
                tier,
                Fen::new(face),
            )
        };
        crate::ClaimRequest {
            face: Fen::new(200),
            vouchers: vec![v(0, 100), v(1, 50), v(2, 50)],
            ..claim_request(n, who, "b", 1)
        }
    };
    let batch = claim_batch(c.id, b.id, 10, 0x7a, vec![pack(0, rs[0]), pack(1, rs[0]), pack(2, rs[1]), pack(3, rs[2])]);
    let out = ok(s.commit_claims(&batch).await, "commit");
    use crate::ClaimOutcome as O;
    assert!(matches!(&out[1], O::LimitReached { scope } if *scope == format!("b:{}", rs[0])), "{:?}", out[1]);
    assert_eq!((&out[0], &out[2], &out[3]), (&O::Claimed, &O::Claimed, &O::SoldOut));
    let wallet = ok(s.vouchers_of(rs[0]).await, "wallet");
    assert_eq!(wallet.iter().map(|v| (v.tier, v.face.as_i64())).collect::<Vec<_>>(), vec![(0, 100), (1, 50), (2, 50)]);
    assert!(wallet.iter().all(|v| v.claim_id == batch.requests[0].claim_id));
    assert!(ok(s.vouchers_of(rs[2]).await, "sold out").is_empty(), "a refused pack leaves no voucher");
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 2);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 400);
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 0);
    // Later, in another commit, a single voucher for the same account: its
    // slot of the batch is taken, whatever the kind of voucher.
    let again = claim_batch(c.id, b.id, 11, 0x7b, vec![claim_request(4, rs[0], "b", 1)]);
    assert!(matches!(ok(s.commit_claims(&again).await, "again").as_slice(), [O::LimitReached { .. }]));
    assert_eq!(ok(s.vouchers_of(rs[0]).await, "wallet").len(), 3);
}

pub async fn an_idempotency_key_stored_with_a_claim_stands_for_that_claim_alone(s: S) {
    let (c, b, rs) = funded_batch(&s, 2).await;
    let key = |k: &str, n: u8| {
        Some(crate::ClaimKey {
            scope: "resident:test".into(),
            key: k.into(),
            request_hash: [n; 32],
            status: 201,
            body: format!("{{\"answer\":{n}}}"),
        })
    };
    let keyed = |n: u128, k: Option<crate::ClaimKey>| crate::ClaimRequest {
        key: k,
        ..claim_request(n, rs[n as usize], "b", 1)
    };
    // k1 twice in one batch; k3 comes too late for the stock; one without a key.
    let reqs = vec![
        keyed(0, key("k1", 1)),
        keyed(1, key("k1", 1)),
        keyed(2, key("k2", 2)),
        keyed(3, key("k3", 3)),
        keyed(4, None),
    ];
    let batch = claim_batch(c.id, b.id, 10, 0x78, reqs);
    let out = ok(s.commit_claims(&batch).await, "commit");
    use crate::ClaimOutcome as O;
    assert_eq!(out, vec![O::Claimed, O::KeyTaken, O::Claimed, O::SoldOut, O::SoldOut]);
    use crate::IdempotencyBegin as I;
    let found = ok(s.find_idempotent("resident:test", "k1", &[1; 32]).await, "find");
    assert_eq!(found, Some(I::Replay { status: 201, body: "{\"answer\":1}".into() }));
    assert_eq!(ok(s.find_idempotent("resident:test", "k1", &[9; 32]).await, "other body"), Some(I::Mismatch));
    assert_eq!(
        ok(s.find_idempotent("resident:test", "k3", &[3; 32]).await, "refused"),
        None,
        "a refused claim keeps no key"
    );
    // The same key again, later (a retry through another node): nothing more.
    let again = claim_batch(c.id, b.id, 11, 0x79, vec![keyed(5, key("k2", 2))]);
    assert_eq!(ok(s.commit_claims(&again).await, "again"), vec![O::KeyTaken]);
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 2);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 200);
}

/// Commits each list of requests as its own claim batch, all at once (as
/// several committers and nodes do), and returns their outcomes in order.
pub(super) async fn commit_at_once(
    s: &S,
    c: &Campaign,
    b: &Batch,
    batches: Vec<Vec<crate::ClaimRequest>>,
    first_transfer: u128,
) -> Vec<Vec<crate::ClaimOutcome>> {
    let mut tasks = Vec::new();
    for (k, requests) in (0u128..).zip(batches) {
        let s = s.clone();
        let batch = claim_batch(c.id, b.id, 10, first_transfer + k, requests);
        tasks.push(tokio::spawn(async move { s.commit_claims(&batch).await }));
    }
    let mut outs = Vec::new();
    for task in tasks {
        outs.push(task.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}")));
    }
    outs
}

pub async fn racing_claim_batches_share_the_stock_exactly(s: S) {
    // Eight batches at once (two nodes' worth of parallel commits), each
    // starting on its own bucket, for less stock than they ask for: the
    // end game, where batches reach into each other's buckets.
    let (c, b, rs) = funded_batch(&s, 17).await;
    let before = s.commit_retries();
    // One node's batch tries its own bucket first, as the engine does.
    let batches = (0..8u128)
        .map(|k| {
            (0..5)
                .map(|i| crate::ClaimRequest {
                    bucket_hint: k as u32,
                    ..claim_request(k * 5 + i, rs[(k * 5 + i) as usize], "b", 1)
                })
                .collect()
        })
        .collect();
    let mut claimed = 0;
    for out in commit_at_once(&s, &c, &b, batches, 0x100).await {
        assert!(
            out.iter().all(|o| matches!(o, crate::ClaimOutcome::Claimed | crate::ClaimOutcome::SoldOut)),
            "{out:?}"
        );
        claimed += out.iter().filter(|o| **o == crate::ClaimOutcome::Claimed).count();
    }
    assert_eq!(claimed, 17);
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 17);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 1700);
    assert_eq!(ok(s.remaining_stock(b.id).await, "stock"), vec![("k1".to_owned(), 0)]);
    // Batches never wait on each other's buckets, so the database never
    // has a deadlock to break (each costs PostgreSQL a second).
    assert_eq!(s.commit_retries().deadlocks, before.deadlocks, "{:?}", s.commit_retries());
}

pub async fn batches_meeting_on_the_same_residents_limits_keep_them_without_deadlock(s: S) {
    // One resident on many connections, through several nodes: eight
    // batches at once, each with a claim of each of six residents (listed in
    // its own order), under three limits per resident (two per batch, held
    // by the voucher rows; three a day and four a campaign, by slot rows).
    let (c, b, rs) = funded_batch(&s, 1_000).await;
    let before = s.commit_retries();
    let batches = (0..8u128)
        .map(|k| {
            (0..6u128)
                .map(|i| {
                    let who = rs[((i * 5 + k) % 6) as usize];
                    let mut slots = vec![(format!("d:{who}"), 3), (format!("c:{who}"), 4)];
                    if k % 2 == 1 {
                        slots.reverse();
                    }
                    crate::ClaimRequest { slots, ..claim_request(k * 6 + i, who, "b", 2) }
                })
                .collect()
        })
        .collect();
    let mut claimed = 0;
    for out in commit_at_once(&s, &c, &b, batches, 0x200).await {
        assert!(
            out.iter().all(|o| matches!(o, crate::ClaimOutcome::Claimed | crate::ClaimOutcome::LimitReached { .. })),
            "{out:?}"
        );
        claimed += out.iter().filter(|o| **o == crate::ClaimOutcome::Claimed).count();
    }
    assert_eq!(claimed, 6 * 2, "two each: the tighter limit");
    assert_eq!(ok(s.residents_over_limit(b.id, 2).await, "over"), 0);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 1200);
    assert_eq!(s.commit_retries().deadlocks, before.deadlocks, "{:?}", s.commit_retries());
}

/// A value bound to a statement of `ThreeRowClaims`.
#[derive(Debug, Clone)]
pub enum Bind {
    Uuid(Uuid),
    Text(String),
}

/// Claims as the layout before migration 20 (`one_row_per_claim`) wrote
/// them: a `claims` row, a `claim_slots` row per limit, and the vouchers.
/// The backend's test runs `statements` on a database at migration 19.
#[derive(Debug, Clone)]
pub struct ThreeRowClaims {
    pub campaign: Campaign,
    pub batch: Batch,
    pub residents: Vec<ResidentId>,
    pub statements: Vec<(&'static str, Vec<Bind>)>,
}

impl ThreeRowClaims {
    /// Runs `statements` on the backend's pool (a database at migration 19).
    pub async fn write<DB>(&self, pool: &sqlx::Pool<DB>) -> Result<(), String>
    where
        DB: sqlx::Database,
        Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
        for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    {
        for (sql, binds) in &self.statements {
            let mut q = sqlx::query::<DB>(*sql);
            for b in binds {
                q = match b {
                    Bind::Uuid(u) => q.bind(*u),
                    Bind::Text(t) => q.bind(t.clone()),
                };
            }
            q.execute(pool).await.map_err(|e| format!("{sql}: {e}"))?;
        }
        Ok(())
    }
}

/// The ID hash of the person whose claim `three_row_claims` counts per person.
const OLD_PERSON: [u8; 32] = [0x77; 32];

/// Resident 0 holds a pack of two vouchers (its batch slot 0 and a day
/// slot 0), resident 1 one voucher (batch slot 0), resident 2 one voucher
/// counted per person (`OLD_PERSON`'s batch slot 0), in a funded batch made
/// through `s` (a store at migration 19).
pub async fn three_row_claims(s: S) -> ThreeRowClaims {
    let (c, b, rs) = funded_batch(&s, 5).await;
    let claim = "INSERT INTO claims (id, batch_id, campaign_id, kind_code, resident_id, face_fen, business_day, claimed_at_ms) \
                 VALUES ($1, $2, $3, 'k1', $4, 150, '2026-12-05', 10000)";
    let slot = "INSERT INTO claim_slots (scope, slot, claim_id) VALUES ($1, 0, $2)";
    let voucher = "INSERT INTO vouchers (id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms) \
                   VALUES ($1, $2, $3, $4, 'k1', CAST($5 AS INTEGER), $6, 75, 'claimed', 10000)";
    let mut statements = Vec::new();
    for (who, tiers) in [(0usize, 2u32), (1, 1)] {
        let r = rs[who];
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00d0_0000 + who as u128);
        let u = |x: Uuid| Bind::Uuid(x);
        statements.push((claim, vec![u(id), u(b.id.as_uuid()), u(c.id.as_uuid()), u(r.as_uuid())]));
        statements.push((slot, vec![Bind::Text(format!("b:{}:r:{r}", b.id)), u(id)]));
        if who == 0 {
            statements.push((slot, vec![Bind::Text(format!("d:{}:2026-12-05:r:{r}", c.id)), u(id)]));
        }
        for tier in 0..tiers {
            let v = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00d1_0000 + who as u128 * 8 + u128::from(tier));
            statements.push((
                voucher,
                vec![u(v), u(id), u(c.id.as_uuid()), u(b.id.as_uuid()), Bind::Text(tier.to_string()), u(r.as_uuid())],
            ));
        }
    }
    // Resident 2's claim counted per person (its only batch slot is the person's).
    let (r, id) = (rs[2], Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00d0_0002));
    let v = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00d1_0100);
    let u = Bind::Uuid;
    statements.push((claim, vec![u(id), u(b.id.as_uuid()), u(c.id.as_uuid()), u(r.as_uuid())]));
    statements.push((slot, vec![Bind::Text(format!("b:{}:p:{}", b.id, hex::encode(OLD_PERSON))), u(id)]));
    statements.push((
        voucher,
        vec![u(v), u(id), u(c.id.as_uuid()), u(b.id.as_uuid()), Bind::Text("0".into()), u(r.as_uuid())],
    ));
    ThreeRowClaims { campaign: c, batch: b, residents: rs, statements }
}

/// After the upgrade, the claims of `old` (see `three_row_claims`) keep
/// their vouchers and every limit: the batch slots (per account and per
/// person) now on their first voucher, the day slot still a slot row.
pub async fn claims_of_the_three_row_layout_keep_their_limits_after_the_upgrade(s: S, old: ThreeRowClaims) {
    let (c, b, rs) = (&old.campaign, &old.batch, &old.residents);
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 3);
    assert_eq!(ok(s.vouchers_of(rs[0]).await, "pack").len(), 2);
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 0);
    let limited = |n: u128, who: usize, per_batch: u32, day: Option<u32>| crate::ClaimRequest {
        batch_limit: Some((format!("b:{}:r:{}", b.id, rs[who]), per_batch)),
        slots: day.map(|d| (format!("d:{}:2026-12-05:r:{}", c.id, rs[who]), d)).into_iter().collect(),
        ..claim_request(0x60 + n, rs[who], "b", per_batch)
    };
    let commit = |n: u128, requests: Vec<crate::ClaimRequest>| claim_batch(c.id, b.id, 20, 0x90 + n, requests);
    use crate::ClaimOutcome as O;
    let out = ok(s.commit_claims(&commit(0, vec![limited(0, 0, 1, None), limited(1, 1, 2, None)])).await, "commit");
    assert!(matches!(&out[0], O::LimitReached { scope } if scope.starts_with("b:")), "{:?}", out[0]);
    assert_eq!(out[1], O::Claimed, "resident 1's batch slot 0 was taken before; slot 1 is free");
    let out = ok(s.commit_claims(&commit(1, vec![limited(2, 1, 2, None), limited(3, 0, 5, Some(1))])).await, "again");
    assert!(matches!(&out[0], O::LimitReached { scope } if scope.starts_with("b:")), "{:?}", out[0]);
    assert!(
        matches!(&out[1], O::LimitReached { scope } if scope.starts_with("d:")),
        "the day slot stays: {:?}",
        out[1]
    );
    // The person of resident 2's claim, through another account.
    let person = crate::ClaimRequest {
        batch_limit: Some((format!("b:{}:p:{}", b.id, hex::encode(OLD_PERSON)), 1)),
        person: Some(quan_domain::KeyedHash::from_bytes(OLD_PERSON)),
        ..claim_request(0x64, rs[3], "", 1)
    };
    let out = ok(s.commit_claims(&commit(2, vec![person])).await, "person");
    assert!(
        matches!(&out[0], O::LimitReached { scope } if scope.contains(":p:")),
        "the person's slot moved: {:?}",
        out[0]
    );
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 4);
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 0);
}

pub async fn a_person_claims_up_to_the_batch_limit_whichever_accounts_they_use(s: S) {
    let (c, b, rs) = funded_batch(&s, 20).await;
    // Person P holds accounts 0, 1 and 2; person Q account 3. Two per person.
    let (p, q) = (quan_domain::KeyedHash::from_bytes([0x50; 32]), quan_domain::KeyedHash::from_bytes([0x51; 32]));
    let by_person = |n: u128, who: usize, person: quan_domain::KeyedHash| crate::ClaimRequest {
        batch_limit: Some((format!("b:p:{}", hex::encode(person.as_bytes())), 2)),
        person: Some(person),
        ..claim_request(0xe0 + n, rs[who], "", 2)
    };
    let commit = |n: u128, requests: Vec<crate::ClaimRequest>| claim_batch(c.id, b.id, 10, 0xa0 + n, requests);
    use crate::ClaimOutcome as O;
    // Account 0 twice (slots 0 and 1 in one commit), then account 1: P is at the limit.
    let out = ok(
        s.commit_claims(&commit(
            0,
            vec![by_person(0, 0, p), by_person(1, 0, p), by_person(2, 1, p), by_person(3, 3, q)],
        ))
        .await,
        "first",
    );
    assert_eq!(&out[..2], &[O::Claimed, O::Claimed]);
    assert!(matches!(&out[2], O::LimitReached { scope } if scope.starts_with("b:p:")), "{:?}", out[2]);
    assert_eq!(out[3], O::Claimed, "another person");
    // Later, through account 2 (never used before): still P's limit.
    let out = ok(s.commit_claims(&commit(1, vec![by_person(4, 2, p), by_person(5, 3, q)])).await, "later");
    assert!(matches!(&out[0], O::LimitReached { .. }), "{:?}", out[0]);
    assert_eq!(out[1], O::Claimed, "Q's second");
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 4);
    assert_eq!(ok(s.vouchers_of(rs[1]).await, "account 1").len(), 0);
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 0);
}

pub async fn batches_meeting_on_the_same_persons_through_several_accounts_keep_the_limit_without_deadlock(s: S) {
    // Three people with two accounts each (person = account % 3, so the
    // accounts' order is not the people's), on many connections through
    // several nodes: eight batches at once, each with the claims of one
    // account of every person, two per person.
    let (c, b, rs) = funded_batch(&s, 1_000).await;
    let before = s.commit_retries();
    let batches = (0..8u128)
        .map(|k| {
            (0..3u128)
                .map(|i| {
                    let account = (2 * i + k % 2) as usize;
                    let person = quan_domain::KeyedHash::from_bytes([0x60 + (account % 3) as u8; 32]);
                    crate::ClaimRequest {
                        batch_limit: Some((format!("b:p:{}", hex::encode(person.as_bytes())), 2)),
                        person: Some(person),
                        ..claim_request(0x300 + k * 3 + i, rs[account], "", 2)
                    }
                })
                .collect()
        })
        .collect();
    let mut claimed = 0;
    for out in commit_at_once(&s, &c, &b, batches, 0x400).await {
        assert!(
            out.iter().all(|o| matches!(o, crate::ClaimOutcome::Claimed | crate::ClaimOutcome::LimitReached { .. })),
            "{out:?}"
        );
        claimed += out.iter().filter(|o| **o == crate::ClaimOutcome::Claimed).count();
    }
    assert_eq!(claimed, 3 * 2, "two per person, whichever account");
    assert_eq!(ok(s.claim_count(b.id).await, "claims"), 6);
    assert_eq!(s.commit_retries().deadlocks, before.deadlocks, "{:?}", s.commit_retries());
}
