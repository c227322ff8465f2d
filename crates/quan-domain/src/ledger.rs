//! The double-entry ledger of public money, in integer fen.
//!
//! Every movement is a transfer from one account (debited) to another
//! (credited). An account's balance is its credits minus its debits. Per
//! campaign: money arrives from the treasury account (which may go
//! negative: it is the source) into `available`; a claim moves face value
//! to `reserved`; a redemption to `payable`; a settlement to `paid`; a
//! close-out from `available` to `returned`. Per merchant, a settlement
//! that cannot be paid (suspension) moves `payable` to `held` until the
//! merchant may be paid again; a refund after the subsidy was paid leaves
//! the merchant owing it back (`recoverable`, never above zero), netted
//! from its next settlements. Matching discounts that the platform and
//! the merchants add on top of the voucher are memo accounts: they are
//! counted (for the reports' leverage figures) but are not public money and
//! stay out of the budget identity. Transfers are never changed; a
//! correction is a reversing transfer.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{CampaignId, MerchantId};
use crate::money::Fen;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// The treasury's side: its balance is minus what it has paid in.
    Treasury,
    /// Budget received and not yet reserved by a claim.
    Available,
    /// Face value of claimed, not yet redeemed vouchers.
    Reserved,
    /// Subsidy owed to merchants for redemptions.
    Payable,
    /// Subsidy paid out to merchants.
    Paid,
    /// Money given back to the treasury at close-out.
    Returned,
    /// Per merchant: subsidy settled but not paid (suspension, risk hold).
    Held,
    /// Per merchant: subsidy of redemptions the cash-out rules or an
    /// operator held, owed to no one until released (to payable) or
    /// recovered (to the budget); settlement never pays it.
    RiskHeld,
    /// Per merchant: subsidy refunded after it was paid, which the merchant
    /// owes back; zero or below (debit-normal), netted from later settlements.
    Recoverable,
    /// Memo: the other side of the matching-discount memo accounts.
    MatchingSource,
    /// Memo, per campaign: discounts the payment platform added (平台配套优惠).
    PlatformMatching,
    /// Memo, per merchant: discounts the merchant added (商户让利).
    MerchantMatching,
}

impl AccountKind {
    pub const ALL: [AccountKind; 12] = [
        AccountKind::Treasury,
        AccountKind::Available,
        AccountKind::Reserved,
        AccountKind::Payable,
        AccountKind::Paid,
        AccountKind::Returned,
        AccountKind::Held,
        AccountKind::RiskHeld,
        AccountKind::Recoverable,
        AccountKind::MatchingSource,
        AccountKind::PlatformMatching,
        AccountKind::MerchantMatching,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Treasury => "treasury",
            AccountKind::Available => "available",
            AccountKind::Reserved => "reserved",
            AccountKind::Payable => "payable",
            AccountKind::Paid => "paid",
            AccountKind::Returned => "returned",
            AccountKind::Held => "held",
            AccountKind::RiskHeld => "risk_held",
            AccountKind::Recoverable => "recoverable",
            AccountKind::MatchingSource => "matching_source",
            AccountKind::PlatformMatching => "platform_matching",
            AccountKind::MerchantMatching => "merchant_matching",
        }
    }

    pub fn parse(s: &str) -> Option<AccountKind> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Every account but the sources (treasury, matching source) and the
    /// debit-normal `recoverable` must never go below zero.
    pub fn has_floor(self) -> bool {
        !matches!(self, AccountKind::Treasury | AccountKind::Recoverable | AccountKind::MatchingSource)
    }
}

/// One account: a kind within a campaign, optionally for one merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    pub campaign: CampaignId,
    pub kind: AccountKind,
    pub merchant: Option<MerchantId>,
}

impl Account {
    pub fn campaign(campaign: CampaignId, kind: AccountKind) -> Account {
        Account { campaign, kind, merchant: None }
    }

    /// A stable text key: `c/<campaign>/available` or `c/<campaign>/payable/m/<merchant>`.
    pub fn key(&self) -> String {
        match self.merchant {
            None => format!("c/{}/{}", self.campaign, self.kind.as_str()),
            Some(m) => format!("c/{}/{}/m/{m}", self.campaign, self.kind.as_str()),
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Why money moved; each a stable code in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Funding,
    ClaimReservation,
    ExpiryRelease,
    Redemption,
    Refund,
    Settlement,
    CloseOut,
    Reversal,
    /// Memo: a matching discount given with a redemption (or taken back by a refund).
    Matching,
    /// A redemption's subsidy held for a risk review (payable → risk held).
    RiskHold,
    /// A risk hold released to be settled (risk held → payable).
    RiskRelease,
    /// Held subsidy of a confirmed fraud back to the budget (risk held → available).
    RiskRecovery,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Reason::Funding,
        Reason::ClaimReservation,
        Reason::ExpiryRelease,
        Reason::Redemption,
        Reason::Refund,
        Reason::Settlement,
        Reason::CloseOut,
        Reason::Reversal,
        Reason::Matching,
        Reason::RiskHold,
        Reason::RiskRelease,
        Reason::RiskRecovery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Funding => "funding",
            Reason::ClaimReservation => "claim_reservation",
            Reason::ExpiryRelease => "expiry_release",
            Reason::Redemption => "redemption",
            Reason::Refund => "refund",
            Reason::Settlement => "settlement",
            Reason::CloseOut => "close_out",
            Reason::Reversal => "reversal",
            Reason::Matching => "matching",
            Reason::RiskHold => "risk_hold",
            Reason::RiskRelease => "risk_release",
            Reason::RiskRecovery => "risk_recovery",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Balances of one campaign's accounts, summed from its transfers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignBalances {
    pub treasury: i128,
    pub available: i128,
    pub reserved: i128,
    pub payable: i128,
    pub paid: i128,
    pub returned: i128,
    /// Summed over merchants.
    pub held: i128,
    /// Summed over merchants.
    pub risk_held: i128,
    /// Summed over merchants; zero or below.
    pub recoverable: i128,
    /// Memo: matching discounts standing (platform, merchants).
    pub platform_matching: i128,
    pub merchant_matching: i128,
}

impl CampaignBalances {
    /// Adds an account's balance to its kind's total (per-merchant
    /// accounts of one kind add up).
    pub fn add(&mut self, kind: AccountKind, balance: i128) {
        match kind {
            AccountKind::Treasury => self.treasury += balance,
            AccountKind::Available => self.available += balance,
            AccountKind::Reserved => self.reserved += balance,
            AccountKind::Payable => self.payable += balance,
            AccountKind::Paid => self.paid += balance,
            AccountKind::Returned => self.returned += balance,
            AccountKind::Held => self.held += balance,
            AccountKind::RiskHeld => self.risk_held += balance,
            AccountKind::Recoverable => self.recoverable += balance,
            AccountKind::MatchingSource => {}
            AccountKind::PlatformMatching => self.platform_matching += balance,
            AccountKind::MerchantMatching => self.merchant_matching += balance,
        }
    }

    /// What the treasury has paid in.
    pub fn funded(&self) -> i128 {
        -self.treasury
    }

    /// Where the funded money is: the right side of the ledger's equation
    /// `funded = available + reserved + payable + held + risk held + paid +
    /// recoverable + returned` (recoverable is zero or below: paid out, owed back).
    pub fn accounted(&self) -> i128 {
        self.available
            + self.reserved
            + self.payable
            + self.held
            + self.risk_held
            + self.paid
            + self.recoverable
            + self.returned
    }

    /// The right side of the equation in words and fen, as the audit shows it.
    pub fn accounted_terms(&self) -> String {
        format!(
            "available {} + reserved {} + payable {} + held {} + risk held {} + paid {} + recoverable {} + returned {}",
            self.available,
            self.reserved,
            self.payable,
            self.held,
            self.risk_held,
            self.paid,
            self.recoverable,
            self.returned
        )
    }
}

/// One difference `quan audit verify` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable code: `debits_differ_from_credits`, `account_below_floor`,
    /// `funded_not_accounted_for`, `funding_differs_from_campaign`,
    /// `balance_differs_from_transfers`, `reserved_differs_from_vouchers`.
    pub check: &'static str,
    pub detail: String,
}

/// The checks that need only the ledger's sums and the campaign's record:
/// `funded = available + reserved + payable + held + paid + recoverable +
/// returned` (recoverable is zero or below: paid out, owed back), floors,
/// and the campaign's recorded funding against the ledger's.
pub fn check_campaign(b: &CampaignBalances, campaign_funded: Fen) -> Vec<Finding> {
    let mut out = Vec::new();
    let accounted = b.accounted();
    if b.funded() != accounted {
        out.push(Finding {
            check: "funded_not_accounted_for",
            detail: format!("funded {} ≠ {} = {accounted}", b.funded(), b.accounted_terms()),
        });
    }
    for (kind, v) in [
        (AccountKind::Available, b.available),
        (AccountKind::Reserved, b.reserved),
        (AccountKind::Payable, b.payable),
        (AccountKind::Held, b.held),
        (AccountKind::RiskHeld, b.risk_held),
        (AccountKind::Paid, b.paid),
        (AccountKind::Returned, b.returned),
        (AccountKind::PlatformMatching, b.platform_matching),
        (AccountKind::MerchantMatching, b.merchant_matching),
    ] {
        if v < 0 {
            out.push(Finding { check: "account_below_floor", detail: format!("{} is {v} fen", kind.as_str()) });
        }
    }
    if b.recoverable > 0 {
        out.push(Finding {
            check: "recoverable_above_zero",
            detail: format!("merchants are owed {} fen through the recoverable account", b.recoverable),
        });
    }
    if b.funded() != i128::from(campaign_funded.as_i64()) {
        out.push(Finding {
            check: "funding_differs_from_campaign",
            detail: format!(
                "the ledger shows {} fen funded, the campaign records {}",
                b.funded(),
                campaign_funded.as_i64()
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_books_have_no_findings() {
        let b = CampaignBalances {
            treasury: -1000,
            available: 600,
            reserved: 300,
            payable: 50,
            held: 20,
            paid: 60,
            recoverable: -30,
            ..CampaignBalances::default()
        };
        assert!(check_campaign(&b, Fen::new(1000)).is_empty());
    }

    #[test]
    fn each_difference_is_named() {
        let b = CampaignBalances {
            treasury: -1000,
            available: -1,
            reserved: 300,
            recoverable: 5,
            ..CampaignBalances::default()
        };
        let checks: Vec<_> = check_campaign(&b, Fen::new(900)).iter().map(|f| f.check).collect();
        assert_eq!(
            checks,
            vec![
                "funded_not_accounted_for",
                "account_below_floor",
                "recoverable_above_zero",
                "funding_differs_from_campaign"
            ]
        );
    }

    #[test]
    fn account_keys_are_stable_text() {
        let c = CampaignId::from_uuid(uuid::Uuid::nil());
        assert_eq!(
            Account::campaign(c, AccountKind::Available).key(),
            "c/00000000-0000-0000-0000-000000000000/available"
        );
        assert!(AccountKind::ALL.iter().all(|k| AccountKind::parse(k.as_str()) == Some(*k)));
        assert!(Reason::ALL.iter().all(|r| Reason::parse(r.as_str()) == Some(*r)));
    }
}
