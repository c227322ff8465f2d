//! Refunds of redeemed orders (核销退款): the subsidy shrinks to what the
//! remaining order earns; a full refund in time returns the voucher.

use chrono::{DateTime, Utc};
use quan_domain::ledger::{Account, AccountKind};
use quan_domain::postings::{self, Parties, RefundMoney};
use quan_domain::redemption::{self, Redeemed, RedemptionState};
use quan_domain::{BusinessDay, Fen, Role};
use quan_store::{Redemption, Refund, StoreError};

use super::{RedemptionError, voucher_rule};
use crate::Engine;
use crate::auth::Actor;

impl Engine {
    /// Refunds `amount` of a redeemed order (核销退款). Cashiers and owners
    /// of the merchant that took it.
    pub async fn refund(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        amount: Fen,
    ) -> Result<(Redemption, Refund), RedemptionError> {
        let Actor::Staff { user, .. } = actor else { return Err(RedemptionError::Forbidden) };
        if !matches!(user.role, Role::Cashier | Role::MerchantOwner) {
            return Err(RedemptionError::Forbidden);
        }
        let r = self.store().redemption_by_id(id).await?;
        if user.merchant != Some(r.merchant_id) {
            return Err(RedemptionError::NotFound);
        }
        // Paid through a partner: the partner is told, in the refund's transaction.
        let order = self.partner_order_of_redemption(&r).await?;
        let ask = order.as_ref().map(|o| crate::partners::RefundAsk { order: o, out_refund_no: None });
        self.refund_redemption(r, amount, user.id, ask.as_ref()).await
    }

    /// Refunds `amount` of the redemption `r` on behalf of `actor` (a
    /// cashier, an owner, or a partner reversing or refunding its payment:
    /// `partner` its order and number, written with the refund).
    pub(crate) async fn refund_redemption(
        &self,
        r: Redemption,
        amount: Fen,
        actor: quan_domain::UserId,
        partner: Option<&crate::partners::RefundAsk<'_>>,
    ) -> Result<(Redemption, Refund), RedemptionError> {
        let id = r.id;
        if r.state != RedemptionState::Standing {
            return Err(RedemptionError::Reversed);
        }
        if r.risk.as_ref().is_some_and(|h| h.outcome.as_deref() == Some("recovered")) {
            // Its subsidy went back to the budget as a confirmed fraud.
            return Err(RedemptionError::Recovered);
        }
        let now = self.now();
        // A refund soon after its redemption: refused, or allowed with the
        // merchant's case opened and its settlement held (`[cashout]`).
        let rules = &self.config().cashout;
        let verdict = if rules.act() {
            quan_domain::cashout::at_refund((now - r.redeemed_at).num_seconds(), rules)
        } else {
            quan_domain::cashout::Verdict::default()
        };
        if let Some(rule) = verdict.refused_by(rules) {
            return Err(RedemptionError::Refused(quan_domain::redemption::Refusal::RiskRule(rule)));
        }
        let batch = self.store().batch_by_id(r.batch_id).await?;
        let v = self.store().voucher_by_id(r.voucher_id).await?;
        let (kind, discount) = voucher_rule(&batch, &v)?;
        let discount = &discount;
        let (_, until) = redemption::valid_days(&kind.kind.validity, v.created_at);
        let still_valid = now.with_timezone(&quan_domain::UTC8).date_naive() <= until;
        let before = Redeemed { order_amount: r.order, basis: r.basis, refunded: r.refunded, subsidy: r.subsidy };
        let mut d = redemption::refund(&before, discount, amount, still_valid).map_err(RedemptionError::Refund)?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.record_refund(&r, &d, (amount, actor), partner, now).await {
                // A settlement moved the merchant's balances between reading
                // and posting: split again.
                Err(RedemptionError::Store(StoreError::Conflict { what: "account_floor" })) if attempts < 3 => {}
                // The budget was claimed to the last fen since: the subsidy
                // still comes back, but the voucher cannot be reserved again.
                Err(RedemptionError::Store(StoreError::Conflict { what: "account_floor" })) if d.voucher_back => {
                    d.voucher_back = false;
                }
                Err(e) => return Err(e),
                Ok(refund) => {
                    let after = self.store().redemption_by_id(id).await?;
                    if verdict.action == quan_domain::cashout::Action::Hold {
                        self.quick_refund_case(&after, &refund).await;
                    }
                    return Ok((after, refund));
                }
            }
        }
    }

    async fn record_refund(
        &self,
        r: &Redemption,
        d: &quan_domain::redemption::RefundDecision,
        (amount, actor): (Fen, quan_domain::UserId),
        partner: Option<&crate::partners::RefundAsk<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Refund, RedemptionError> {
        let id = r.id;
        let refund = Refund {
            id: self.new_uuid(),
            redemption_id: id,
            amount,
            subsidy_returned: d.subsidy_returned,
            voucher_back: d.voucher_back,
            actor,
            business_day: BusinessDay::of(now, self.config().business_day_cutoff).date(),
            at: now,
        };
        let reference = format!("refund:{}", refund.id);
        let balance = |kind| Account { campaign: r.campaign_id, kind, merchant: Some(r.merchant_id) };
        let payable = self.store().account_balance(&balance(AccountKind::Payable)).await?;
        let held = self.store().account_balance(&balance(AccountKind::Held)).await?;
        let back = |m: Fen| {
            redemption::matching_standing(m, r.order, r.refunded)
                .checked_sub(redemption::matching_standing(m, r.order, d.refunded_after))
                .unwrap_or(Fen::ZERO)
        };
        let money = RefundMoney {
            risk_held: r.risk.as_ref().map_or(0, |h| h.holding().as_i64()),
            subsidy_returned: d.subsidy_returned,
            payable: clamp(payable),
            held: clamp(held),
            matching_back: (back(r.platform_match), back(r.merchant_match)),
            voucher_back: d.voucher_back.then_some(r.face),
        };
        let transfers: Vec<_> = postings::refund(Parties { campaign: r.campaign_id, merchant: r.merchant_id }, money)
            .into_iter()
            .map(|p| self.transfer(p, &reference, now))
            .collect();
        let tag = partner.map(|ask| self.partner_refund_tag(ask, &refund, r));
        match self.store().refund(&refund, r.refunded, d.subsidy_after, &transfers, tag.as_ref()).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "refund_raced" | "out_refund_no_taken" }) => {
                return Err(RedemptionError::RefundRaced);
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(redemption_id = %id, refund_id = %refund.id, subsidy_returned_fen = d.subsidy_returned.as_i64(), voucher_back = d.voucher_back, "refund recorded");
        Ok(refund)
    }
}

/// A balance read as `i128`, within what a posting can carry.
fn clamp(b: i128) -> i64 {
    i64::try_from(b).unwrap_or(if b < 0 { i64::MIN } else { i64::MAX })
}
