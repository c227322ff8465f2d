//! Conformance cases for `RedemptionStore`: once per voucher, batched postings, refunds.

use chrono::NaiveDate;
use quan_domain::ledger::{Account, AccountKind, Reason};
use quan_domain::{Fen, ResidentId};
use uuid::Uuid;

use super::{S, ok, t};
use crate::{Batch, Campaign, StoreError};

use super::campaigns::*;
use super::claims::*;

pub(super) fn redemption(
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
        state: quan_domain::redemption::RedemptionState::Standing,
        business_day: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default(),
        redeemed_at: t(20),
        ledger_ref: format!("redemption:{n}"),
        risk: None,
    }
}

pub(super) fn pay(n: u128, c: &Campaign, merchant: quan_domain::MerchantId) -> crate::Transfer {
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
    let stale = s
        .refund(&crate::Refund { id: Uuid::from_u128(0xe3), ..refund.clone() }, Fen::new(5), Fen::ZERO, &back, None)
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { what: "refund_raced" })), "{stale:?}");
    // Asked by a partner: its number and event are written with the refund.
    let tag = crate::PartnerRefundTag {
        refund: Some(crate::PartnerRefund {
            partner_id: Uuid::from_u128(0xb0),
            out_refund_no: "R-1".into(),
            order_id: Uuid::from_u128(0xb1),
            refund_id: refund.id,
            amount: refund.amount,
            created_at: t(30),
        }),
        event: crate::NewEvent {
            id: Uuid::from_u128(0xb2),
            partner_id: Uuid::from_u128(0xb0),
            kind: "refund.succeeded".into(),
            subject: v(0).to_string(),
            payload: "{}".into(),
            at: t(30),
        },
    };
    ok(s.refund(&refund, Fen::ZERO, Fen::ZERO, &back, Some(&tag)).await, "refund");
    let asked = tag.refund.clone().unwrap_or_else(|| panic!("asked by number"));
    assert_eq!(ok(s.partner_refund(asked.partner_id, "R-1").await, "by number"), Some(asked.clone()));
    assert_eq!(ok(s.partner_refunds_of(asked.order_id).await, "of the order"), vec![asked.clone()]);
    assert_eq!(ok(s.partner_refund(asked.partner_id, "R-2").await, "unknown"), None);
    assert_eq!(ok(s.voucher_by_id(v(0)).await, "voucher").state, "claimed", "back in the wallet");
    assert_eq!(ok(s.redemption_by_id(items[0].0.id).await, "redemption").state, "reversed");
    assert_eq!(ok(s.refunds_of(items[0].0.id).await, "refunds").len(), 1);
    assert_eq!(ok(s.vouchers_inconsistent(c.id).await, "history"), 0);
    assert_eq!(ok(s.reserved_face(c.id).await, "reserved"), 200);
    // Redeemed again after coming back: a second standing redemption is allowed.
    let again = (redemption(4, &c, &b, v(0), rs[0], m.id), vec![pay(4, &c, m.id)]);
    assert_eq!(ok(s.redeem_batch(&[again]).await, "again"), vec![true]);
    // The merchant's list: its business days, all tills or one, at most `limit`.
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let listed = ok(s.redemptions_of_merchant(m.id, (day, day), None, 10).await, "listed");
    let mut ids: Vec<Uuid> = listed.iter().map(|r| r.id).collect();
    ids.sort();
    let mut want = vec![items[0].0.id, items[2].0.id, redemption(4, &c, &b, v(0), rs[0], m.id).id];
    want.sort();
    assert_eq!(ids, want, "reversed and standing alike");
    assert_eq!(ok(s.redemptions_of_merchant(m.id, (day, day), None, 2).await, "limited").len(), 2);
    let next = day.succ_opt().unwrap_or(day);
    assert!(ok(s.redemptions_of_merchant(m.id, (next, next), None, 10).await, "other day").is_empty());
    let till = quan_domain::TillId::from_uuid(Uuid::from_u128(0x7111));
    assert!(ok(s.redemptions_of_merchant(m.id, (day, day), Some(till), 10).await, "other till").is_empty());
}
