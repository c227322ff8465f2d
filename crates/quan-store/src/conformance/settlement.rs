//! Conformance cases for settlement: one row and its transfers per day and merchant.

use chrono::NaiveDate;
use quan_domain::Fen;
use quan_domain::ledger::{Account, AccountKind, Reason};
use uuid::Uuid;

use super::{S, ok, t};
use crate::StoreError;

use super::claims::*;
use super::redemptions::*;

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
    assert_eq!(ok(s.settlements_of_merchant(m.id, 10).await, "the merchant's"), first);
    // A row that pays nothing (all netted) is allowed; one that moves more than is payable is not, and leaves nothing.
    let other = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
    let over =
        s.record_settlements(&[crate::Settlement { business_day: other, ..row(3, "recovered", 0) }], &[moves(3)]).await;
    assert!(matches!(over, Err(StoreError::Conflict { what: "account_floor" })), "{over:?}");
    assert!(ok(s.settlements_of_day(other).await, "none").is_empty(), "the refused row was not kept");
}
