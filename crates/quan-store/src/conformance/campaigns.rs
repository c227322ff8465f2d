//! Conformance cases for `CampaignStore`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use quan_domain::batch::{BatchKind, BatchMode, BatchSpec, EligibilityRule, Limits};
use quan_domain::campaign::{CampaignSpec, CampaignStatus};
use quan_domain::ledger::{Account, AccountKind, Reason};
use quan_domain::voucher_kind::{Discount, Scope, Stacking, Validity, VoucherKind};
use quan_domain::{BatchId, CampaignId, Fen, Region, ResidentId, UserId};
use uuid::Uuid;

use super::{S, ok, t};
use crate::{
    Batch, Campaign, CampaignEvent, CampaignTransition, LotteryRegistration, LotteryState, Resident, StoreError,
};

fn cid(n: u128) -> CampaignId {
    CampaignId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0001_0000 + n))
}

fn bid(n: u128) -> BatchId {
    BatchId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0002_0000 + n))
}

fn actor() -> UserId {
    UserId::from_uuid(Uuid::from_u128(77))
}

fn campaign(n: u128, region: &str, budget: i64) -> Campaign {
    Campaign {
        id: cid(n),
        spec: CampaignSpec {
            name: format!("活动 {n}"),
            region: Region::parse(region).unwrap_or_else(|e| panic!("{e}")),
            budget_fen: Fen::new(budget),
            funding_source: "市级财政".into(),
            starts_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
            ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
        },
        status: CampaignStatus::Draft,
        funded: Fen::ZERO,
        committed: Fen::ZERO,
        created_by: actor(),
        created_at: t(1),
        updated_at: t(1),
    }
}

fn event(n: u128, c: CampaignId, kind: &str, at: DateTime<Utc>) -> CampaignEvent {
    CampaignEvent {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0003_0000 + n),
        campaign_id: c,
        kind: kind.into(),
        amount: None,
        batch_id: None,
        note: String::new(),
        actor: Some(actor()),
        at,
    }
}

fn batch(n: u128, c: CampaignId, stock: u32, face_yuan: i64) -> Batch {
    let kind = VoucherKind {
        code: "k1".into(),
        name: "立减".into(),
        discount: Discount::Instant { off_fen: Fen::new(face_yuan * 100) },
        scope: Scope::default(),
        validity: Validity::DaysAfterClaim { days: 7 },
        weekdays: vec![1, 2],
        hours: None,
        stacking: Stacking::OnePerOrder,
        rollover: true,
    };
    let spec = BatchSpec {
        name: format!("批次 {n}"),
        opening_at: t(10_000),
        closing_at: t(10_000) + Duration::days(1),
        kinds: vec![BatchKind { stock, kind }],
        eligibility: EligibilityRule::default(),
        limits: Limits::default(),
        mode: BatchMode::Grab,
    };
    let face_total = spec.face_total().unwrap_or_default();
    Batch {
        id: bid(n),
        campaign_id: c,
        spec,
        face_total,
        version: 1,
        lottery: None,
        created_by: actor(),
        created_at: t(2),
    }
}

pub async fn campaigns_read_back_as_written_and_stay_in_their_region(s: S) {
    let c = campaign(1, "4205", 1_000_000);
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "insert");
    ok(s.insert_campaign(&campaign(2, "3301", 5), &[], &[event(2, cid(2), "created", t(1))]).await, "insert other");
    assert_eq!(ok(s.campaign_by_id(c.id).await, "read"), c);
    let within = Region::parse("42").unwrap_or_else(|e| panic!("{e}"));
    let listed = ok(s.list_campaigns(&within, None, 10, None).await, "list");
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c.id]);
    assert!(matches!(s.campaign_by_id(cid(9)).await, Err(StoreError::NotFound)));
    let events = ok(s.campaign_events(c.id).await, "events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "created");
}

pub async fn a_transition_applies_only_to_the_state_it_was_decided_on(s: S) {
    let c = campaign(1, "4205", 1000);
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "insert");
    let fund = |n, from_f: i64, to_f: i64, to: CampaignStatus| CampaignTransition {
        id: c.id,
        from_status: CampaignStatus::Draft,
        from_funded: Fen::new(from_f),
        to_status: to,
        to_funded: Fen::new(to_f),
        event: CampaignEvent { amount: Some(Fen::new(to_f - from_f)), ..event(n, c.id, "funded", t(5)) },
        transfers: vec![crate::Transfer {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0007_0000 + n),
            debit: Account::campaign(c.id, AccountKind::Treasury),
            credit: Account::campaign(c.id, AccountKind::Available),
            amount: Fen::new(to_f - from_f),
            reason: Reason::Funding,
            reference: format!("test:{n}"),
            at: t(5),
        }],
    };
    ok(s.transition_campaign(&fund(2, 0, 400, CampaignStatus::Draft), t(5)).await, "first funding");
    let stale = s.transition_campaign(&fund(3, 0, 1000, CampaignStatus::Funded), t(6)).await;
    assert!(matches!(stale, Err(StoreError::Conflict { what: "campaign_changed" })), "{stale:?}");
    ok(s.transition_campaign(&fund(4, 400, 1000, CampaignStatus::Funded), t(6)).await, "second funding");
    let back = ok(s.campaign_by_id(c.id).await, "read");
    assert_eq!((back.status, back.funded, back.updated_at), (CampaignStatus::Funded, Fen::new(1000), t(6)));
    let amounts: Vec<_> = ok(s.campaign_events(c.id).await, "events").iter().filter_map(|e| e.amount).collect();
    assert_eq!(amounts, vec![Fen::new(400), Fen::new(600)], "the refused change left no event");
    let posted: Vec<_> = ok(s.transfers(c.id, None, 10).await, "transfers").iter().map(|t| t.amount).collect();
    assert_eq!(posted, vec![Fen::new(400), Fen::new(600)], "funding is posted with the transition, and only then");
}

pub async fn the_ledger_refuses_to_overdraw_and_never_changes_a_transfer(s: S) {
    let c = campaign(1, "4205", 1000);
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "insert");
    let tr = |n: u128, from: AccountKind, to: AccountKind, amount: i64| crate::Transfer {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0008_0000 + n),
        debit: Account::campaign(c.id, from),
        credit: Account::campaign(c.id, to),
        amount: Fen::new(amount),
        reason: Reason::Funding,
        reference: format!("test:{n}"),
        at: t(n as i64),
    };
    ok(s.post_transfers(&[tr(1, AccountKind::Treasury, AccountKind::Available, 1000)]).await, "fund");
    ok(s.post_transfers(&[tr(2, AccountKind::Available, AccountKind::Reserved, 700)]).await, "reserve");
    let over = s
        .post_transfers(&[
            tr(3, AccountKind::Available, AccountKind::Reserved, 200),
            tr(4, AccountKind::Available, AccountKind::Reserved, 101),
        ])
        .await;
    assert!(matches!(over, Err(StoreError::Conflict { what: "account_floor" })), "{over:?}");
    let totals = ok(s.account_totals(c.id).await, "totals");
    for a in &totals {
        assert_eq!(
            (a.debits, a.credits),
            (a.transfer_debits, a.transfer_credits),
            "{:?}: running totals equal the transfers",
            a.account.kind
        );
    }
    let balance = |k: AccountKind| totals.iter().find(|a| a.account.kind == k).map(|a| a.credits - a.debits);
    assert_eq!(
        (balance(AccountKind::Treasury), balance(AccountKind::Available), balance(AccountKind::Reserved)),
        (Some(-1000), Some(300), Some(700)),
        "the refused pair posted nothing"
    );
    assert_eq!(ok(s.transfers(c.id, None, 10).await, "list").len(), 2);
}

pub async fn batches_are_refused_beyond_the_budget_even_when_raced(s: S) {
    // Budget for exactly 5 batches of 100 × ¥1.
    let c = campaign(1, "4205", 5 * 100 * 100);
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "insert");
    let mut tasks = Vec::new();
    for n in 0..12u128 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_batch(&batch(n, cid(1), 100, 1), &event(100 + n, cid(1), "batch_created", t(3))).await
        }));
    }
    let (mut accepted, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap_or_else(|e| panic!("{e}")) {
            Ok(()) => accepted += 1,
            Err(StoreError::Conflict { what: "budget" }) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((accepted, refused), (5, 7));
    let back = ok(s.campaign_by_id(c.id).await, "read");
    assert_eq!(back.committed, back.spec.budget_fen);
    assert_eq!(ok(s.list_batches(c.id).await, "list").len(), 5);
}

pub async fn a_batch_reads_back_and_amends_only_from_its_current_version(s: S) {
    let c = campaign(1, "4205", 1_000_000);
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "campaign");
    let mut b = batch(1, c.id, 100, 10);
    b.lottery = Some(LotteryState { seed: [1; 32], commitment: [2; 32], drawn_at: None });
    ok(s.insert_batch(&b, &event(2, c.id, "batch_created", t(2))).await, "batch");
    assert_eq!(ok(s.batch_by_id(b.id).await, "read"), b);
    let mut next = b.clone();
    next.version = 2;
    next.spec.kinds[0].stock = 150;
    next.face_total = next.spec.face_total().unwrap_or_default();
    ok(s.update_batch(&next, Fen::new(50 * 1000), &event(3, c.id, "batch_amended", t(3))).await, "amend");
    assert_eq!(ok(s.batch_by_id(b.id).await, "read"), next);
    assert_eq!(ok(s.campaign_by_id(c.id).await, "c").committed, Fen::new(150 * 1000));
    let again = s.update_batch(&next, Fen::ZERO, &event(4, c.id, "batch_amended", t(4))).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "batch_changed" })), "{again:?}");
    let mut huge = next.clone();
    huge.version = 3;
    let over = s.update_batch(&huge, Fen::new(1_000_000), &event(5, c.id, "batch_amended", t(5))).await;
    assert!(matches!(over, Err(StoreError::Conflict { what: "budget" })), "{over:?}");
    assert_eq!(ok(s.batch_by_id(b.id).await, "read").version, 2, "a refused amendment changes nothing");
}

pub async fn a_closed_campaign_takes_no_batches(s: S) {
    let mut c = campaign(1, "4205", 1_000_000);
    c.status = CampaignStatus::Closed;
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "campaign");
    let r = s.insert_batch(&batch(1, c.id, 1, 1), &event(2, c.id, "batch_created", t(2))).await;
    assert!(matches!(r, Err(StoreError::Conflict { what: "campaign_changed" })), "{r:?}");
    let r = s.insert_batch(&batch(2, cid(42), 1, 1), &event(3, cid(42), "batch_created", t(2))).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

pub async fn lottery_registrations_are_unique_and_a_draw_happens_once(s: S) {
    let c = campaign(1, "4205", 1_000_000);
    ok(s.insert_campaign(&c, &[], &[event(1, c.id, "created", t(1))]).await, "campaign");
    let mut b = batch(1, c.id, 2, 1);
    b.lottery = Some(LotteryState { seed: [9; 32], commitment: [8; 32], drawn_at: None });
    ok(s.insert_batch(&b, &event(2, c.id, "batch_created", t(2))).await, "batch");
    let mut residents = Vec::new();
    for n in 0..4u8 {
        let r = Resident {
            id: ResidentId::from_uuid(Uuid::from_u128(900 + u128::from(n))),
            phone_hash: super::hash(n),
            phone_masked: "x".into(),
            created_at: t(0),
        };
        let r = ok(s.upsert_resident(&r).await, "resident");
        ok(
            s.register_for_lottery(&LotteryRegistration { batch_id: b.id, resident_id: r.id, at: t(3) }).await,
            "register",
        );
        residents.push(r.id);
    }
    let dup =
        s.register_for_lottery(&LotteryRegistration { batch_id: b.id, resident_id: residents[0], at: t(4) }).await;
    assert!(matches!(dup, Err(StoreError::Conflict { what: "registration" })), "{dup:?}");
    assert_eq!(ok(s.lottery_registrants(b.id).await, "registrants").len(), 4);
    let winners = vec![residents[2], residents[0]];
    ok(s.record_draw(b.id, &winners, &event(3, c.id, "lottery_drawn", t(5))).await, "draw");
    assert_eq!(ok(s.lottery_winners(b.id).await, "winners"), winners, "in rank order");
    let again = s.record_draw(b.id, &winners, &event(4, c.id, "lottery_drawn", t(6))).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "already_drawn" })), "{again:?}");
    assert_eq!(ok(s.batch_by_id(b.id).await, "read").lottery.and_then(|l| l.drawn_at), Some(t(5)));
}

pub async fn a_campaign_is_created_with_its_batches_atomically(s: S) {
    let c = campaign(1, "4205", 100 * 100 * 2);
    let batches = [batch(1, c.id, 100, 1), batch(2, c.id, 100, 1)];
    ok(s.insert_campaign(&c, &batches, &[event(1, c.id, "created", t(1))]).await, "with batches");
    assert_eq!(ok(s.campaign_by_id(c.id).await, "c").committed, Fen::new(20_000));
    assert_eq!(ok(s.list_batches(c.id).await, "b").len(), 2);
    let c2 = campaign(2, "4205", 100 * 100);
    let over = [batch(3, c2.id, 100, 1), batch(4, c2.id, 1, 1)];
    let r = s.insert_campaign(&c2, &over, &[event(2, c2.id, "created", t(1))]).await;
    assert!(matches!(r, Err(StoreError::Conflict { what: "budget" })), "{r:?}");
    assert!(
        matches!(s.campaign_by_id(c2.id).await, Err(StoreError::NotFound)),
        "nothing of a refused campaign is stored"
    );
    assert!(matches!(s.batch_by_id(bid(3)).await, Err(StoreError::NotFound)));
}

fn claim_request(n: u128, resident: ResidentId, scope: &str, size: u32) -> crate::ClaimRequest {
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
    }
}

/// The claims of one commit into batch `b`, at `t(at)`, whose reservation
/// has the id `transfer`.
fn claim_batch(
    c: CampaignId,
    b: BatchId,
    at: i64,
    transfer: u128,
    requests: Vec<crate::ClaimRequest>,
) -> crate::ClaimBatch {
    crate::ClaimBatch { campaign: c, batch: b, at: t(at), transfer_id: Uuid::from_u128(transfer), requests }
}

/// `n` claims of the batch's first `n` residents (scope `b`, one each),
/// committed in one batch whose reservation has the id `transfer`.
async fn claim_all(
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

async fn funded_batch(s: &S, stock: u32) -> (Campaign, Batch, Vec<ResidentId>) {
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
async fn commit_at_once(
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

fn redemption(
    n: u128,
    c: &Campaign,
    b: &Batch,
    voucher: Uuid,
    resident: ResidentId,
    merchant: quan_domain::MerchantId,
) -> crate::Redemption {
    crate::Redemption {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_000c_0000 + n),
        voucher_id: voucher,
        campaign_id: c.id,
        batch_id: b.id,
        kind_code: "k1".into(),
        resident_id: resident,
        merchant_id: merchant,
        till_id: None,
        cashier_id: None,
        direction: crate::Direction::ResidentShows,
        order_ref: String::new(),
        order: Fen::new(1_000),
        basis: Fen::new(1_000),
        discount: Fen::new(100),
        face: Fen::new(100),
        subsidy: Fen::new(100),
        refunded: Fen::ZERO,
        platform_match: Fen::new(30),
        merchant_match: Fen::new(50),
        state: "standing".into(),
        business_day: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default(),
        redeemed_at: t(20),
        ledger_ref: format!("redemption:{n}"),
    }
}

fn pay(n: u128, c: &Campaign, merchant: quan_domain::MerchantId) -> crate::Transfer {
    crate::Transfer {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_000d_0000 + n),
        debit: Account::campaign(c.id, AccountKind::Reserved),
        credit: Account { campaign: c.id, kind: AccountKind::Payable, merchant: Some(merchant) },
        amount: Fen::new(100),
        reason: Reason::Redemption,
        reference: format!("redemption:{n}"),
        at: t(20),
    }
}

pub async fn racing_redemption_batches_post_to_shared_accounts_without_deadlock(s: S) {
    // Eight batches at once (two nodes' worth of parallel commits), each
    // redeeming at three merchants listed in its own order: every batch
    // updates the campaign's reserved account and all three payable accounts.
    let (c, b, rs) = funded_batch(&s, 40).await;
    let reqs = claim_all(&s, &c, &b, &rs, 40, 0x79).await;
    let mut merchants = Vec::new();
    for n in 1..=3u32 {
        let m = super::merchants::merchant(n, "420502");
        let owner = super::merchants::owner(&m, &format!("owner.race{n}"));
        ok(s.insert_merchant(&m, Some(&owner)).await, "merchant");
        merchants.push(m.id);
    }
    let before = s.commit_retries();
    let mut tasks = Vec::new();
    for k in 0..8usize {
        let items: Vec<_> = (0..5usize)
            .map(|j| {
                let i = k * 5 + j;
                let m = merchants[(k + j) % 3];
                let n = 0x100 + i as u128;
                (redemption(n, &c, &b, reqs[i].vouchers[0].0, rs[i], m), vec![pay(n, &c, m)])
            })
            .collect();
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.redeem_batch(&items).await }));
    }
    for task in tasks {
        let won = task.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(won, vec![true; 5]);
    }
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 0, "every claimed voucher is redeemed");
    let mut total = 0;
    for m in &merchants {
        let payable = Account { campaign: c.id, kind: AccountKind::Payable, merchant: Some(*m) };
        total += ok(s.account_balance(&payable).await, "balance");
    }
    assert_eq!(total, 4_000, "40 redemptions of 100 fen");
    assert_eq!(s.commit_retries().redemption_deadlocks, before.redemption_deadlocks, "{:?}", s.commit_retries());
}

pub async fn a_commit_of_redemptions_posts_one_transfer_per_pair_of_accounts_under_its_reference(s: S) {
    let (c, b, rs) = funded_batch(&s, 6).await;
    let reqs = claim_all(&s, &c, &b, &rs, 6, 0x77).await;
    let mut merchants = Vec::new();
    for n in 1..=2u32 {
        let m = super::merchants::merchant(n, "420502");
        let owner = super::merchants::owner(&m, &format!("owner.post{n}"));
        ok(s.insert_merchant(&m, Some(&owner)).await, "merchant");
        merchants.push(m.id);
    }
    let posting = "redemptions:commit-1";
    let items: Vec<_> = (0..6usize)
        .map(|i| {
            let m = merchants[i % 2];
            let n = 0x200 + i as u128;
            let mut r = redemption(n, &c, &b, reqs[i].vouchers[0].0, rs[i], m);
            r.ledger_ref = posting.into();
            let mut t = pay(n, &c, m);
            t.reference = posting.into();
            (r, vec![t])
        })
        .collect();
    // The sixth voucher twice: the second loses and posts nothing.
    let mut again = items[5].clone();
    again.0.id = Uuid::from_u128(0x2ff);
    let mut all = items.clone();
    all.push(again);
    let won = ok(s.redeem_batch(&all).await, "redeem");
    assert_eq!(won, vec![true, true, true, true, true, true, false]);
    let posted: Vec<_> =
        ok(s.transfers(c.id, None, 100).await, "transfers").into_iter().filter(|t| t.reference == posting).collect();
    assert_eq!(posted.len(), 2, "one transfer per merchant's payable account: {posted:?}");
    for t in &posted {
        assert_eq!(t.amount, Fen::new(300), "three redemptions of 100 fen at each merchant");
        assert_eq!(t.reason, Reason::Redemption);
    }
    let stored = ok(s.redemption_by_id(items[3].0.id).await, "redemption");
    assert_eq!(stored.ledger_ref, posting);
    let audit = ok(s.account_totals(c.id).await, "totals");
    assert!(audit.iter().all(|a| (a.debits, a.credits) == (a.transfer_debits, a.transfer_credits)), "{audit:?}");
    assert_eq!(ok(s.redemptions_unlike_records(c.id).await, "unlike"), 0);
}

pub async fn redemptions_naming_another_resident_than_their_voucher_or_another_merchants_till_are_found(s: S) {
    let (c, b, rs) = funded_batch(&s, 2).await;
    let reqs = claim_all(&s, &c, &b, &rs, 2, 0x76).await;
    let m = super::merchants::merchant(1, "420502");
    let owner = super::merchants::owner(&m, "owner.unlike");
    ok(s.insert_merchant(&m, Some(&owner)).await, "merchant");
    let other = super::merchants::merchant(2, "420502");
    ok(s.insert_merchant(&other, None).await, "other merchant");
    let till = crate::Till {
        id: quan_domain::TillId::from_uuid(Uuid::from_u128(0x301)),
        merchant_id: other.id,
        code: "T01".into(),
        name: "收银台".into(),
        created_at: t(2),
    };
    ok(s.insert_till(&till).await, "till");
    // Voucher 0 belongs to resident 0; the row says resident 1.
    let r = redemption(0x300, &c, &b, reqs[0].vouchers[0].0, rs[1], m.id);
    let won = ok(s.redeem_batch(&[(r, vec![pay(0x300, &c, m.id)])]).await, "redeem");
    assert_eq!(won, vec![true]);
    assert_eq!(ok(s.redemptions_unlike_records(c.id).await, "unlike"), 1);
    // Voucher 1 at merchant `m`, through the other merchant's till.
    let mut r = redemption(0x302, &c, &b, reqs[1].vouchers[0].0, rs[1], m.id);
    r.till_id = Some(till.id);
    let won = ok(s.redeem_batch(&[(r, vec![pay(0x302, &c, m.id)])]).await, "redeem");
    assert_eq!(won, vec![true]);
    assert_eq!(ok(s.redemptions_unlike_records(c.id).await, "unlike"), 2);
}

pub async fn claims_agree_with_their_records_and_a_claim_on_another_campaigns_batch_is_found(s: S) {
    let (c, b, rs) = funded_batch(&s, 4).await;
    claim_all(&s, &c, &b, &rs, 2, 0x75).await;
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 0);
    // A second campaign, funded, whose claim names the first one's batch.
    let c2 = campaign(2, "4205", 1_000_000);
    ok(s.insert_campaign(&c2, &[], &[event(2, c2.id, "created", t(1))]).await, "campaign 2");
    let fund = crate::Transfer {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_000b_0002),
        debit: Account::campaign(c2.id, AccountKind::Treasury),
        credit: Account::campaign(c2.id, AccountKind::Available),
        amount: Fen::new(1_000_000),
        reason: Reason::Funding,
        reference: "test".into(),
        at: t(2),
    };
    ok(s.post_transfers(&[fund]).await, "fund 2");
    let wrong = claim_batch(c2.id, b.id, 11, 0x74, vec![claim_request(2, rs[2], "b2", 1)]);
    ok(s.commit_claims(&wrong).await, "claim on another campaign's batch");
    assert_eq!(
        ok(s.claims_unlike_records(c2.id).await, "unlike"),
        1,
        "the claim's voucher names the other campaign's batch"
    );
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 0);
    // Vouchers carry no foreign keys on either backend (a lookup per claim):
    // one naming a resident that does not exist is stored, and found here.
    let nobody = ResidentId::from_uuid(Uuid::from_u128(0xdead));
    let ghost = claim_batch(c.id, b.id, 12, 0x73, vec![claim_request(3, nobody, "b", 1)]);
    ok(s.commit_claims(&ghost).await, "claim of a resident that does not exist");
    assert_eq!(ok(s.claims_unlike_records(c.id).await, "unlike"), 1, "the voucher names no resident");
}

pub async fn a_voucher_is_redeemed_once_even_twice_in_one_batch_and_a_full_refund_returns_it(s: S) {
    let (c, b, rs) = funded_batch(&s, 5).await;
    let reqs = claim_all(&s, &c, &b, &rs, 3, 0x78).await;
    let m = super::merchants::merchant(1, "420502");
    let owner = super::merchants::owner(&m, "owner.redeem");
    ok(s.insert_merchant(&m, Some(&owner)).await, "merchant");
    let v = |i: usize| reqs[i].vouchers[0].0;
    // Voucher 0 twice in one batch, voucher 1 once.
    let items = vec![
        (redemption(1, &c, &b, v(0), rs[0], m.id), vec![pay(1, &c, m.id)]),
        (redemption(2, &c, &b, v(0), rs[0], m.id), vec![pay(2, &c, m.id)]),
        (redemption(3, &c, &b, v(1), rs[1], m.id), vec![pay(3, &c, m.id)]),
    ];
    assert_eq!(ok(s.redeem_batch(&items).await, "batch"), vec![true, false, true]);
    assert_eq!(ok(s.redeem_batch(&items[..1]).await, "again"), vec![false], "a redeemed voucher stays redeemed");
    assert_eq!(ok(s.voucher_by_id(v(0)).await, "voucher").state, "redeemed");
    assert!(matches!(s.redemption_by_id(items[1].0.id).await, Err(StoreError::NotFound)), "the loser left nothing");
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 100);
    assert_eq!(
        ok(s.subsidy_by_merchant(c.id).await, "earned"),
        vec![crate::MerchantEarned { merchant_id: m.id, subsidy: 200, platform_match: 60, merchant_match: 100 }]
    );
    let payable = Account { campaign: c.id, kind: AccountKind::Payable, merchant: Some(m.id) };
    assert_eq!(ok(s.account_balance(&payable).await, "balance"), 200);
    let never = Account { campaign: c.id, kind: AccountKind::Held, merchant: Some(m.id) };
    assert_eq!(ok(s.account_balance(&never).await, "balance"), 0, "an account never used has nothing");
    assert_eq!(ok(s.vouchers_inconsistent(c.id).await, "history"), 0);
    // A full refund that returns the voucher, and one raced on a stale read.
    let refund = crate::Refund {
        id: Uuid::from_u128(0xe1),
        redemption_id: items[0].0.id,
        amount: Fen::new(1_000),
        subsidy_returned: Fen::new(100),
        voucher_back: true,
        actor: owner.id,
        business_day: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default(),
        at: t(30),
    };
    let back = vec![crate::Transfer {
        id: Uuid::from_u128(0xe2),
        debit: Account { campaign: c.id, kind: AccountKind::Payable, merchant: Some(m.id) },
        credit: Account::campaign(c.id, AccountKind::Reserved),
        amount: Fen::new(100),
        reason: Reason::Refund,
        reference: "refund:e1".into(),
        at: t(30),
    }];
    let stale =
        s.refund(&crate::Refund { id: Uuid::from_u128(0xe3), ..refund.clone() }, Fen::new(5), Fen::ZERO, &back).await;
    assert!(matches!(stale, Err(StoreError::Conflict { what: "refund_raced" })), "{stale:?}");
    ok(s.refund(&refund, Fen::ZERO, Fen::ZERO, &back).await, "refund");
    assert_eq!(ok(s.voucher_by_id(v(0)).await, "voucher").state, "claimed", "back in the wallet");
    assert_eq!(ok(s.redemption_by_id(items[0].0.id).await, "redemption").state, "reversed");
    assert_eq!(ok(s.refunds_of(items[0].0.id).await, "refunds").len(), 1);
    assert_eq!(ok(s.vouchers_inconsistent(c.id).await, "history"), 0);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 200);
    // Redeemed again after coming back: a second standing redemption is allowed.
    let again = (redemption(4, &c, &b, v(0), rs[0], m.id), vec![pay(4, &c, m.id)]);
    assert_eq!(ok(s.redeem_batch(&[again]).await, "again"), vec![true]);
}

pub async fn a_settlement_row_and_its_transfers_are_recorded_once_per_day_and_merchant(s: S) {
    let (c, b, rs) = funded_batch(&s, 5).await;
    let reqs = claim_all(&s, &c, &b, &rs, 2, 0x79).await;
    let m = super::merchants::merchant(2, "420502");
    let owner = super::merchants::owner(&m, "owner.settle");
    ok(s.insert_merchant(&m, Some(&owner)).await, "merchant");
    let items = vec![(redemption(11, &c, &b, reqs[0].vouchers[0].0, rs[0], m.id), vec![pay(11, &c, m.id)])];
    assert_eq!(ok(s.redeem_batch(&items).await, "redeem"), vec![true]);
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let acct = |kind| Account { campaign: c.id, kind, merchant: Some(m.id) };
    let row = |n: u128, status: &str, amount: i64| crate::Settlement {
        id: Uuid::from_u128(0x5e00 + n),
        business_day: day,
        campaign_id: c.id,
        merchant_id: m.id,
        amount: Fen::new(amount),
        status: status.into(),
        hold_reason: String::new(),
        confirmed: None,
        bank_ref: None,
        created_at: t(40),
        confirmed_at: None,
        recovered: Fen::new(40),
        released: Fen::ZERO,
    };
    let moves = |n: u128| {
        vec![
            crate::Transfer {
                id: Uuid::from_u128(0x5f00 + n),
                debit: acct(AccountKind::Payable),
                credit: acct(AccountKind::Paid),
                amount: Fen::new(60),
                reason: Reason::Settlement,
                reference: format!("settlement:{n}"),
                at: t(40),
            },
            crate::Transfer {
                id: Uuid::from_u128(0x5f80 + n),
                debit: acct(AccountKind::Payable),
                credit: acct(AccountKind::Recoverable),
                amount: Fen::new(40),
                reason: Reason::Settlement,
                reference: format!("settlement:{n}"),
                at: t(40),
            },
        ]
    };
    let first = ok(s.record_settlements(&[row(1, "paid", 60)], &[moves(1)]).await, "first");
    assert_eq!(first.len(), 1);
    let second = ok(s.record_settlements(&[row(2, "paid", 60)], &[moves(2)]).await, "second");
    assert!(second.is_empty(), "the same day and merchant is recorded once");
    assert_eq!(ok(s.account_balance(&acct(AccountKind::Paid)).await, "paid"), 60, "and its transfers posted once");
    assert_eq!(ok(s.account_balance(&acct(AccountKind::Payable)).await, "payable"), 0);
    assert_eq!(ok(s.paid_by_settlements(c.id).await, "instructed"), vec![(m.id, 60)]);
    let read = ok(s.settlements_of_day(day).await, "read");
    assert_eq!(read, first, "read back as written, recovered amount included");
    // A row that pays nothing (all netted) is allowed; one that moves more than is payable is not, and leaves nothing.
    let other = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
    let over =
        s.record_settlements(&[crate::Settlement { business_day: other, ..row(3, "recovered", 0) }], &[moves(3)]).await;
    assert!(matches!(over, Err(StoreError::Conflict { what: "account_floor" })), "{over:?}");
    assert!(ok(s.settlements_of_day(other).await, "none").is_empty(), "the refused row was not kept");
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
