//! Where the money of a redemption or a refund goes: the ledger postings,
//! as pure values. The engine gives each its id, reference and instant.

use crate::ledger::{Account, AccountKind, Reason};
use crate::money::Fen;
use crate::{CampaignId, MerchantId};

/// One movement the ledger is to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub debit: Account,
    pub credit: Account,
    pub amount: Fen,
    pub reason: Reason,
}

/// Whose money a redemption or refund moves.
#[derive(Debug, Clone, Copy)]
pub struct Parties {
    pub campaign: CampaignId,
    pub merchant: MerchantId,
}

impl Parties {
    fn campaign(&self, kind: AccountKind) -> Account {
        Account::campaign(self.campaign, kind)
    }

    fn merchant(&self, kind: AccountKind) -> Account {
        Account { campaign: self.campaign, kind, merchant: Some(self.merchant) }
    }
}

/// A redemption: the subsidy from the reserve to the merchant's payable
/// account, what the voucher did not use of its face value back to the
/// budget, and the matching discounts as memo postings.
pub fn redemption(p: Parties, face: Fen, subsidy: Fen, platform_match: Fen, merchant_match: Fen) -> Vec<Posting> {
    let mut out = vec![Posting {
        debit: p.campaign(AccountKind::Reserved),
        credit: p.merchant(AccountKind::Payable),
        amount: subsidy,
        reason: Reason::Redemption,
    }];
    let unused = face.checked_sub(subsidy).unwrap_or(Fen::ZERO);
    if unused > Fen::ZERO {
        out.push(Posting {
            debit: p.campaign(AccountKind::Reserved),
            credit: p.campaign(AccountKind::Available),
            amount: unused,
            reason: Reason::Redemption,
        });
    }
    out.extend(matching(p, platform_match, merchant_match, false));
    out
}

/// Memo postings for matching discounts: given with a redemption (source →
/// matching accounts) or taken back by a refund (`back`).
pub fn matching(p: Parties, platform: Fen, merchant: Fen, back: bool) -> Vec<Posting> {
    let source = p.campaign(AccountKind::MatchingSource);
    [(platform, p.campaign(AccountKind::PlatformMatching)), (merchant, p.merchant(AccountKind::MerchantMatching))]
        .into_iter()
        .filter(|(amount, _)| *amount > Fen::ZERO)
        .map(|(amount, memo)| {
            let (debit, credit) = if back { (memo, source) } else { (source, memo) };
            Posting { debit, credit, amount, reason: Reason::Matching }
        })
        .collect()
}

/// What a refund moves, besides its matching memo postings.
#[derive(Debug, Clone, Copy)]
pub struct RefundMoney {
    pub subsidy_returned: Fen,
    /// What of this redemption's subsidy is still held for a risk review
    /// (0 when it was not held): a refund takes it back first.
    pub risk_held: i64,
    /// The merchant's payable and held balances now.
    pub payable: i64,
    pub held: i64,
    /// The matching discounts the refund takes back (platform, merchant).
    pub matching_back: (Fen, Fen),
    /// The voucher returns to the wallet: its face value is reserved again.
    pub voucher_back: Option<Fen>,
}

/// A refund: the subsidy comes back to the budget from what of this
/// redemption is held for a risk review, then from what the merchant is
/// owed (payable), then from what is held for it; what was already paid
/// out, the merchant owes back (recoverable), netted from its next
/// settlements. Then the matching discounts taken back, and last the
/// voucher's face value reserved again when it returns to the wallet.
pub fn refund(p: Parties, m: RefundMoney) -> Vec<Posting> {
    let mut out = Vec::new();
    let mut left = i128::from(m.subsidy_returned.as_i64());
    for (kind, balance) in [
        (AccountKind::RiskHeld, Some(m.risk_held)),
        (AccountKind::Payable, Some(m.payable)),
        (AccountKind::Held, Some(m.held)),
        (AccountKind::Recoverable, None),
    ] {
        let take = balance.map_or(left, |b| left.min(i128::from(b).max(0)));
        if take > 0 {
            out.push(Posting {
                debit: p.merchant(kind),
                credit: p.campaign(AccountKind::Available),
                amount: Fen::new(i64::try_from(take).unwrap_or(i64::MAX)),
                reason: Reason::Refund,
            });
            left -= take;
        }
    }
    out.extend(matching(p, m.matching_back.0, m.matching_back.1, true));
    if let Some(face) = m.voucher_back {
        out.push(Posting {
            debit: p.campaign(AccountKind::Available),
            credit: p.campaign(AccountKind::Reserved),
            amount: face,
            reason: Reason::Refund,
        });
    }
    out
}

/// A step of a redemption's risk hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskStep {
    /// Its subsidy from the merchant's payable to its risk-held account.
    Hold,
    /// Released: back to payable, paid by the next settlement.
    Release,
    /// A confirmed fraud: from risk held back to the campaign's budget.
    Recover,
}

/// The posting of one step of a risk hold over `amount`.
pub fn risk(p: Parties, step: RiskStep, amount: Fen) -> Posting {
    let held = p.merchant(AccountKind::RiskHeld);
    match step {
        RiskStep::Hold => {
            Posting { debit: p.merchant(AccountKind::Payable), credit: held, amount, reason: Reason::RiskHold }
        }
        RiskStep::Release => {
            Posting { debit: held, credit: p.merchant(AccountKind::Payable), amount, reason: Reason::RiskRelease }
        }
        RiskStep::Recover => {
            Posting { debit: held, credit: p.campaign(AccountKind::Available), amount, reason: Reason::RiskRecovery }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parties() -> Parties {
        Parties {
            campaign: CampaignId::from_uuid(uuid::Uuid::from_u128(1)),
            merchant: MerchantId::from_uuid(uuid::Uuid::from_u128(2)),
        }
    }

    fn total(ps: &[Posting], reason: Reason) -> i64 {
        ps.iter().filter(|p| p.reason == reason).map(|p| p.amount.as_i64()).sum()
    }

    #[test]
    fn a_redemption_moves_exactly_the_face_value_out_of_the_reserve() {
        let ps = redemption(parties(), Fen::new(2_000), Fen::new(1_500), Fen::ZERO, Fen::ZERO);
        assert_eq!(ps.len(), 2);
        assert_eq!(total(&ps, Reason::Redemption), 2_000);
        assert!(ps.iter().all(|p| p.debit.kind == AccountKind::Reserved));
        assert_eq!(ps[0].credit.merchant, Some(parties().merchant));
    }

    #[test]
    fn a_voucher_used_to_its_face_value_returns_nothing_to_the_budget() {
        let ps = redemption(parties(), Fen::new(2_000), Fen::new(2_000), Fen::ZERO, Fen::ZERO);
        assert_eq!(ps.len(), 1);
    }

    #[test]
    fn matching_discounts_are_memo_postings_that_a_refund_reverses() {
        let given = matching(parties(), Fen::new(300), Fen::new(200), false);
        let back = matching(parties(), Fen::new(300), Fen::new(200), true);
        assert_eq!(given.len(), 2);
        for (g, b) in given.iter().zip(&back) {
            assert_eq!((g.debit, g.credit), (b.credit, b.debit));
            assert_eq!(g.reason, Reason::Matching);
        }
        assert!(matching(parties(), Fen::ZERO, Fen::ZERO, false).is_empty());
    }

    #[test]
    fn a_refund_takes_the_subsidy_from_payable_then_held_then_owes_the_rest() {
        let ps = refund(
            parties(),
            RefundMoney {
                subsidy_returned: Fen::new(1_000),
                risk_held: 0,
                payable: 300,
                held: 200,
                matching_back: (Fen::ZERO, Fen::ZERO),
                voucher_back: None,
            },
        );
        let by_kind: Vec<(AccountKind, i64)> = ps.iter().map(|p| (p.debit.kind, p.amount.as_i64())).collect();
        assert_eq!(
            by_kind,
            vec![(AccountKind::Payable, 300), (AccountKind::Held, 200), (AccountKind::Recoverable, 500)]
        );
        assert!(ps.iter().all(|p| p.credit == Account::campaign(parties().campaign, AccountKind::Available)));
    }

    #[test]
    fn a_refund_never_takes_from_a_negative_balance_and_reserves_a_returned_voucher_again() {
        let ps = refund(
            parties(),
            RefundMoney {
                subsidy_returned: Fen::new(400),
                risk_held: 0,
                payable: -50,
                held: 0,
                matching_back: (Fen::new(100), Fen::ZERO),
                voucher_back: Some(Fen::new(2_000)),
            },
        );
        assert_eq!(ps[0].debit.kind, AccountKind::Recoverable);
        assert_eq!(ps[0].amount, Fen::new(400));
        assert_eq!((ps[1].reason, ps[1].credit.kind), (Reason::Matching, AccountKind::MatchingSource));
        assert_eq!(ps[2].credit.kind, AccountKind::Reserved, "the voucher's face is reserved last");
        assert_eq!(ps[2].amount, Fen::new(2_000));
    }

    #[test]
    fn a_held_redemptions_refund_takes_its_held_subsidy_first() {
        let money = RefundMoney {
            subsidy_returned: Fen::new(1_000),
            risk_held: 800,
            payable: 5_000,
            held: 0,
            matching_back: (Fen::ZERO, Fen::ZERO),
            voucher_back: None,
        };
        let by_kind: Vec<(AccountKind, i64)> =
            refund(parties(), money).iter().map(|p| (p.debit.kind, p.amount.as_i64())).collect();
        assert_eq!(by_kind, vec![(AccountKind::RiskHeld, 800), (AccountKind::Payable, 200)]);
    }

    #[test]
    fn a_hold_is_released_to_payable_or_recovered_to_the_budget() {
        let a = Fen::new(1_500);
        let hold = risk(parties(), RiskStep::Hold, a);
        assert_eq!((hold.debit.kind, hold.credit.kind), (AccountKind::Payable, AccountKind::RiskHeld));
        let release = risk(parties(), RiskStep::Release, a);
        assert_eq!((release.debit, release.credit), (hold.credit, hold.debit), "release undoes the hold");
        let recover = risk(parties(), RiskStep::Recover, a);
        assert_eq!((recover.debit.kind, recover.credit.kind), (AccountKind::RiskHeld, AccountKind::Available));
        assert_eq!(recover.credit.merchant, None, "back to the campaign's budget");
        assert_eq!(
            [hold.reason, release.reason, recover.reason],
            [Reason::RiskHold, Reason::RiskRelease, Reason::RiskRecovery]
        );
    }

    proptest::proptest! {
        #[test]
        fn a_refund_returns_exactly_the_subsidy_it_names(s in 0i64..1_000_000, pay in -1_000i64..1_000_000, held in -1_000i64..1_000_000) {
            let ps = refund(parties(), RefundMoney { subsidy_returned: Fen::new(s), risk_held: 0, payable: pay, held, matching_back: (Fen::ZERO, Fen::ZERO), voucher_back: None });
            proptest::prop_assert_eq!(total(&ps, Reason::Refund), s);
            proptest::prop_assert!(ps.iter().all(|p| p.amount > Fen::ZERO));
        }
    }
}
