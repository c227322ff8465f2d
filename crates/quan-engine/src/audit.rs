//! `quan audit verify`: the books of a campaign, checked against themselves
//! and against the campaign's record.

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
        let mut findings = Vec::new();
        let (mut debits, mut credits) = (0i128, 0i128);
        let mut b = CampaignBalances::default();
        // Per merchant: payable + paid in the ledger.
        let mut owed: std::collections::BTreeMap<quan_domain::MerchantId, i128> = std::collections::BTreeMap::new();
        for a in &accounts {
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
            match (a.account.merchant, a.account.kind) {
                (None, kind) => b.set(kind, a.credits - a.debits),
                (Some(m), AccountKind::Payable | AccountKind::Paid) => {
                    let balance = a.credits - a.debits;
                    if a.account.kind == AccountKind::Payable {
                        b.payable += balance;
                    } else {
                        b.paid += balance;
                    }
                    *owed.entry(m).or_insert(0) += balance;
                }
                (Some(_), _) => {}
            }
        }
        if debits != credits {
            findings.push(Finding {
                check: "debits_differ_from_credits",
                detail: format!("debits {debits} ≠ credits {credits}"),
            });
        }
        findings.extend(check_campaign(&b, campaign.funded));
        let live = self.store().reserved_face(id).await?;
        if live != b.reserved {
            findings.push(Finding {
                check: "reserved_differs_from_vouchers",
                detail: format!("reserved {} fen but the claimed, unredeemed vouchers are worth {live}", b.reserved),
            });
        }
        // Each merchant's payable + paid = the subsidy its standing redemptions earn.
        let earned: std::collections::BTreeMap<_, _> =
            self.store().subsidy_by_merchant(id).await?.into_iter().collect();
        for m in owed.keys().chain(earned.keys()).collect::<std::collections::BTreeSet<_>>() {
            let (o, e) = (owed.get(m).copied().unwrap_or(0), earned.get(m).copied().unwrap_or(0));
            if o != e {
                findings.push(Finding {
                    check: "merchant_payable_differs_from_redemptions",
                    detail: format!("merchant {m}: payable + paid {o} fen but its redemptions (less refunds) earn {e}"),
                });
            }
        }
        let odd = self.store().vouchers_inconsistent(id).await?;
        if odd > 0 {
            findings.push(Finding {
                check: "voucher_state_differs_from_history",
                detail: format!("{odd} vouchers' state disagrees with their redemptions"),
            });
        }
        Ok(AuditReport {
            campaign: id,
            balances: b,
            accounts,
            findings,
            not_checked: vec!["settlement statements and payouts (no settlement yet)"],
        })
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
        let mut out = Vec::new();
        let mut after = None;
        for province in quan_domain::district::PROVINCE_CODES {
            let region = quan_domain::Region::parse(&province.to_string()).map_err(|e| {
                CampaignError::Invalid(quan_domain::Invalid::new("region", "bad_region", e.to_string()))
            })?;
            loop {
                let page = self.store().list_campaigns(&region, after, 500).await?;
                out.extend(page.iter().map(|c| c.id));
                if page.len() < 500 {
                    break;
                }
                after = page.last().map(|c| c.id);
            }
            after = None;
        }
        Ok(out)
    }
}
