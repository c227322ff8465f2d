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

pub(super) fn cid(n: u128) -> CampaignId {
    CampaignId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0001_0000 + n))
}

pub(super) fn bid(n: u128) -> BatchId {
    BatchId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0002_0000 + n))
}

pub(super) fn actor() -> UserId {
    UserId::from_uuid(Uuid::from_u128(77))
}

pub(super) fn campaign(n: u128, region: &str, budget: i64) -> Campaign {
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

pub(super) fn event(n: u128, c: CampaignId, kind: &str, at: DateTime<Utc>) -> CampaignEvent {
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

pub(super) fn batch(n: u128, c: CampaignId, stock: u32, face_yuan: i64) -> Batch {
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
        admission_window_s: 0,
        proof_of_work: false,
        require_real_name: false,
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
    let found: Vec<_> =
        ok(s.transfers_by_reference(c.id, "test:2", 10).await, "by reference").iter().map(|t| t.amount).collect();
    assert_eq!(found, vec![Fen::new(400)], "a reference is found by its start");
    assert_eq!(ok(s.transfers_by_reference(c.id, "test:", 10).await, "prefix").len(), 2);
    assert!(ok(s.transfers_by_reference(c.id, "test_", 10).await, "no pattern").is_empty(), "`_` is no wildcard");
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
