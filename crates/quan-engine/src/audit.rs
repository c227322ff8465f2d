//! `quan audit verify`: the books of a campaign, checked against themselves
//! and against the campaign's record.

use std::collections::{BTreeMap, BTreeSet};

use quan_domain::ledger::{AccountKind, CampaignBalances, Finding, check_campaign};
use quan_domain::{CampaignId, Role};
use quan_store::AccountTotals;

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::CampaignError;

/// The result of auditing one campaign.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub campaign: CampaignId,
    pub balances: CampaignBalances,
    pub accounts: Vec<AccountTotals>,
    pub findings: Vec<Finding>,
    /// Checks not yet possible, named so nobody mistakes silence for a pass.
    pub not_checked: Vec<&'static str>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl Engine {
    /// Audits a campaign without an acting user (for `quan audit verify`).
    pub async fn audit_campaign_unchecked(&self, id: CampaignId) -> Result<AuditReport, CampaignError> {
        let campaign = self.store().campaign_by_id(id).await?;
        let accounts = self.store().account_totals(id).await?;
        let (b, owed, mut findings) = ledger_findings(&accounts);
        findings.extend(check_campaign(&b, campaign.funded));
        let live = self.store().reserved_face(id).await?;
        if live != b.reserved {
            findings.push(Finding {
                check: "reserved_differs_from_vouchers",
                detail: format!("reserved {} fen but the claimed, unredeemed vouchers are worth {live}", b.reserved),
            });
        }
        let earned = self.store().subsidy_by_merchant(id).await?;
        findings.extend(merchant_findings(&owed, &earned, b.platform_matching));
        let instructed: BTreeMap<_, _> = self.store().paid_by_settlements(id).await?.into_iter().collect();
        findings.extend(paid_findings(&accounts, &instructed));
        findings.extend(self.record_findings(id, &campaign.spec.region).await?);
        Ok(AuditReport {
            campaign: id,
            balances: b,
            accounts,
            findings,
            not_checked: vec!["what the bank actually paid (see `quan settle confirm`)"],
        })
    }

    /// The checks of the records against each other: vouchers against their
    /// redemptions, claims and redemptions against what they name, and
    /// redemptions inside the campaign's region.
    async fn record_findings(
        &self,
        id: CampaignId,
        region: &quan_domain::Region,
    ) -> Result<Vec<Finding>, CampaignError> {
        let mut findings = Vec::new();
        let odd = self.store().vouchers_inconsistent(id).await?;
        if odd > 0 {
            findings.push(Finding {
                check: "voucher_state_differs_from_history",
                detail: format!("{odd} vouchers' state disagrees with their redemptions"),
            });
        }
        let claims_unlike = self.store().claims_unlike_records(id).await?;
        if claims_unlike > 0 {
            findings.push(Finding {
                check: "claim_differs_from_records",
                detail: format!(
                    "{claims_unlike} claims, vouchers or limit slots name a batch, resident or claim that does not exist \
                     or disagree with it"
                ),
            });
        }
        let unlike = self.store().redemptions_unlike_records(id).await?;
        if unlike > 0 {
            findings.push(Finding {
                check: "redemption_differs_from_records",
                detail: format!(
                    "{unlike} redemptions name another campaign, batch, kind, resident or face value than their voucher, \
                     or a merchant, till or cashier that does not exist, or another merchant's till"
                ),
            });
        }
        let abroad = self.store().redemptions_outside_region(id, region).await?;
        if abroad > 0 {
            findings.push(Finding {
                check: "redemption_outside_campaign_region",
                detail: format!(
                    "{abroad} redemptions were made at merchants outside the campaign's region {region}: its budget paid another region's shops"
                ),
            });
        }
        Ok(findings)
    }

    /// Audits a campaign in the caller's region. Roles: official, auditor.
    pub async fn audit_campaign(&self, actor: &Actor, id: CampaignId) -> Result<AuditReport, CampaignError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor) {
            return Err(CampaignError::Forbidden);
        }
        self.get_campaign(actor, id).await?;
        self.audit_campaign_unchecked(id).await
    }

    /// Every campaign's id, for `quan audit verify` without `--campaign`.
    pub async fn all_campaign_ids(&self) -> Result<Vec<CampaignId>, CampaignError> {
        Ok(self.every_campaign().await?.iter().map(|c| c.id).collect())
    }

    /// Every campaign, province by province, a page at a time.
    pub(crate) async fn every_campaign(&self) -> Result<Vec<quan_store::Campaign>, quan_store::StoreError> {
        let mut out = Vec::new();
        for province in quan_domain::district::PROVINCE_CODES {
            let region = quan_domain::Region::parse(&province.to_string())
                .map_err(|e| quan_store::StoreError::message(e.to_string()))?;
            let mut after = None;
            loop {
                let page = self.store().list_campaigns(&region, after, 500, None).await?;
                after = page.last().map(|c| c.id);
                let last_page = page.len() < 500;
                out.extend(page);
                if last_page {
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// Per merchant: (payable + held + paid + recoverable, merchant matching)
/// in the ledger.
type Owed = BTreeMap<quan_domain::MerchantId, (i128, i128)>;

/// The ledger against itself: every account's running totals against its
/// transfers, debits against credits; the campaign's balances and what the
/// ledger says each merchant is owed.
fn ledger_findings(accounts: &[AccountTotals]) -> (CampaignBalances, Owed, Vec<Finding>) {
    let mut findings = Vec::new();
    let (mut debits, mut credits) = (0i128, 0i128);
    let mut b = CampaignBalances::default();
    let mut owed = Owed::new();
    for a in accounts {
        debits += a.debits;
        credits += a.credits;
        if (a.debits, a.credits) != (a.transfer_debits, a.transfer_credits) {
            findings.push(Finding {
                check: "balance_differs_from_transfers",
                detail: format!(
                    "{}: running totals {}/{} but its transfers sum to {}/{}",
                    a.account, a.debits, a.credits, a.transfer_debits, a.transfer_credits
                ),
            });
        }
        let balance = a.credits - a.debits;
        b.add(a.account.kind, balance);
        if let Some(m) = a.account.merchant {
            let e = owed.entry(m).or_insert((0, 0));
            match a.account.kind {
                AccountKind::Payable
                | AccountKind::Held
                | AccountKind::RiskHeld
                | AccountKind::Paid
                | AccountKind::Recoverable => e.0 += balance,
                AccountKind::MerchantMatching => e.1 += balance,
                _ => {}
            }
        }
    }
    if debits != credits {
        findings.push(Finding {
            check: "debits_differ_from_credits",
            detail: format!("debits {debits} ≠ credits {credits}"),
        });
    }
    (b, owed, findings)
}

/// Each merchant's payable + held + paid + recoverable = the subsidy its
/// standing redemptions earn; the matching memo accounts = the matching
/// discounts standing (the platform's summed over merchants).
fn merchant_findings(owed: &Owed, earned: &[quan_store::MerchantEarned], platform_in_ledger: i128) -> Vec<Finding> {
    let earned: BTreeMap<_, _> = earned.iter().map(|e| (e.merchant_id, e)).collect();
    let mut findings = Vec::new();
    let mut platform_matching = 0;
    for m in owed.keys().chain(earned.keys()).collect::<BTreeSet<_>>() {
        let (o, om) = owed.get(m).copied().unwrap_or((0, 0));
        let (e, em) = earned.get(m).map(|e| (e.subsidy, e.merchant_match)).unwrap_or((0, 0));
        platform_matching += earned.get(m).map(|e| e.platform_match).unwrap_or(0);
        if o != e {
            findings.push(Finding {
                check: "merchant_payable_differs_from_redemptions",
                detail: format!(
                    "merchant {m}: payable + held + paid + recoverable {o} fen but its redemptions (less refunds) earn {e}"
                ),
            });
        }
        if om != em {
            findings.push(Finding {
                check: "matching_differs_from_redemptions",
                detail: format!("merchant {m}: merchant matching {om} fen in the ledger, {em} on its redemptions"),
            });
        }
    }
    if platform_matching != platform_in_ledger {
        findings.push(Finding {
            check: "matching_differs_from_redemptions",
            detail: format!(
                "platform matching {platform_in_ledger} fen in the ledger, {platform_matching} on the redemptions"
            ),
        });
    }
    findings
}

/// What the ledger paid each merchant = what its settlement rows told the
/// bank to pay.
fn paid_findings(accounts: &[AccountTotals], instructed: &BTreeMap<quan_domain::MerchantId, i128>) -> Vec<Finding> {
    let paid: BTreeMap<_, _> = accounts
        .iter()
        .filter(|a| a.account.kind == AccountKind::Paid)
        .filter_map(|a| a.account.merchant.map(|m| (m, a.credits - a.debits)))
        .collect();
    let mut findings = Vec::new();
    for m in paid.keys().chain(instructed.keys()).collect::<BTreeSet<_>>() {
        let (p, i) = (paid.get(m).copied().unwrap_or(0), instructed.get(m).copied().unwrap_or(0));
        if p != i {
            findings.push(Finding {
                check: "paid_differs_from_settlements",
                detail: format!("merchant {m}: paid {p} fen in the ledger, {i} by its settlements"),
            });
        }
    }
    findings
}

impl Engine {
    /// A campaign's transfers whose reference starts with `reference` (a
    /// redemption's id, `fund:…`, a settlement's id…), at most 200. Roles:
    /// auditor, official (their region).
    pub async fn search_transfers(
        &self,
        actor: &Actor,
        campaign: quan_domain::CampaignId,
        reference: &str,
    ) -> Result<Vec<quan_store::Transfer>, crate::campaigns::CampaignError> {
        if !matches!(actor.role(), quan_domain::Role::Auditor | quan_domain::Role::Official) {
            return Err(crate::campaigns::CampaignError::Forbidden);
        }
        self.get_campaign(actor, campaign).await?;
        let reference = reference.trim();
        if reference.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store().transfers_by_reference(campaign, reference, 200).await?)
    }
}
