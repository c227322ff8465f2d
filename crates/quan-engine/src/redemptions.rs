//! Redemption at the till, in both directions, and refunds. The decisions
//! are the domain's (`quan_domain::redemption`, `quan_domain::code`); this
//! module loads the facts, signs and checks the dynamic codes, and records
//! each redemption or refund with its ledger transfers in one transaction.

use chrono::{DateTime, Utc};
use quan_domain::code::{self, CodeError, CodeKey, MacAlgorithm, Subject};
use quan_domain::ledger::{Account, AccountKind, Reason};
use quan_domain::redemption::{
    self, Decision, Item, MerchantFacts, Order, Redeemed, RefundRefusal, Refusal, VoucherFacts, VoucherState,
};
use quan_domain::{BusinessDay, Fen, MerchantId, Role, TillId};
use quan_store::{Direction, Redemption, Refund, StoreError, Transfer, Voucher};
use serde::Serialize;

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status};

/// How dynamic codes are made and checked. Units are last in each name.
#[derive(Debug, Clone)]
pub struct CodeConfig {
    /// Seconds between refreshes (15–60).
    pub refresh_s: u32,
    /// Seconds a code stays good after its window ends.
    pub grace_s: u32,
    pub algorithm: MacAlgorithm,
    /// The key that signs new codes.
    pub key_id: u8,
    /// Earlier keys that still verify until their retirement instant.
    pub retiring_keys: Vec<(u8, DateTime<Utc>)>,
}

impl Default for CodeConfig {
    fn default() -> Self {
        CodeConfig {
            refresh_s: 30,
            grace_s: 5,
            algorithm: MacAlgorithm::HmacSha256,
            key_id: 1,
            retiring_keys: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedemptionError {
    #[error("{0}")]
    Code(CodeError),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Refund(RefundRefusal),
    #[error("the order needs `{0}`")]
    Missing(&'static str),
    #[error("{field}: {message}")]
    BadInput { field: &'static str, message: String },
    #[error("another refund of this redemption was recorded at the same moment; read it again and retry")]
    RefundRaced,
    #[error("this redemption was reversed by a full refund")]
    Reversed,
    #[error("too many redemptions are waiting; try again in a second")]
    Busy,
    #[error("no such voucher, till or redemption")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RedemptionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RedemptionError::NotFound,
            e => RedemptionError::Store(e),
        }
    }
}

impl Rejection for RedemptionError {
    fn status(&self) -> Status {
        use RedemptionError as E;
        match self {
            E::Code(CodeError::Expired) => Status::Conflict,
            E::Code(_) | E::Missing(_) | E::BadInput { .. } | E::Refund(_) => Status::Unprocessable,
            E::Refused(r) => match r {
                Refusal::AlreadyRedeemed | Refusal::Expired | Refusal::PastValidity(_) => Status::Conflict,
                Refusal::MerchantNotApproved | Refusal::MerchantSuspended => Status::Forbidden,
                _ => Status::Unprocessable,
            },
            E::RefundRaced | E::Reversed => Status::Conflict,
            E::Busy => Status::TooManyRequests,
            E::NotFound => Status::NotFound,
            E::Forbidden => Status::Forbidden,
            E::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        use RedemptionError as E;
        match self {
            E::Code(c) => c.code(),
            E::Refused(r) => r.code(),
            E::Refund(r) => r.code(),
            E::Missing(_) => "missing_field",
            E::BadInput { .. } => "bad_input",
            E::RefundRaced => "refund_raced",
            E::Reversed => "redemption_reversed",
            E::Busy => "busy",
            E::NotFound => "not_found",
            E::Forbidden => "forbidden",
            E::Store(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        matches!(self, RedemptionError::Busy).then_some(1)
    }
    fn field(&self) -> Option<&str> {
        match self {
            RedemptionError::Missing(f) | RedemptionError::BadInput { field: f, .. } => Some(f),
            RedemptionError::Code(_) => Some("code"),
            RedemptionError::Refund(_) => Some("amount_fen"),
            _ => None,
        }
    }
}

/// A code to show, and until when it is good.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCode {
    pub code: String,
    /// The end of its window (the page fetches the next one then).
    pub expires_at: DateTime<Utc>,
    pub refresh_s: u32,
}

/// One line of an order as the till sends it.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Fen,
}

/// The order a voucher is used on.
#[derive(Debug, Clone, Default)]
pub struct OrderInput {
    pub amount: Fen,
    /// The merchant's own order number; an order with one voucher already
    /// on it takes no second one-per-order voucher.
    pub order_ref: String,
    pub items: Vec<OrderLine>,
    /// Discounts added on top of the voucher by the payment platform
    /// (平台配套优惠) and by the merchant (商户让利); counted for the
    /// reports' leverage figures, not paid from the budget.
    pub platform_match: Fen,
    pub merchant_match: Fen,
}

/// A voucher's kind in its batch, and its own rule (its tier's, for a pack).
fn voucher_rule<'b>(
    batch: &'b quan_store::Batch,
    v: &Voucher,
) -> Result<(&'b quan_domain::batch::BatchKind, quan_domain::voucher_kind::Discount), StoreError> {
    let kind = batch
        .spec
        .kinds
        .iter()
        .find(|k| k.kind.code == v.kind_code)
        .ok_or_else(|| StoreError::message(format!("voucher {} names a kind its batch lacks", v.id)))?;
    let discount = kind
        .kind
        .discount
        .pack()
        .get(v.tier as usize)
        .cloned()
        .ok_or_else(|| StoreError::message(format!("voucher {} has no tier {}", v.id, v.tier)))?;
    Ok((kind, discount))
}

/// Order lines at most.
pub const ORDER_LINES_MAX: usize = 200;
/// Characters of an order reference at most.
pub const ORDER_REF_LEN_MAX: usize = 64;
/// Redemptions returned by one poll of a till at most.
pub const TILL_POLL_LEN_MAX: u32 = 200;

impl Engine {
    fn code_keys(&self) -> (CodeKey, Vec<(CodeKey, DateTime<Utc>)>) {
        let c = &self.config().codes;
        let key = |id: u8| {
            let h = self.inner.pii_key.hash("dynamic-code-key", &[id]);
            CodeKey::new(id, c.algorithm, *h.as_bytes())
        };
        (key(c.key_id), c.retiring_keys.iter().map(|(id, until)| (key(*id), *until)).collect())
    }

    fn refresh_s(&self) -> u32 {
        self.config().codes.refresh_s.clamp(code::REFRESH_S_MIN, code::REFRESH_S_MAX)
    }

    fn issue_code(&self, subject: Subject, owner: uuid::Uuid) -> IssuedCode {
        let refresh = self.refresh_s();
        let now = self.now().timestamp();
        let window = code::window_of(now, refresh);
        let (key, _) = self.code_keys();
        let end = (i64::from(window) + 1) * i64::from(refresh);
        IssuedCode {
            code: code::issue(subject, owner, window, &key),
            expires_at: DateTime::from_timestamp(end, 0).unwrap_or_default(),
            refresh_s: refresh,
        }
    }

    /// Finds the key a code names (the current one, or a retiring one
    /// before its retirement) and checks the MAC for `owner`.
    fn check_mac(&self, parsed: &code::Parsed, owner: uuid::Uuid) -> Result<(), CodeError> {
        let (current, retiring) = self.code_keys();
        let now = self.now();
        let key = if parsed.key_id == current.id {
            current
        } else {
            retiring
                .into_iter()
                .find(|(k, until)| k.id == parsed.key_id && now < *until)
                .map(|(k, _)| k)
                .ok_or(CodeError::UnknownKey)?
        };
        parsed.verify_mac(&key, owner)
    }

    fn check_window(&self, parsed: &code::Parsed) -> Result<(), CodeError> {
        parsed.check_window(self.now().timestamp(), self.refresh_s(), self.config().codes.grace_s)
    }

    /// The current code of one of the resident's own vouchers.
    pub async fn voucher_code(&self, actor: &Actor, voucher: uuid::Uuid) -> Result<IssuedCode, RedemptionError> {
        let Actor::Resident { resident, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let v = self.store().voucher_by_id(voucher).await?;
        if v.resident_id != resident.id {
            return Err(RedemptionError::NotFound);
        }
        match VoucherState::parse(&v.state) {
            Some(VoucherState::Claimed) => {}
            Some(VoucherState::Redeemed) => return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed)),
            _ => return Err(RedemptionError::Refused(Refusal::Expired)),
        }
        remember(&self.inner.read_cache.issued, voucher, std::sync::Arc::new(v));
        Ok(self.issue_code(Subject::Voucher(voucher), resident.id.as_uuid()))
    }

    /// The till a cashier or merchant owner may act for.
    pub(crate) async fn own_till(&self, actor: &Actor, till: TillId) -> Result<quan_store::Till, RedemptionError> {
        let Actor::Staff { user, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let t = self.till_for_redemption(till).await?;
        let allowed = match user.role {
            Role::Cashier => user.till == Some(till),
            Role::MerchantOwner => user.merchant == Some(t.merchant_id),
            _ => false,
        };
        if !allowed {
            return Err(RedemptionError::NotFound);
        }
        Ok((*t).clone())
    }

    /// The current code of a till, for the resident to scan.
    pub async fn till_code(&self, actor: &Actor, till: TillId) -> Result<IssuedCode, RedemptionError> {
        let t = self.own_till(actor, till).await?;
        Ok(self.issue_code(Subject::Till(till.as_uuid()), t.merchant_id.as_uuid()))
    }

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
        self.check_mac(parsed, v.resident_id.as_uuid()).map_err(RedemptionError::Code)?;
        // A used voucher's code replayed says so, whatever its window.
        if VoucherState::parse(&v.state) == Some(VoucherState::Redeemed) {
            return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed));
        }
        self.check_window(parsed).map_err(RedemptionError::Code)?;
        self.redeem_voucher(v, t.merchant_id, Some(t.id), Some(cashier.id), Direction::ResidentShows, order).await
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
        let parsed = code::parse(raw_code).map_err(RedemptionError::Code)?;
        let Subject::Till(till) = parsed.subject else {
            return Err(RedemptionError::Code(CodeError::WrongSubject { expected: "till", found: "voucher" }));
        };
        let till = TillId::from_uuid(till);
        let t = match self.till_for_redemption(till).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => return Err(RedemptionError::Code(CodeError::BadMac)),
            Err(e) => return Err(e.into()),
        };
        self.check_mac(&parsed, t.merchant_id.as_uuid()).map_err(RedemptionError::Code)?;
        self.check_window(&parsed).map_err(RedemptionError::Code)?;
        let v = self.store().voucher_by_id(voucher_id).await?;
        if v.resident_id != resident.id {
            return Err(RedemptionError::NotFound);
        }
        self.redeem_voucher(v, t.merchant_id, Some(till), None, Direction::MerchantShows, order).await
    }

    async fn redeem_voucher(
        &self,
        v: Voucher,
        merchant_id: MerchantId,
        till: Option<TillId>,
        cashier: Option<quan_domain::UserId>,
        direction: Direction,
        input: OrderInput,
    ) -> Result<Redemption, RedemptionError> {
        if input.order_ref.chars().count() > ORDER_REF_LEN_MAX {
            return Err(RedemptionError::BadInput {
                field: "order_ref",
                message: format!("at most {ORDER_REF_LEN_MAX} characters"),
            });
        }
        if input.items.len() > ORDER_LINES_MAX {
            return Err(RedemptionError::BadInput {
                field: "items",
                message: format!("at most {ORDER_LINES_MAX} lines"),
            });
        }
        let now = self.now();
        let batch = self.batch_for_redemption(v.batch_id).await?;
        let (kind, discount) = voucher_rule(&batch, &v)?;
        let discount = &discount;
        let m = self.merchant_for_redemption(merchant_id).await?;
        let items = if kind.kind.scope.categories.is_empty() || input.items.is_empty() {
            input
                .items
                .iter()
                .map(|l| Item { sku: l.sku.clone(), category: None, quantity: l.quantity, unit_price: l.unit_price })
                .collect()
        } else {
            let catalogue = self.store().products(merchant_id).await?;
            input
                .items
                .iter()
                .map(|l| Item {
                    sku: l.sku.clone(),
                    category: catalogue.iter().find(|p| p.sku == l.sku).map(|p| p.category.clone()),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                })
                .collect()
        };
        let other_vouchers = if input.order_ref.is_empty() {
            0
        } else {
            self.store().standing_on_order(merchant_id, &input.order_ref).await?
        };
        let state = VoucherState::parse(&v.state).unwrap_or(VoucherState::Expired);
        let region = self.campaign_region(v.campaign_id).await?;
        let facts =
            VoucherFacts { state, kind: &kind.kind, discount, face: v.face, claimed_at: v.created_at, region: &region };
        let merchant = MerchantFacts { id: m.id, status: m.status, industry: m.app.industry, district: m.app.district };
        let order = Order { amount: input.amount, items, other_vouchers };
        let Decision { basis, discount: off, subsidy, .. } =
            redemption::decide(&facts, &merchant, &order, now).map_err(RedemptionError::Refused)?;
        redemption::check_matching(input.amount, off, input.platform_match, input.merchant_match)
            .map_err(|(field, message)| RedemptionError::BadInput { field, message })?;
        let id = self.new_uuid();
        let mut r = Redemption {
            id,
            voucher_id: v.id,
            campaign_id: v.campaign_id,
            batch_id: v.batch_id,
            kind_code: v.kind_code.clone(),
            resident_id: v.resident_id,
            merchant_id,
            till_id: till,
            cashier_id: cashier,
            direction,
            order_ref: input.order_ref,
            order: input.amount,
            basis,
            discount: off,
            face: v.face,
            subsidy,
            refunded: Fen::ZERO,
            platform_match: input.platform_match,
            merchant_match: input.merchant_match,
            state: "standing".into(),
            business_day: BusinessDay::of(now, self.config().business_day_cutoff).date(),
            redeemed_at: now,
            ledger_ref: String::new(),
        };
        // Left empty: the committer gives every transfer its commit's
        // reference (see `run_redeemer`).
        let reference = String::new();
        let mut transfers = vec![Transfer {
            id: self.new_uuid(),
            debit: Account::campaign(v.campaign_id, AccountKind::Reserved),
            credit: Account { campaign: v.campaign_id, kind: AccountKind::Payable, merchant: Some(merchant_id) },
            amount: subsidy,
            reason: Reason::Redemption,
            reference: reference.clone(),
            at: now,
        }];
        // What the voucher did not use of its face value returns to the budget.
        let unused = v.face.checked_sub(subsidy).unwrap_or(Fen::ZERO);
        if unused > Fen::ZERO {
            transfers.push(Transfer {
                id: self.new_uuid(),
                debit: Account::campaign(v.campaign_id, AccountKind::Reserved),
                credit: Account::campaign(v.campaign_id, AccountKind::Available),
                amount: unused,
                reason: Reason::Redemption,
                reference: reference.clone(),
                at: now,
            });
        }
        transfers.extend(self.matching_transfers(&r, r.platform_match, r.merchant_match, false, &reference, now));
        let Some(ledger_ref) = self.commit_redemption(r.clone(), transfers).await? else {
            return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed));
        };
        r.ledger_ref = ledger_ref;
        if let Some(t) = till {
            self.ring_till(t);
        }
        tracing::info!(redemption_id = %id, merchant_id = %merchant_id, subsidy_fen = subsidy.as_i64(), "voucher redeemed");
        Ok(r)
    }

    /// A redemption, for the merchant that took it (owner or any of its
    /// cashiers), the resident who used it, or staff of its campaign's region.
    pub async fn redemption(&self, actor: &Actor, id: uuid::Uuid) -> Result<Redemption, RedemptionError> {
        let r = self.store().redemption_by_id(id).await?;
        self.may_see(actor, &r).await?;
        Ok(r)
    }

    async fn may_see(&self, actor: &Actor, r: &Redemption) -> Result<(), RedemptionError> {
        let ok = match actor {
            Actor::Resident { resident, .. } => resident.id == r.resident_id,
            Actor::Staff { user, .. } => match user.role {
                Role::Cashier | Role::MerchantOwner => user.merchant == Some(r.merchant_id),
                Role::Official | Role::Auditor | Role::Operator => {
                    let c = self.store().campaign_by_id(r.campaign_id).await?;
                    user.region.contains(&c.spec.region)
                }
                _ => false,
            },
        };
        if ok { Ok(()) } else { Err(RedemptionError::NotFound) }
    }

    /// A till's redemptions since an instant: how the till sees, live, a
    /// redemption the resident made by scanning its code.
    pub async fn till_redemptions(
        &self,
        actor: &Actor,
        till: TillId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Redemption>, RedemptionError> {
        self.own_till(actor, till).await?;
        Ok(self.store().redemptions_at_till(till, since, TILL_POLL_LEN_MAX).await?)
    }

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
        if r.state != "standing" {
            return Err(RedemptionError::Reversed);
        }
        let now = self.now();
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
            match self.record_refund(&r, &d, amount, user.id, now).await {
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
                    return Ok((after, refund));
                }
            }
        }
    }

    async fn record_refund(
        &self,
        r: &Redemption,
        d: &quan_domain::redemption::RefundDecision,
        amount: Fen,
        actor: quan_domain::UserId,
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
        let mut transfers = Vec::new();
        // The subsidy comes back from what the merchant is owed (payable),
        // then from what is held for it; what was already paid out, the
        // merchant owes back (recoverable), netted from its next settlements.
        let merchant_account = |kind| Account { campaign: r.campaign_id, kind, merchant: Some(r.merchant_id) };
        let mut left = i128::from(d.subsidy_returned.as_i64());
        for kind in [AccountKind::Payable, AccountKind::Held, AccountKind::Recoverable] {
            let take = if kind == AccountKind::Recoverable {
                left
            } else {
                left.min(self.store().account_balance(&merchant_account(kind)).await?.max(0))
            };
            if take > 0 {
                transfers.push(Transfer {
                    id: self.new_uuid(),
                    debit: merchant_account(kind),
                    credit: Account::campaign(r.campaign_id, AccountKind::Available),
                    amount: Fen::new(i64::try_from(take).unwrap_or(i64::MAX)),
                    reason: Reason::Refund,
                    reference: reference.clone(),
                    at: now,
                });
                left -= take;
            }
        }
        let refunded_after = d.refunded_after;
        let back = |m: Fen| {
            redemption::matching_standing(m, r.order, r.refunded)
                .checked_sub(redemption::matching_standing(m, r.order, refunded_after))
                .unwrap_or(Fen::ZERO)
        };
        transfers.extend(self.matching_transfers(
            r,
            back(r.platform_match),
            back(r.merchant_match),
            true,
            &reference,
            now,
        ));
        if d.voucher_back {
            // Back in the wallet: its whole face value is reserved again.
            transfers.push(Transfer {
                id: self.new_uuid(),
                debit: Account::campaign(r.campaign_id, AccountKind::Available),
                credit: Account::campaign(r.campaign_id, AccountKind::Reserved),
                amount: r.face,
                reason: Reason::Refund,
                reference,
                at: now,
            });
        }
        match self.store().refund(&refund, r.refunded, d.subsidy_after, &transfers).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "refund_raced" }) => return Err(RedemptionError::RefundRaced),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(redemption_id = %id, refund_id = %refund.id, subsidy_returned_fen = d.subsidy_returned.as_i64(), voucher_back = d.voucher_back, "refund recorded");
        Ok(refund)
    }

    /// Memo transfers for matching discounts: given with a redemption
    /// (source → matching accounts) or taken back by a refund (`back`).
    fn matching_transfers(
        &self,
        r: &Redemption,
        platform: Fen,
        merchant: Fen,
        back: bool,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Vec<Transfer> {
        let source = Account::campaign(r.campaign_id, AccountKind::MatchingSource);
        [
            (platform, Account::campaign(r.campaign_id, AccountKind::PlatformMatching)),
            (
                merchant,
                Account { campaign: r.campaign_id, kind: AccountKind::MerchantMatching, merchant: Some(r.merchant_id) },
            ),
        ]
        .into_iter()
        .filter(|(amount, _)| *amount > Fen::ZERO)
        .map(|(amount, memo)| {
            let (debit, credit) = if back { (memo, source) } else { (source, memo) };
            Transfer {
                id: self.new_uuid(),
                debit,
                credit,
                amount,
                reason: Reason::Matching,
                reference: reference.to_string(),
                at: now,
            }
        })
        .collect()
    }

    /// The refunds of a redemption, oldest first.
    pub async fn refunds(&self, actor: &Actor, id: uuid::Uuid) -> Result<Vec<Refund>, RedemptionError> {
        let r = self.store().redemption_by_id(id).await?;
        self.may_see(actor, &r).await?;
        Ok(self.store().refunds_of(id).await?)
    }
}

/// Redemptions committed together at most.
pub const REDEEM_BATCH_LEN_MAX: usize = 1_024;
/// How long the committer waits for more redemptions once it has one.
pub const REDEEM_GATHER_US: u64 = 1_000;
/// Redemptions waiting before new ones are told the server is busy.
pub const REDEEM_QUEUE_LEN_MAX: usize = 20_000;

/// The answer: the ledger reference the redemption was posted under, or
/// `None` when its voucher was no longer `claimed`.
type RedeemReply = tokio::sync::oneshot::Sender<Result<Option<String>, String>>;
/// One redemption waiting to be committed, and where its answer goes.
type Waiting = (Redemption, Vec<Transfer>, RedeemReply);

/// Gathers redemptions from every till for up to a millisecond and commits
/// them in one transaction (the ledger's campaign accounts are updated once
/// per batch instead of once per redemption, which would serialise every
/// till in the city on those rows).
#[derive(Debug, Default)]
pub(crate) struct Redeemer {
    queue: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<Waiting>>>,
}

async fn run_redeemer(store: std::sync::Arc<dyn quan_store::Store>, mut rx: tokio::sync::mpsc::Receiver<Waiting>) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(store.commits_in_parallel().max(1)));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut pending = vec![first];
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_micros(REDEEM_GATHER_US);
        while pending.len() < REDEEM_BATCH_LEN_MAX {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(p)) => pending.push(p),
                _ => break,
            }
        }
        // One ledger reference for the whole commit: its transfers are
        // posted merged, one per pair of accounts, and every redemption
        // keeps the reference so an auditor can add them up against it.
        let posting = format!("redemptions:{}", pending[0].0.id);
        for (r, transfers, _) in &mut pending {
            r.ledger_ref.clone_from(&posting);
            for t in transfers.iter_mut() {
                t.reference.clone_from(&posting);
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            let (items, replies): (Vec<_>, Vec<_>) = pending.into_iter().map(|(r, t, reply)| ((r, t), reply)).unzip();
            let started = std::time::Instant::now();
            let result = store.redeem_batch(&items).await;
            drop(permit);
            tracing::debug!(
                len = items.len(),
                commit_us = started.elapsed().as_micros() as u64,
                "redemptions committed"
            );
            match result {
                Ok(won) => {
                    for (w, reply) in won.into_iter().zip(replies) {
                        let _ = reply.send(Ok(w.then(|| posting.clone())));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, len = items.len(), "committing redemptions failed");
                    for reply in replies {
                        let _ = reply.send(Err(e.to_string()));
                    }
                }
            }
        });
    }
}

impl Engine {
    /// Commits one redemption through the batching committer: the ledger
    /// reference it was posted under, `None` when the voucher was no longer
    /// `claimed`.
    async fn commit_redemption(
        &self,
        r: Redemption,
        transfers: Vec<Transfer>,
    ) -> Result<Option<String>, RedemptionError> {
        let tx = {
            let mut q = self.inner.redeemer.queue.lock().unwrap_or_else(|p| p.into_inner());
            match q.as_ref().filter(|t| !t.is_closed()) {
                Some(t) => t.clone(),
                None => {
                    let (t, rx) = tokio::sync::mpsc::channel(REDEEM_QUEUE_LEN_MAX);
                    tokio::spawn(run_redeemer(self.store().clone(), rx));
                    *q = Some(t.clone());
                    t
                }
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.try_send((r, transfers, reply)).map_err(|_| RedemptionError::Busy)?;
        match tokio::time::timeout(std::time::Duration::from_secs(10), answer).await {
            Ok(Ok(Ok(won))) => Ok(won),
            Ok(Ok(Err(e))) => Err(RedemptionError::Store(StoreError::message(e))),
            _ => Err(RedemptionError::Store(StoreError::message(
                "no answer from the redemption committer within 10 s: the redemption may still be recorded; look at the till's redemptions before scanning again",
            ))),
        }
    }
}

/// How long a node uses its copy of a batch or a merchant when redeeming.
/// A suspension made on another node takes effect here within this time
/// (on this node at once).
pub const REDEEM_CACHE_MS: u64 = 1_000;

/// Batches and merchants as redemption last read them (real time, not the
/// business clock: freshness is an operational matter).
#[derive(Debug, Default)]
pub(crate) struct ReadCache {
    batches: std::sync::Mutex<
        std::collections::HashMap<quan_domain::BatchId, (std::sync::Arc<quan_store::Batch>, std::time::Instant)>,
    >,
    merchants: std::sync::Mutex<
        std::collections::HashMap<MerchantId, (std::sync::Arc<quan_store::Merchant>, std::time::Instant)>,
    >,
    /// Tills never change once opened.
    tills: std::sync::Mutex<std::collections::HashMap<TillId, (std::sync::Arc<quan_store::Till>, std::time::Instant)>>,
    /// Vouchers whose code this node issued lately, as read then (state
    /// `claimed`): the till that scans the code moments later needs no read.
    issued: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, (std::sync::Arc<Voucher>, std::time::Instant)>>,
    /// Campaigns' regions, which never change.
    regions: std::sync::Mutex<std::collections::HashMap<quan_domain::CampaignId, quan_domain::Region>>,
}

/// How long a voucher is remembered after its code was issued: the longest
/// code window and its grace.
const ISSUED_CACHE_S: u64 = 2 * code::REFRESH_S_MAX as u64;

/// Entries kept at most per map (emptied when full).
const READ_CACHE_LEN_MAX: usize = 100_000;

fn fresh<K: std::hash::Hash + Eq, V: Clone>(
    map: &std::sync::Mutex<std::collections::HashMap<K, (V, std::time::Instant)>>,
    key: &K,
) -> Option<V> {
    let m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.get(key)
        .filter(|(_, at)| at.elapsed() < std::time::Duration::from_millis(REDEEM_CACHE_MS))
        .map(|(v, _)| v.clone())
}

fn remember<K: std::hash::Hash + Eq, V>(
    map: &std::sync::Mutex<std::collections::HashMap<K, (V, std::time::Instant)>>,
    key: K,
    v: V,
) {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= READ_CACHE_LEN_MAX {
        m.clear();
    }
    m.insert(key, (v, std::time::Instant::now()));
}

impl Engine {
    async fn batch_for_redemption(
        &self,
        id: quan_domain::BatchId,
    ) -> Result<std::sync::Arc<quan_store::Batch>, StoreError> {
        if let Some(b) = fresh(&self.inner.read_cache.batches, &id) {
            return Ok(b);
        }
        let b = std::sync::Arc::new(self.store().batch_by_id(id).await?);
        remember(&self.inner.read_cache.batches, id, b.clone());
        Ok(b)
    }

    /// The region a campaign serves (it never changes, so it is kept).
    async fn campaign_region(&self, id: quan_domain::CampaignId) -> Result<quan_domain::Region, StoreError> {
        if let Some(r) = self.inner.read_cache.regions.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(r.clone());
        }
        let region = self.store().campaign_by_id(id).await?.spec.region;
        let mut m = self.inner.read_cache.regions.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= READ_CACHE_LEN_MAX {
            m.clear();
        }
        m.insert(id, region.clone());
        Ok(region)
    }

    async fn merchant_for_redemption(
        &self,
        id: MerchantId,
    ) -> Result<std::sync::Arc<quan_store::Merchant>, StoreError> {
        if let Some(m) = fresh(&self.inner.read_cache.merchants, &id) {
            return Ok(m);
        }
        let m = std::sync::Arc::new(self.store().merchant_by_id(id).await?);
        remember(&self.inner.read_cache.merchants, id, m.clone());
        Ok(m)
    }

    async fn till_for_redemption(&self, id: TillId) -> Result<std::sync::Arc<quan_store::Till>, StoreError> {
        if let Some((t, _)) = self.inner.read_cache.tills.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(t.clone());
        }
        let t = std::sync::Arc::new(self.store().till_by_id(id).await?);
        remember(&self.inner.read_cache.tills, id, t.clone());
        Ok(t)
    }

    fn issued_voucher(&self, id: uuid::Uuid) -> Option<std::sync::Arc<Voucher>> {
        let m = self.inner.read_cache.issued.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&id)
            .filter(|(_, at)| at.elapsed() < std::time::Duration::from_secs(ISSUED_CACHE_S))
            .map(|(v, _)| v.clone())
    }

    fn forget_issued(&self, id: uuid::Uuid) {
        self.inner.read_cache.issued.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// Forgets this node's copy of a merchant (after a review here).
    pub(crate) fn forget_merchant(&self, id: MerchantId) {
        self.inner.read_cache.merchants.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}
