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
    pub(crate) fn check_scanned_voucher(&self, parsed: &code::Parsed, v: &Voucher) -> Result<(), RedemptionError> {
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
        let at = Where { merchant_id, till, cashier, direction };
        let mut p = self.prepare_redemption(&v, at, input, None, now).await?;
        let Some(ledger_ref) = self.commit_redemption(p.redemption.clone(), std::mem::take(&mut p.transfers)).await?
        else {
            return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed));
        };
        p.redemption.ledger_ref = ledger_ref;
        self.after_redemption(&p, now);
        Ok(p.redemption)
    }

    /// A redemption decided, judged by the cash-out rules and written out
    /// with its postings, not recorded. `channel`: the partner whose
    /// payment it is (a pause of its channel stops it). Every transfer is
    /// given its commit's reference by whoever commits it.
    pub(crate) async fn prepare_redemption(
        &self,
        v: &Voucher,
        at: Where,
        input: OrderInput,
        channel: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Prepared, RedemptionError> {
        let decided = self.decide_redemption_via(v, at.merchant_id, &input, channel, now).await?;
        let decision = decided.decision;
        let judged = crate::risk::cashout::Judged {
            merchant: at.merchant_id,
            scale: decided.scale,
            till: at.till,
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
            tracing::warn!(merchant_id = %at.merchant_id, rule = rule.code(), score = verdict.score, "redemption refused by a cash-out rule");
            return Err(RedemptionError::Refused(Refusal::RiskRule(rule)));
        }
        let mut r = self.redemption_record(v, at, input, &decision, now);
        let parties = Parties { campaign: v.campaign_id, merchant: at.merchant_id };
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
        let transfers = postings.into_iter().map(|p| self.transfer(p, "", now)).collect();
        Ok(Prepared { redemption: r, transfers, threshold: crate::risk::cashout::threshold(&decided.discount) })
    }

    /// What a recorded redemption leaves behind: the cash-out rules' memory,
    /// the till's bell, the log.
    pub(crate) fn after_redemption(&self, p: &Prepared, now: DateTime<Utc>) {
        let r = &p.redemption;
        if self.config().cashout.act() {
            self.cashout_remember(r, p.threshold, now);
        }
        if let Some(h) = &r.risk {
            tracing::warn!(redemption_id = %r.id, merchant_id = %r.merchant_id, rules = %h.rules, held_fen = h.held.as_i64(), "redemption held for a risk review");
        }
        if let Some(t) = r.till_id {
            self.ring_till(t);
        }
        tracing::info!(redemption_id = %r.id, merchant_id = %r.merchant_id, subsidy_fen = r.subsidy.as_i64(), "voucher redeemed");
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
        self.decide_redemption_via(v, merchant_id, input, None, now).await
    }

    /// [`Engine::decide_redemption`] for a partner's channel (`channel`: a
    /// pause of it stops the redemption).
    pub(crate) async fn decide_redemption_via(
        &self,
        v: &Voucher,
        merchant_id: MerchantId,
        input: &OrderInput,
        channel: Option<&str>,
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
            channel,
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
            locked: v.lock.is_some_and(|(_, until)| until > now),
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
    pub(crate) fn redemption_record(
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

/// A redemption ready to record: the record, its postings, and the
/// threshold the cash-out rules remember it by.
pub(crate) struct Prepared {
    pub(crate) redemption: Redemption,
    pub(crate) transfers: Vec<quan_store::Transfer>,
    pub(crate) threshold: Option<Fen>,
}

/// A redemption decided, not recorded, with the names a person reads.
pub(crate) struct Decided {
    pub(crate) kind_name: String,
    pub(crate) merchant_name: String,
    pub(crate) decision: Decision,
    /// What the cash-out rules judge it by.
    pub(crate) scale: quan_domain::merchant::Scale,
    pub(crate) discount: quan_domain::voucher_kind::Discount,
}

/// Where a voucher is used, and by whom.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Where {
    pub(crate) merchant_id: MerchantId,
    pub(crate) till: Option<TillId>,
    pub(crate) cashier: Option<quan_domain::UserId>,
    pub(crate) direction: Direction,
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
