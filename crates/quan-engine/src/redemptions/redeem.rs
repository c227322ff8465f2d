//! Redemption at the till, in both directions: the facts loaded (from
//! memory where they cannot have changed), the domain's decision, the
//! record and its postings, committed by the redemption committer.

use chrono::{DateTime, Utc};
use quan_domain::code::{self, CodeError, Subject};
use quan_domain::postings::{self, Parties};
use quan_domain::redemption::{
    self, Decision, Item, MerchantFacts, Order, RedemptionState, Refusal, VoucherFacts, VoucherState,
};
use quan_domain::{BusinessDay, Fen, MerchantId, Role, TillId};
use quan_store::{Direction, Redemption, StoreError, Voucher};

use super::{ORDER_LINES_MAX, ORDER_REF_LEN_MAX, OrderInput, OrderLine, RedemptionError, voucher_rule};
use crate::Engine;
use crate::auth::Actor;

impl Engine {
    /// 用户出示、商家扫码: a cashier redeems the voucher code they scanned.
    pub async fn redeem_scanned(
        &self,
        actor: &Actor,
        raw_code: &str,
        order: OrderInput,
    ) -> Result<Redemption, RedemptionError> {
        let Actor::Staff { user, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let (Role::Cashier, Some(till)) = (user.role, user.till) else { return Err(RedemptionError::Forbidden) };
        let t = self.till_for_redemption(till).await?;
        let parsed = code::parse(raw_code).map_err(RedemptionError::Code)?;
        let Subject::Voucher(voucher_id) = parsed.subject else {
            return Err(RedemptionError::Code(CodeError::WrongSubject { expected: "voucher", found: "till" }));
        };
        // The voucher as this node issued its code moments ago, if it did:
        // all but its state is fixed, and the commit only takes a voucher
        // still `claimed`. Any refusal is decided again from the database, so
        // the answer names what the voucher really is now.
        if let Some(v) = self.issued_voucher(voucher_id) {
            let attempt = self.redeem_scanned_voucher(&parsed, (*v).clone(), &t, user, order.clone()).await;
            match attempt {
                Err(RedemptionError::Refused(_)) => {}
                done => {
                    self.forget_issued(voucher_id);
                    return done;
                }
            }
        }
        let v = match self.store().voucher_by_id(voucher_id).await {
            Ok(v) => v,
            // A well-formed code for no voucher cannot be genuine.
            Err(StoreError::NotFound) => return Err(RedemptionError::Code(CodeError::BadMac)),
            Err(e) => return Err(e.into()),
        };
        self.redeem_scanned_voucher(&parsed, v, &t, user, order).await
    }

    async fn redeem_scanned_voucher(
        &self,
        parsed: &code::Parsed,
        v: Voucher,
        t: &quan_store::Till,
        cashier: &quan_store::User,
        order: OrderInput,
    ) -> Result<Redemption, RedemptionError> {
        self.check_scanned_voucher(parsed, &v)?;
        self.redeem_voucher(v, t.merchant_id, Some(t.id), Some(cashier.id), Direction::ResidentShows, order).await
    }

    /// A scanned voucher code checked against its voucher: genuine, the
    /// voucher not used (a used voucher's code replayed says so, whatever its
    /// window), and inside its window.
    pub(super) fn check_scanned_voucher(&self, parsed: &code::Parsed, v: &Voucher) -> Result<(), RedemptionError> {
        self.check_mac(parsed, v.resident_id.as_uuid()).map_err(RedemptionError::Code)?;
        if v.state == VoucherState::Redeemed {
            return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed));
        }
        self.check_window(parsed).map_err(RedemptionError::Code)
    }

    /// 商家出示、用户扫码: a resident redeems one of their vouchers at the
    /// till whose code they scanned.
    pub async fn redeem_at_scanned_till(
        &self,
        actor: &Actor,
        raw_code: &str,
        voucher_id: uuid::Uuid,
        order: OrderInput,
    ) -> Result<Redemption, RedemptionError> {
        let Actor::Resident { resident, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let t = self.scanned_till(raw_code).await?;
        let v = self.store().voucher_by_id(voucher_id).await?;
        if v.resident_id != resident.id {
            return Err(RedemptionError::NotFound);
        }
        self.redeem_voucher(v, t.merchant_id, Some(t.id), None, Direction::MerchantShows, order).await
    }

    /// Decides and records one redemption of `v` at a merchant.
    async fn redeem_voucher(
        &self,
        v: Voucher,
        merchant_id: MerchantId,
        till: Option<TillId>,
        cashier: Option<quan_domain::UserId>,
        direction: Direction,
        input: OrderInput,
    ) -> Result<Redemption, RedemptionError> {
        let now = self.now();
        let decided = self.decide_redemption(&v, merchant_id, &input, now).await?;
        let decision = decided.decision;
        let judged = crate::risk::cashout::Judged {
            merchant: merchant_id,
            scale: decided.scale,
            till,
            resident: v.resident_id,
            order: input.amount,
            discount: &decided.discount,
        };
        // The rules judge only when a deployment has one hold or refuse.
        let verdict = if self.config().cashout.act() {
            self.cashout_verdict(&judged, now).await?
        } else {
            quan_domain::cashout::Verdict::default()
        };
        if let Some(rule) = verdict.refused_by(&self.config().cashout) {
            tracing::warn!(merchant_id = %merchant_id, rule = rule.code(), score = verdict.score, "redemption refused by a cash-out rule");
            return Err(RedemptionError::Refused(Refusal::RiskRule(rule)));
        }
        let at = Where { merchant_id, till, cashier, direction };
        let mut r = self.redemption_record(&v, at, input, &decision, now);
        let parties = Parties { campaign: v.campaign_id, merchant: merchant_id };
        let mut postings = postings::redemption(parties, v.face, decision.subsidy, r.platform_match, r.merchant_match);
        if verdict.action == quan_domain::cashout::Action::Hold && decision.subsidy > Fen::ZERO {
            postings.push(postings::risk(parties, postings::RiskStep::Hold, decision.subsidy));
            r.risk = Some(quan_store::RiskMark {
                held: decision.subsidy,
                still_held: decision.subsidy,
                rules: verdict.hits.iter().map(|h| h.rule.code()).collect::<Vec<_>>().join(","),
                score: verdict.score,
                outcome: None,
            });
        }
        // Every transfer is given its commit's reference by the committer.
        let transfers = postings.into_iter().map(|p| self.transfer(p, "", now)).collect();
        let Some(ledger_ref) = self.commit_redemption(r.clone(), transfers).await? else {
            return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed));
        };
        r.ledger_ref = ledger_ref;
        if self.config().cashout.act() {
            self.cashout_remember(&judged, now);
        }
        if let Some(h) = &r.risk {
            tracing::warn!(redemption_id = %r.id, merchant_id = %merchant_id, rules = %h.rules, held_fen = h.held.as_i64(), "redemption held for a risk review");
        }
        if let Some(t) = till {
            self.ring_till(t);
        }
        tracing::info!(redemption_id = %r.id, merchant_id = %merchant_id, subsidy_fen = r.subsidy.as_i64(), "voucher redeemed");
        Ok(r)
    }

    /// The domain's decision on using `v` for `input` at `merchant_id` now,
    /// with the names a person reads; nothing is recorded.
    pub(super) async fn decide_redemption(
        &self,
        v: &Voucher,
        merchant_id: MerchantId,
        input: &OrderInput,
        now: DateTime<Utc>,
    ) -> Result<Decided, RedemptionError> {
        check_order(input)?;
        let batch = self.batch_for_redemption(v.batch_id).await?;
        let (kind, discount) = voucher_rule(&batch, v)?;
        let m = self.merchant_for_redemption(merchant_id).await?;
        let scope = quan_domain::pause::RedemptionScope {
            campaign: v.campaign_id,
            merchant: m.id,
            merchant_district: &m.app.district,
            channel: None,
        };
        if let Some(p) = quan_domain::pause::stopping_redemption(&self.active_pauses().await, &scope) {
            return Err(RedemptionError::Paused(Box::new(crate::risk::pauses::PausedBy::of(p))));
        }
        let items = self.order_items(merchant_id, !kind.kind.scope.categories.is_empty(), &input.items).await?;
        let other_vouchers = if input.order_ref.is_empty() {
            0
        } else {
            self.store().standing_on_order(merchant_id, &input.order_ref).await?
        };
        let region = self.campaign_region(v.campaign_id).await?;
        let facts = VoucherFacts {
            state: v.state,
            frozen: v.frozen.map(|(_, why)| why),
            kind: &kind.kind,
            discount: &discount,
            face: v.face,
            claimed_at: v.created_at,
            region: &region,
        };
        let merchant = MerchantFacts { id: m.id, status: m.status, industry: m.app.industry, district: m.app.district };
        let order = Order { amount: input.amount, items, other_vouchers };
        let decision = redemption::decide(&facts, &merchant, &order, now).map_err(RedemptionError::Refused)?;
        redemption::check_matching(input.amount, decision.discount, input.platform_match, input.merchant_match)
            .map_err(|(field, message)| RedemptionError::BadInput { field, message })?;
        Ok(Decided {
            kind_name: kind.kind.name.clone(),
            merchant_name: m.app.legal_name.clone(),
            decision,
            scale: m.app.scale,
            discount,
        })
    }

    /// The order's lines, each with its category from the merchant's
    /// catalogue when the voucher is limited to categories.
    async fn order_items(
        &self,
        merchant_id: MerchantId,
        by_category: bool,
        lines: &[OrderLine],
    ) -> Result<Vec<Item>, RedemptionError> {
        let catalogue =
            if by_category && !lines.is_empty() { self.store().products(merchant_id).await? } else { Vec::new() };
        Ok(lines
            .iter()
            .map(|l| Item {
                sku: l.sku.clone(),
                category: catalogue.iter().find(|p| p.sku == l.sku).map(|p| p.category.clone()),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect())
    }

    /// The redemption as it will be recorded (its ledger reference is the
    /// commit's, given by the committer).
    fn redemption_record(
        &self,
        v: &Voucher,
        at: Where,
        input: OrderInput,
        d: &Decision,
        now: DateTime<Utc>,
    ) -> Redemption {
        Redemption {
            id: self.new_uuid(),
            voucher_id: v.id,
            campaign_id: v.campaign_id,
            batch_id: v.batch_id,
            kind_code: v.kind_code.clone(),
            resident_id: v.resident_id,
            merchant_id: at.merchant_id,
            till_id: at.till,
            cashier_id: at.cashier,
            direction: at.direction,
            order_ref: input.order_ref,
            order: input.amount,
            basis: d.basis,
            discount: d.discount,
            face: v.face,
            subsidy: d.subsidy,
            refunded: Fen::ZERO,
            platform_match: input.platform_match,
            merchant_match: input.merchant_match,
            state: RedemptionState::Standing,
            business_day: BusinessDay::of(now, self.config().business_day_cutoff).date(),
            redeemed_at: now,
            ledger_ref: String::new(),
            risk: None,
        }
    }
}

/// A redemption decided, not recorded, with the names a person reads.
pub(super) struct Decided {
    pub(super) kind_name: String,
    pub(super) merchant_name: String,
    pub(super) decision: Decision,
    /// What the cash-out rules judge it by.
    pub(super) scale: quan_domain::merchant::Scale,
    pub(super) discount: quan_domain::voucher_kind::Discount,
}

/// Where a voucher is used, and by whom.
#[derive(Debug, Clone, Copy)]
struct Where {
    merchant_id: MerchantId,
    till: Option<TillId>,
    cashier: Option<quan_domain::UserId>,
    direction: Direction,
}

/// The order's own limits: its reference's length and its number of lines.
fn check_order(input: &OrderInput) -> Result<(), RedemptionError> {
    if input.order_ref.chars().count() > ORDER_REF_LEN_MAX {
        return Err(RedemptionError::BadInput {
            field: "order_ref",
            message: format!("at most {ORDER_REF_LEN_MAX} characters"),
        });
    }
    if input.items.len() > ORDER_LINES_MAX {
        return Err(RedemptionError::BadInput { field: "items", message: format!("at most {ORDER_LINES_MAX} lines") });
    }
    Ok(())
}
