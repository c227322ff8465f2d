//! Refunds a partner asks for by its own number (`out_refund_no`): part or
//! all of a confirmed payment, through the till's refund path (the subsidy
//! shrinks to what the rest of the order earns); the number, the refund and
//! its `refund.succeeded` event are written in one transaction, and the same
//! number asked again answers the same refund.

use chrono::{DateTime, Utc};
use quan_domain::partner;
use quan_domain::{Fen, Invalid, UserId};
use quan_store::{PartnerOrder, PartnerRefund, PartnerRefundTag, Redemption, Refund};
use serde::Serialize;

use super::CheckoutError;
use super::auth::Authed;
use crate::Engine;
use crate::redemptions::RedemptionError;

/// The partner's order a refund is of, and the partner's number when the
/// partner asked for it (`None`: the merchant's till refunded its payment).
pub(crate) struct RefundAsk<'a> {
    pub(crate) order: &'a PartnerOrder,
    pub(crate) out_refund_no: Option<&'a str>,
}

/// A partner's refund as it answers.
#[derive(Debug, Clone, Serialize)]
pub struct RefundView {
    pub out_refund_no: String,
    pub out_trade_no: String,
    /// Always `succeeded`: a refund is recorded whole or not at all.
    pub status: &'static str,
    pub amount_fen: i64,
    /// What the voucher's subsidy shrank by (back to the campaign's budget).
    pub subsidy_returned_fen: i64,
    /// Whether the voucher went back to the resident (a full refund while it is valid).
    pub voucher_back: bool,
    pub refund_id: uuid::Uuid,
    pub redemption_id: uuid::Uuid,
    pub created_at: DateTime<Utc>,
}

impl RefundView {
    fn of(p: &PartnerRefund, out_trade_no: &str, f: &Refund) -> RefundView {
        RefundView {
            out_refund_no: p.out_refund_no.clone(),
            out_trade_no: out_trade_no.to_owned(),
            status: "succeeded",
            amount_fen: p.amount.as_i64(),
            subsidy_returned_fen: f.subsidy_returned.as_i64(),
            voucher_back: f.voucher_back,
            refund_id: f.id,
            redemption_id: f.redemption_id,
            created_at: p.created_at,
        }
    }
}

impl Engine {
    /// Refunds `amount` of the partner's confirmed order `out_trade_no`
    /// under its number `out_refund_no` (1–64 characters, unique per
    /// partner). Asking again with the same number, order and amount
    /// answers the same refund; another order or amount is refused.
    pub async fn partner_refund(
        &self,
        a: &Authed,
        out_trade_no: &str,
        out_refund_no: &str,
        amount: Fen,
    ) -> Result<RefundView, CheckoutError> {
        partner::check_order_no("out_refund_no", out_refund_no, partner::REFUND_NO_MAX)
            .map_err(CheckoutError::Invalid)?;
        if amount <= Fen::ZERO {
            return Err(CheckoutError::Invalid(Invalid::new(
                "amount_fen",
                "amount_positive",
                "a refund's amount is more than zero fen",
            )));
        }
        let o = self.partner_order_of(a, out_trade_no).await?;
        if let Some(done) = self.refund_asked_before(a, &o, out_refund_no, amount).await? {
            return Ok(done);
        }
        let redemption = match (o.status.as_str(), o.redemption_id) {
            ("confirmed", Some(id)) => self.store().redemption_by_id(id).await?,
            ("reversed", _) => return Err(CheckoutError::Reversed),
            _ => return Err(CheckoutError::OrderNotConfirmed),
        };
        let ask = RefundAsk { order: &o, out_refund_no: Some(out_refund_no) };
        match self.refund_redemption(redemption, amount, UserId::from_uuid(a.partner.id), Some(&ask)).await {
            Ok((_, refund)) => {
                tracing::info!(partner_id = %a.partner.id, order_id = %o.id, refund_id = %refund.id, amount_fen = amount.as_i64(), "partner refund recorded");
                let p = PartnerRefund {
                    partner_id: a.partner.id,
                    out_refund_no: out_refund_no.to_owned(),
                    order_id: o.id,
                    refund_id: refund.id,
                    amount,
                    created_at: refund.at,
                };
                Ok(RefundView::of(&p, &o.out_trade_no, &refund))
            }
            // The same number on another node at once: answer what it recorded.
            Err(RedemptionError::RefundRaced) => match self.refund_asked_before(a, &o, out_refund_no, amount).await? {
                Some(done) => Ok(done),
                None => Err(CheckoutError::Redemption(RedemptionError::RefundRaced)),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The partner's refund by its number, as it was recorded.
    pub async fn partner_refund_lookup(&self, a: &Authed, out_refund_no: &str) -> Result<RefundView, CheckoutError> {
        partner::check_order_no("out_refund_no", out_refund_no, partner::REFUND_NO_MAX)
            .map_err(CheckoutError::Invalid)?;
        let p = self.store().partner_refund(a.partner.id, out_refund_no).await?.ok_or(CheckoutError::RefundNotFound)?;
        self.refund_view(a, &p).await
    }

    /// The refund already recorded under this number: the same answer for
    /// the same order and amount, a refusal for another.
    async fn refund_asked_before(
        &self,
        a: &Authed,
        o: &PartnerOrder,
        out_refund_no: &str,
        amount: Fen,
    ) -> Result<Option<RefundView>, CheckoutError> {
        let Some(p) = self.store().partner_refund(a.partner.id, out_refund_no).await? else { return Ok(None) };
        if p.order_id != o.id || p.amount != amount {
            return Err(CheckoutError::RefundNoReused);
        }
        self.refund_view(a, &p).await.map(Some)
    }

    async fn refund_view(&self, a: &Authed, p: &PartnerRefund) -> Result<RefundView, CheckoutError> {
        let o = self.store().partner_order_by_id(p.order_id).await?;
        debug_assert_eq!(o.partner_id, a.partner.id);
        let redemption = o.redemption_id.ok_or(CheckoutError::RefundNotFound)?;
        let refunds = self.store().refunds_of(redemption).await?;
        let f = refunds.iter().find(|f| f.id == p.refund_id).ok_or(CheckoutError::RefundNotFound)?;
        Ok(RefundView::of(p, &o.out_trade_no, f))
    }

    /// The number and event a partner's refund writes with it.
    pub(crate) fn partner_refund_tag(&self, ask: &RefundAsk<'_>, f: &Refund, r: &Redemption) -> PartnerRefundTag {
        let o = ask.order;
        let data = serde_json::json!({
            "out_trade_no": o.out_trade_no,
            "out_refund_no": ask.out_refund_no,
            "refunded_by": if ask.out_refund_no.is_some() { "partner" } else { "merchant" },
            "voucher_id": o.voucher_id,
            "merchant_id": o.merchant_id,
            "amount_fen": f.amount.as_i64(),
            "refunded_total_fen": r.refunded.as_i64().saturating_add(f.amount.as_i64()),
            "subsidy_returned_fen": f.subsidy_returned.as_i64(),
            "voucher_back": f.voucher_back,
            "redemption_id": r.id,
            "refund_id": f.id,
        });
        PartnerRefundTag {
            refund: ask.out_refund_no.map(|no| PartnerRefund {
                partner_id: o.partner_id,
                out_refund_no: no.to_owned(),
                order_id: o.id,
                refund_id: f.id,
                amount: f.amount,
                created_at: f.at,
            }),
            event: self.partner_event(o.partner_id, "refund.succeeded", &o.voucher_id.to_string(), data),
        }
    }
}

impl Engine {
    /// The partner's confirmed order that made a redemption, when a
    /// partner's checkout did (its order reference carries the partner's tag).
    pub(crate) async fn partner_order_of_redemption(
        &self,
        r: &Redemption,
    ) -> Result<Option<PartnerOrder>, quan_store::StoreError> {
        if !super::checkout::is_partner_ref(&r.order_ref) {
            return Ok(None);
        }
        self.store().partner_order_by_redemption(r.id).await
    }
}
