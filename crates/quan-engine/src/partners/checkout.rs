//! The checkout at a partner's payment (支付立减): quote (what the
//! resident's voucher takes off this order, locking nothing) → lock (the
//! voucher held for the partner's `out_trade_no`, ending by itself) →
//! confirm with the channel's transaction id (the same redemption and
//! postings as a till's) or reverse (冲正); lookup after a lost answer.

use chrono::{DateTime, Utc};
use quan_domain::code::{self, CodeError, Subject};
use quan_domain::partner::{self, OrderStatus};
use quan_domain::redemption::Refusal;
use quan_domain::{Fen, Invalid, MerchantId, TillId, UserId};
use quan_store::{ConfirmOutcome, Direction, LockOutcome, PartnerOrder, Voucher};
use serde::{Deserialize, Serialize};

use super::CheckoutError;
use super::auth::Authed;
use crate::Engine;
use crate::redemptions::{OrderInput, OrderLine, RedemptionError};

/// An order at a merchant, paid through the partner, with the voucher code
/// the resident showed (scanned by the partner's app or the merchant's POS).
#[derive(Debug, Clone)]
pub struct CheckoutInput {
    pub voucher: VoucherBy,
    pub merchant_id: MerchantId,
    pub till_id: Option<TillId>,
    pub amount: Fen,
    pub items: Vec<OrderLine>,
}

/// How the partner names the voucher.
#[derive(Debug, Clone)]
pub enum VoucherBy {
    /// The dynamic code the resident showed.
    Code(String),
    /// One of the vouchers of a resident bound to the partner.
    Bound { resident_openid: String, voucher_id: uuid::Uuid },
}

impl VoucherBy {
    /// The voucher's id, read from the code alone for a code.
    fn id(&self) -> Result<uuid::Uuid, CheckoutError> {
        match self {
            VoucherBy::Code(c) => code_voucher(c).map(|(_, id)| id),
            VoucherBy::Bound { voucher_id, .. } => Ok(*voucher_id),
        }
    }
}

/// What the voucher takes off the order.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    pub voucher_id: uuid::Uuid,
    pub kind_name: String,
    pub face_fen: i64,
    pub amount_fen: i64,
    pub discount_fen: i64,
    /// What the resident pays: the amount less the discount.
    pub payable_fen: i64,
}

/// A partner's order as it stands now.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub out_trade_no: String,
    /// `locked`, `expired`, `confirmed` or `reversed`.
    pub status: &'static str,
    pub voucher_id: uuid::Uuid,
    pub merchant_id: MerchantId,
    pub till_id: Option<TillId>,
    pub amount_fen: i64,
    pub discount_fen: i64,
    pub payable_fen: i64,
    pub locked_until: DateTime<Utc>,
    pub transaction_id: Option<String>,
    pub redemption_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// An order line as kept with the order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    sku: String,
    quantity: u32,
    unit_price_fen: i64,
}

impl OrderView {
    fn of(o: &PartnerOrder, now: DateTime<Utc>) -> OrderView {
        let status = OrderStatus::at(&o.status, o.locked_until.timestamp_millis(), now.timestamp_millis())
            .unwrap_or(OrderStatus::Reversed);
        OrderView {
            out_trade_no: o.out_trade_no.clone(),
            status: status.as_str(),
            voucher_id: o.voucher_id,
            merchant_id: o.merchant_id,
            till_id: o.till_id,
            amount_fen: o.order.as_i64(),
            discount_fen: o.discount.as_i64(),
            payable_fen: o.order.as_i64() - o.discount.as_i64(),
            locked_until: o.locked_until,
            transaction_id: o.transaction_id.clone(),
            redemption_id: o.redemption_id,
            created_at: o.created_at,
            done_at: o.done_at,
        }
    }
}

fn invalid(field: &str, rule: &'static str, message: &str) -> CheckoutError {
    CheckoutError::Invalid(Invalid::new(field, rule, message))
}

impl Engine {
    /// What the resident's voucher takes off the order; nothing is held.
    pub async fn partner_quote(&self, a: &Authed, input: CheckoutInput) -> Result<QuoteView, CheckoutError> {
        let (v, order) = self.checkout_voucher(a, &input, None).await?;
        let decided = self.decide_redemption_via(&v, input.merchant_id, &order, Some(&channel(a)), self.now()).await?;
        Ok(QuoteView {
            voucher_id: v.id,
            kind_name: decided.kind_name,
            face_fen: v.face.as_i64(),
            amount_fen: input.amount.as_i64(),
            discount_fen: decided.decision.discount.as_i64(),
            payable_fen: input.amount.as_i64() - decided.decision.discount.as_i64(),
        })
    }

    /// Locks the voucher for the partner's order `out_trade_no` for
    /// `lock_seconds` (default 120): no till or other order takes it
    /// meanwhile. The same request again answers the same order.
    pub async fn partner_lock(
        &self,
        a: &Authed,
        out_trade_no: &str,
        input: CheckoutInput,
        lock_seconds: Option<u32>,
    ) -> Result<OrderView, CheckoutError> {
        partner::check_order_no("out_trade_no", out_trade_no, partner::ORDER_NO_MAX).map_err(CheckoutError::Invalid)?;
        let secs = partner::lock_seconds(lock_seconds).map_err(CheckoutError::Invalid)?;
        let now = self.now();
        let voucher_id = input.voucher.id()?;
        if let Some(o) = self.store().partner_order(a.partner.id, out_trade_no).await? {
            return same_order(&o, voucher_id, &input).map(|()| OrderView::of(&o, now));
        }
        let (v, order) = self.checkout_voucher(a, &input, Some(out_trade_no)).await?;
        let decided = self.decide_redemption_via(&v, input.merchant_id, &order, Some(&channel(a)), now).await?;
        let o = PartnerOrder {
            id: self.new_uuid(),
            partner_id: a.partner.id,
            out_trade_no: out_trade_no.to_owned(),
            voucher_id: v.id,
            merchant_id: input.merchant_id,
            till_id: input.till_id,
            order: input.amount,
            discount: decided.decision.discount,
            items: lines_json(&input.items),
            status: "locked".into(),
            locked_until: now + chrono::Duration::seconds(i64::from(secs)),
            transaction_id: None,
            redemption_id: None,
            created_at: now,
            done_at: None,
        };
        let item = quan_store::LockItem { order: o.clone(), now };
        match self.inner.partner_batches.locks.submit(self.store(), item).await? {
            LockOutcome::Locked => {
                tracing::info!(partner_id = %a.partner.id, order_id = %o.id, voucher_id = %v.id, "voucher locked for a partner's order");
                Ok(OrderView::of(&o, now))
            }
            LockOutcome::Exists(found) => same_order(&found, voucher_id, &input).map(|()| OrderView::of(&found, now)),
            // Taken between the decision and the lock: say what it is now.
            LockOutcome::VoucherTaken => {
                let v = self.store().voucher_by_id(v.id).await?;
                match self.decide_redemption_via(&v, input.merchant_id, &order, Some(&channel(a)), now).await {
                    Err(e) => Err(e.into()),
                    Ok(_) => Err(CheckoutError::Redemption(RedemptionError::Refused(Refusal::Locked))),
                }
            }
        }
    }

    /// Confirms the order with the channel's `transaction_id`: the voucher
    /// is redeemed. Confirming again with the same id answers the same.
    pub async fn partner_confirm(
        &self,
        a: &Authed,
        out_trade_no: &str,
        transaction_id: &str,
    ) -> Result<OrderView, CheckoutError> {
        partner::check_order_no("transaction_id", transaction_id, partner::TRANSACTION_ID_MAX)
            .map_err(CheckoutError::Invalid)?;
        let o = self.partner_order_of(a, out_trade_no).await?;
        let now = self.now();
        if let Some(done) = settled(&o, transaction_id, now)? {
            return Ok(done);
        }
        let mut v = self.store().voucher_by_id(o.voucher_id).await?;
        // Its own lock holds nothing against it.
        if v.lock.is_some_and(|(id, _)| id == o.id) {
            v.lock = None;
        }
        let order = OrderInput {
            amount: o.order,
            order_ref: order_ref(o.partner_id, &o.out_trade_no),
            items: lines_of(&o.items),
            ..OrderInput::default()
        };
        let at = crate::redemptions::Where {
            merchant_id: o.merchant_id,
            till: o.till_id,
            cashier: None,
            direction: Direction::ResidentShows,
        };
        let lock_ended = now >= o.locked_until;
        let mut p = match self.prepare_redemption(&v, at, order, Some(&channel(a)), now).await {
            Ok(p) => p,
            Err(e) => {
                // Confirmed or reversed meanwhile (by a request on another node): say so.
                let o = self.partner_order_of(a, out_trade_no).await?;
                if let Some(done) = settled(&o, transaction_id, now)? {
                    return Ok(done);
                }
                return Err(match e {
                    RedemptionError::Refused(Refusal::Locked | Refusal::AlreadyRedeemed) if lock_ended => {
                        CheckoutError::LockLost
                    }
                    e => e.into(),
                });
            }
        };
        if p.redemption.discount != o.discount {
            return Err(CheckoutError::QuoteChanged { locked: o.discount, now: p.redemption.discount });
        }
        let event = self.order_event(&o, "redemption.confirmed", Some(transaction_id), Some(p.redemption.id));
        let item = quan_store::ConfirmItem {
            order: o.clone(),
            transaction_id: transaction_id.to_owned(),
            redemption: p.redemption.clone(),
            transfers: std::mem::take(&mut p.transfers),
            event,
            now,
        };
        match self.inner.partner_batches.confirms.submit(self.store(), item).await? {
            ConfirmOutcome::Confirmed => {
                self.after_redemption(&p, now);
                let done = PartnerOrder {
                    status: "confirmed".into(),
                    transaction_id: Some(transaction_id.to_owned()),
                    redemption_id: Some(p.redemption.id),
                    done_at: Some(now),
                    ..o
                };
                Ok(OrderView::of(&done, now))
            }
            ConfirmOutcome::NotLocked(o) => settled(&o, transaction_id, now)?.ok_or(CheckoutError::LockLost),
            ConfirmOutcome::VoucherTaken => Err(CheckoutError::LockLost),
        }
    }

    /// Reverses the order (冲正): a lock is lifted, a confirmed payment is
    /// refunded in full (the voucher back to the resident while it is
    /// valid). Reversing again answers the same.
    pub async fn partner_reverse(&self, a: &Authed, out_trade_no: &str) -> Result<OrderView, CheckoutError> {
        let now = self.now();
        for _ in 0..3 {
            let o = self.partner_order_of(a, out_trade_no).await?;
            let from = match o.status.as_str() {
                "reversed" => return Ok(OrderView::of(&o, now)),
                "confirmed" => {
                    if let Some(id) = o.redemption_id {
                        let r = self.store().redemption_by_id(id).await?;
                        let rest = r.order.checked_sub(r.refunded).unwrap_or(Fen::ZERO);
                        if r.state == quan_domain::redemption::RedemptionState::Standing && rest > Fen::ZERO {
                            self.refund_redemption(r, rest, UserId::from_uuid(a.partner.id), None).await?;
                        }
                    }
                    "confirmed"
                }
                _ => "locked",
            };
            let event = self.order_event(&o, "redemption.reversed", o.transaction_id.as_deref(), o.redemption_id);
            if let Some(after) = self.store().reverse_partner_order(o.id, from, &event, now).await? {
                tracing::info!(partner_id = %a.partner.id, order_id = %o.id, from, "partner order reversed");
                return Ok(OrderView::of(&after, now));
            }
            // Confirmed or reversed meanwhile: look again.
        }
        Err(CheckoutError::Redemption(RedemptionError::Busy))
    }

    /// The partner's order by its number, as it stands now.
    pub async fn partner_lookup(&self, a: &Authed, out_trade_no: &str) -> Result<OrderView, CheckoutError> {
        let o = self.partner_order_of(a, out_trade_no).await?;
        Ok(OrderView::of(&o, self.now()))
    }

    /// The webhook event telling of a change of the order (its voucher the subject).
    fn order_event(
        &self,
        o: &PartnerOrder,
        kind: &str,
        transaction_id: Option<&str>,
        redemption: Option<uuid::Uuid>,
    ) -> quan_store::NewEvent {
        let data = serde_json::json!({
            "out_trade_no": o.out_trade_no,
            "voucher_id": o.voucher_id,
            "merchant_id": o.merchant_id,
            "amount_fen": o.order.as_i64(),
            "discount_fen": o.discount.as_i64(),
            "transaction_id": transaction_id,
            "redemption_id": redemption,
        });
        self.partner_event(o.partner_id, kind, &o.voucher_id.to_string(), data)
    }

    pub(super) async fn partner_order_of(&self, a: &Authed, no: &str) -> Result<PartnerOrder, CheckoutError> {
        partner::check_order_no("out_trade_no", no, partner::ORDER_NO_MAX).map_err(CheckoutError::Invalid)?;
        self.store().partner_order(a.partner.id, no).await?.ok_or(CheckoutError::OrderNotFound)
    }

    /// The voucher the code shows, checked (genuine, in its window, not
    /// used), and the order as the redemption path takes it.
    async fn checkout_voucher(
        &self,
        a: &Authed,
        input: &CheckoutInput,
        order_ref: Option<&str>,
    ) -> Result<(Voucher, OrderInput), CheckoutError> {
        // Test partners never touch live vouchers.
        if a.partner.mode == quan_domain::partner::Mode::Test && !self.config().sandbox {
            return Err(CheckoutError::TestMode);
        }
        let v = match &input.voucher {
            VoucherBy::Code(c) => self.scanned_for_checkout(c).await?,
            VoucherBy::Bound { resident_openid, voucher_id } => {
                self.bound_voucher(a, resident_openid, *voucher_id).await?
            }
        };
        if let Some(t) = input.till_id {
            let till = self.till_for_redemption(t).await.map_err(|_| CheckoutError::TillNotOfMerchant)?;
            if till.merchant_id != input.merchant_id {
                return Err(CheckoutError::TillNotOfMerchant);
            }
        }
        if input.amount <= Fen::ZERO {
            return Err(invalid("amount_fen", "amount_positive", "the order's amount is more than zero fen"));
        }
        let order = OrderInput {
            amount: input.amount,
            order_ref: order_ref.map(|no| self::order_ref(a.partner.id, no)).unwrap_or_default(),
            items: input.items.clone(),
            ..OrderInput::default()
        };
        Ok((v, order))
    }
}

/// Whether an order reference is a partner's (`p` and twelve hex digits, `:`).
pub(super) fn is_partner_ref(r: &str) -> bool {
    let b = r.as_bytes();
    b.len() > 14 && b[0] == b'p' && b[13] == b':' && b[1..13].iter().all(u8::is_ascii_hexdigit)
}

/// The order reference a partner's redemption keeps: its out_trade_no behind
/// the partner's tag, so two partners' numbers (or a till's) never meet in the
/// one-voucher-per-order rule (14 + 32 characters, within the 64 kept).
pub(super) fn order_ref(partner: uuid::Uuid, out_trade_no: &str) -> String {
    let id = partner.simple().to_string();
    format!("p{}:{out_trade_no}", &id[20..])
}

impl Engine {
    /// The voucher a scanned code shows: genuine, in its window, not used.
    async fn scanned_for_checkout(&self, raw: &str) -> Result<Voucher, CheckoutError> {
        let (parsed, id) = code_voucher(raw)?;
        let v = match self.store().voucher_by_id(id).await {
            Ok(v) => v,
            Err(quan_store::StoreError::NotFound) => {
                return Err(CheckoutError::Redemption(RedemptionError::Code(CodeError::BadMac)));
            }
            Err(e) => return Err(e.into()),
        };
        self.check_scanned_voucher(&parsed, &v)?;
        Ok(v)
    }
}

/// The channel a partner's redemptions count under (a pause of it stops them).
fn channel(a: &Authed) -> String {
    a.partner.id.to_string()
}

/// The voucher a code names, read from the code alone.
fn code_voucher(raw: &str) -> Result<(code::Parsed, uuid::Uuid), CheckoutError> {
    let parsed = code::parse(raw.trim()).map_err(|e| CheckoutError::Redemption(RedemptionError::Code(e)))?;
    match parsed.subject {
        Subject::Voucher(id) => Ok((parsed, id)),
        Subject::Till(_) => Err(CheckoutError::Redemption(RedemptionError::Code(CodeError::WrongSubject {
            expected: "voucher",
            found: "till",
        }))),
    }
}

/// A lock asked again: the same order if it is the same voucher, merchant and amount.
fn same_order(o: &PartnerOrder, voucher: uuid::Uuid, input: &CheckoutInput) -> Result<(), CheckoutError> {
    let same = o.voucher_id == voucher && o.merchant_id == input.merchant_id && o.order == input.amount;
    if same { Ok(()) } else { Err(CheckoutError::OrderNoReused) }
}

/// A confirm of an order that is already confirmed or reversed: the same
/// answer for the same transaction, a refusal otherwise; `None` when it is
/// still to be confirmed.
fn settled(o: &PartnerOrder, transaction_id: &str, now: DateTime<Utc>) -> Result<Option<OrderView>, CheckoutError> {
    match o.status.as_str() {
        "confirmed" if o.transaction_id.as_deref() == Some(transaction_id) => Ok(Some(OrderView::of(o, now))),
        "confirmed" => Err(CheckoutError::AlreadyConfirmed),
        "reversed" => Err(CheckoutError::Reversed),
        _ => Ok(None),
    }
}

fn lines_json(items: &[OrderLine]) -> String {
    let lines: Vec<Line> = items
        .iter()
        .map(|l| Line { sku: l.sku.clone(), quantity: l.quantity, unit_price_fen: l.unit_price.as_i64() })
        .collect();
    serde_json::to_string(&lines).unwrap_or_else(|_| "[]".into())
}

fn lines_of(json: &str) -> Vec<OrderLine> {
    serde_json::from_str::<Vec<Line>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|l| OrderLine { sku: l.sku, quantity: l.quantity, unit_price: Fen::new(l.unit_price_fen) })
        .collect()
}
