//! Closing a campaign: what returns to the treasury, and the close-out
//! report (结项报告) with what merchants were paid and still owe back.

use quan_domain::{CampaignId, Fen, Role};

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::CampaignError;

/// The figures of a campaign's close-out report (and of its state before).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CloseOutReport {
    pub campaign_id: CampaignId,
    pub name: String,
    pub region: String,
    pub status: &'static str,
    pub budget_fen: i64,
    pub funded_fen: i64,
    /// Per voucher state: (state, count, face value in fen).
    pub vouchers: Vec<(String, u64, i64)>,
    pub redemptions: u64,
    /// Order amount of standing redemptions, after refunds.
    pub order_fen: i64,
    pub subsidy_fen: i64,
    pub refunds: u64,
    pub refunded_fen: i64,
    pub subsidy_returned_fen: i64,
    /// Per merchant: (id, legal name, paid in fen).
    pub paid_by_merchant: Vec<(quan_domain::MerchantId, String, i64)>,
    pub available_fen: i64,
    pub reserved_fen: i64,
    pub payable_fen: i64,
    pub paid_fen: i64,
    pub returned_fen: i64,
    /// Held for merchants who may not be paid (zero once closed).
    pub held_fen: i64,
    /// Refunded after payment and not yet netted: what merchants owe back.
    pub owed_back_fen: i64,
    /// Per merchant owing back: (id, legal name, fen owed).
    pub owed_back_by_merchant: Vec<(quan_domain::MerchantId, String, i64)>,
    /// Matching discounts standing, from the platform and from merchants (memo).
    pub platform_matching_fen: i64,
    pub merchant_matching_fen: i64,
}

fn fen(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Engine {
    /// Closing: what is past validity expires first; then every voucher
    /// must be redeemed or expired (nothing reserved) and every merchant
    /// settled (nothing payable, nothing held); what merchants still owe
    /// back stays on the books, listed in the close-out report, for
    /// recovery outside quan; what is left available returns to the
    /// treasury in the same transaction as the status change. After that
    /// the ledger refuses any transfer of the campaign.
    pub(crate) async fn close_out_transfers(&self, id: CampaignId) -> Result<Vec<quan_store::Transfer>, CampaignError> {
        self.expire_campaign(id).await?;
        let b = self.audit_campaign_unchecked(id).await?.balances;
        let (reserved, payable, available) = (b.reserved, b.payable, b.available);
        let mut why = Vec::new();
        if reserved > 0 {
            let valid = self
                .store()
                .voucher_stats(id)
                .await?
                .into_iter()
                .find(|(s, _, _)| s == "claimed")
                .map_or(0, |(_, n, _)| n);
            why.push(format!(
                "{valid} claimed vouchers ({} yuan) are still valid; they expire at the end of their validity",
                Fen::new(fen(reserved))
            ));
        }
        if payable > 0 {
            why.push(format!("{} yuan is still owed to merchants: settle the remaining days (held merchants must be reinstated or resolved)", Fen::new(fen(payable))));
        }
        if b.held > 0 {
            why.push(format!(
                "{} yuan is held for merchants who may not be paid: reinstate them and settle again",
                Fen::new(fen(b.held))
            ));
        }
        if b.risk_held > 0 {
            why.push(format!(
                "{} yuan is held for a risk review: release or recover every hold (console 风控暂扣)",
                Fen::new(fen(b.risk_held))
            ));
        }
        if !why.is_empty() {
            return Err(CampaignError::NotReadyToClose(why.join("; ")));
        }
        Ok(if available > 0 {
            vec![quan_store::Transfer {
                id: self.new_uuid(),
                debit: quan_domain::ledger::Account::campaign(id, quan_domain::ledger::AccountKind::Available),
                credit: quan_domain::ledger::Account::campaign(id, quan_domain::ledger::AccountKind::Returned),
                amount: Fen::new(fen(available)),
                reason: quan_domain::ledger::Reason::CloseOut,
                reference: format!("close_out:{id}"),
                at: self.now(),
            }]
        } else {
            Vec::new()
        })
    }

    /// The close-out report's figures (at any time; final once closed).
    /// Roles: officials and auditors of the campaign's region.
    pub async fn close_out_report(&self, actor: &Actor, id: CampaignId) -> Result<CloseOutReport, CampaignError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor) {
            return Err(CampaignError::Forbidden);
        }
        let c = self.get_campaign(actor, id).await?;
        let audit = self.audit_campaign_unchecked(id).await?;
        let b = audit.balances;
        let mut paid_by_merchant = Vec::new();
        let mut owed_back_by_merchant = Vec::new();
        for a in &audit.accounts {
            let balance = a.credits - a.debits;
            match (a.account.merchant, a.account.kind) {
                (Some(m), quan_domain::ledger::AccountKind::Paid) => {
                    let name = self.store().merchant_by_id(m).await.map(|x| x.app.legal_name).unwrap_or_default();
                    paid_by_merchant.push((m, name, fen(balance)));
                }
                (Some(m), quan_domain::ledger::AccountKind::Recoverable) if balance < 0 => {
                    let name = self.store().merchant_by_id(m).await.map(|x| x.app.legal_name).unwrap_or_default();
                    owed_back_by_merchant.push((m, name, fen(-balance)));
                }
                _ => {}
            }
        }
        let (redemptions, order, subsidy) = self.store().redemption_stats(id).await?;
        let (refunds, refunded, returned_subsidy) = self.store().refund_stats(id).await?;
        Ok(CloseOutReport {
            campaign_id: id,
            name: c.spec.name.clone(),
            region: c.spec.region.as_str().to_owned(),
            status: c.status.as_str(),
            budget_fen: c.spec.budget_fen.as_i64(),
            funded_fen: c.funded.as_i64(),
            vouchers: self.store().voucher_stats(id).await?.into_iter().map(|(s, n, f)| (s, n, fen(f))).collect(),
            redemptions,
            order_fen: fen(order),
            subsidy_fen: fen(subsidy),
            refunds,
            refunded_fen: fen(refunded),
            subsidy_returned_fen: fen(returned_subsidy),
            paid_by_merchant,
            available_fen: fen(b.available),
            reserved_fen: fen(b.reserved),
            payable_fen: fen(b.payable),
            paid_fen: fen(b.paid),
            returned_fen: fen(b.returned),
            held_fen: fen(b.held),
            owed_back_fen: fen(-b.recoverable),
            owed_back_by_merchant,
            platform_matching_fen: fen(b.platform_matching),
            merchant_matching_fen: fen(b.merchant_matching),
        })
    }
}
