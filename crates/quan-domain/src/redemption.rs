//! Redemption (核销) and refunds: the pure decisions. Whether a voucher may
//! be used on an order at a merchant now, what it takes off, what the
//! resident pays and what the budget pays (the subsidy); and what a refund
//! gives back.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;

use crate::business_day::UTC8;
use crate::district::DistrictCode;
use crate::ids::MerchantId;
use crate::industry::Industry;
use crate::merchant::MerchantStatus;
use crate::money::Fen;
use crate::voucher_kind::{Discount, Stacking, Validity, VoucherKind};

/// A voucher's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherState {
    Claimed,
    Redeemed,
    Expired,
}

impl VoucherState {
    pub fn as_str(self) -> &'static str {
        match self {
            VoucherState::Claimed => "claimed",
            VoucherState::Redeemed => "redeemed",
            VoucherState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<VoucherState> {
        [VoucherState::Claimed, VoucherState::Redeemed, VoucherState::Expired].into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for VoucherState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for VoucherState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a voucher is held back from use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreezeReason {
    /// Claimed under an ID number whose verified holder is another account
    /// (an operator resolved the identity conflict for the holder).
    IdentityConflict,
    /// An operator froze it while a risk case about its holder is open.
    RiskCase,
}

impl FreezeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FreezeReason::IdentityConflict => "identity_conflict",
            FreezeReason::RiskCase => "risk_case",
        }
    }

    pub fn parse(s: &str) -> Option<FreezeReason> {
        [FreezeReason::IdentityConflict, FreezeReason::RiskCase].into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for FreezeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FreezeReason::IdentityConflict => "it was claimed under an ID number another account holds",
            FreezeReason::RiskCase => "a risk case about its holder is open",
        })
    }
}

/// A redemption's state: it stands, or a full refund reversed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedemptionState {
    Standing,
    Reversed,
}

impl RedemptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            RedemptionState::Standing => "standing",
            RedemptionState::Reversed => "reversed",
        }
    }

    pub fn parse(s: &str) -> Option<RedemptionState> {
        [RedemptionState::Standing, RedemptionState::Reversed].into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for RedemptionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RedemptionState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The first and last local day (UTC+8, both inclusive) a voucher claimed
/// at `claimed_at` may be used.
pub fn valid_days(validity: &Validity, claimed_at: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    match validity {
        Validity::Fixed { from, until } => (*from, *until),
        Validity::DaysAfterClaim { days } => {
            let day = claimed_at.with_timezone(&UTC8).date_naive();
            (day, day + Duration::days(i64::from(*days)))
        }
    }
}

/// The voucher being used.
#[derive(Debug, Clone)]
pub struct VoucherFacts<'a> {
    pub state: VoucherState,
    /// Held back from use, and why (a state of its own beside `state`: a
    /// frozen voucher still expires, and its face returns to the budget).
    pub frozen: Option<FreezeReason>,
    /// Locked for another payment (a partner's order, 支付立减) that has not
    /// ended: usable again when the lock ends unconfirmed.
    pub locked: bool,
    pub kind: &'a VoucherKind,
    /// The voucher's own rule: the kind's, or its tier's for a pack.
    pub discount: &'a Discount,
    pub face: Fen,
    pub claimed_at: DateTime<Utc>,
    /// The region its campaign serves: the voucher is usable only at
    /// merchants inside it (a city's budget pays only its own shops).
    pub region: &'a crate::Region,
}

/// Where it is used.
#[derive(Debug, Clone)]
pub struct MerchantFacts {
    pub id: MerchantId,
    pub status: MerchantStatus,
    pub industry: Industry,
    pub district: DistrictCode,
}

/// One line of a catalogue order, with its category from the merchant's
/// catalogue (`None`: not in the catalogue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub sku: String,
    pub category: Option<String>,
    pub quantity: u32,
    pub unit_price: Fen,
}

/// The order the voucher is used on.
#[derive(Debug, Clone)]
pub struct Order {
    pub amount: Fen,
    pub items: Vec<Item>,
    /// Other vouchers already used on this order.
    pub other_vouchers: u32,
}

/// The outcome of a successful redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// What the discount was computed on: the order, or its eligible items.
    pub basis: Fen,
    pub discount: Fen,
    /// What the resident pays.
    pub pays: Fen,
    /// What the budget pays the merchant: the discount.
    pub subsidy: Fen,
}

/// Why a voucher cannot be used; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this voucher has already been used")]
    AlreadyRedeemed,
    #[error("this voucher has expired")]
    Expired,
    #[error("this voucher is frozen: {0}")]
    Frozen(FreezeReason),
    #[error("this voucher is held for a payment in progress; try again when it ends")]
    Locked,
    #[error("this voucher can be used from {0}")]
    NotYetValid(NaiveDate),
    #[error("this voucher is past its last day ({0})")]
    PastValidity(NaiveDate),
    #[error("this voucher cannot be used on this day of the week")]
    WrongWeekday,
    #[error("this voucher can be used from {from}:00 to {until}:00")]
    OutsideHours { from: u8, until: u8 },
    #[error("this merchant is not approved to take vouchers")]
    MerchantNotApproved,
    #[error("this merchant is suspended")]
    MerchantSuspended,
    #[error("this voucher is only for merchants in region {0}")]
    OutsideCampaignRegion(String),
    #[error("this voucher is not for this merchant's industry")]
    IndustryOutOfScope,
    #[error("this voucher is not for this merchant's district")]
    DistrictOutOfScope,
    #[error("this voucher is not for this merchant")]
    MerchantOutOfScope,
    #[error("the order must be at least {min} yuan")]
    ThresholdNotMet { min: Fen },
    #[error("no item of this order is in the voucher's categories")]
    NoEligibleItems,
    #[error("the items add up to {items} yuan, more than the order's {order}")]
    ItemsExceedOrder { items: Fen, order: Fen },
    #[error("only one voucher can be used on an order")]
    OnePerOrder,
    #[error("the order amount must be more than zero and at most {max} yuan")]
    BadAmount { max: Fen },
    #[error("refused by the risk rule {}", .0.code())]
    RiskRule(crate::cashout::Rule),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AlreadyRedeemed => "already_redeemed",
            Refusal::Expired => "voucher_expired",
            Refusal::Frozen(_) => "voucher_frozen",
            Refusal::Locked => "voucher_locked",
            Refusal::NotYetValid(_) => "not_yet_valid",
            Refusal::PastValidity(_) => "voucher_expired",
            Refusal::WrongWeekday => "wrong_weekday",
            Refusal::OutsideHours { .. } => "outside_hours",
            Refusal::MerchantNotApproved => "merchant_not_approved",
            Refusal::MerchantSuspended => "merchant_suspended",
            Refusal::OutsideCampaignRegion(_) => "outside_campaign_region",
            Refusal::IndustryOutOfScope => "industry_out_of_scope",
            Refusal::DistrictOutOfScope => "district_out_of_scope",
            Refusal::MerchantOutOfScope => "merchant_out_of_scope",
            Refusal::ThresholdNotMet { .. } => "threshold_not_met",
            Refusal::NoEligibleItems => "no_eligible_items",
            Refusal::ItemsExceedOrder { .. } => "items_exceed_order",
            Refusal::OnePerOrder => "one_per_order",
            Refusal::BadAmount { .. } => "bad_amount",
            Refusal::RiskRule(_) => "risk_refused",
        }
    }
}

/// The largest order a voucher is used on: ¥10 000 000.
pub const ORDER_FEN_MAX: Fen = Fen::new(1_000_000_000);

/// May this voucher be used on this order at this merchant at `now`?
pub fn decide(v: &VoucherFacts<'_>, m: &MerchantFacts, order: &Order, now: DateTime<Utc>) -> Result<Decision, Refusal> {
    if order.amount <= Fen::ZERO || order.amount > ORDER_FEN_MAX {
        return Err(Refusal::BadAmount { max: ORDER_FEN_MAX });
    }
    match v.state {
        VoucherState::Claimed => {}
        VoucherState::Redeemed => return Err(Refusal::AlreadyRedeemed),
        VoucherState::Expired => return Err(Refusal::Expired),
    }
    if let Some(reason) = v.frozen {
        return Err(Refusal::Frozen(reason));
    }
    if v.locked {
        return Err(Refusal::Locked);
    }
    let local = now.with_timezone(&UTC8);
    let (from, until) = valid_days(&v.kind.validity, v.claimed_at);
    if local.date_naive() < from {
        return Err(Refusal::NotYetValid(from));
    }
    if local.date_naive() > until {
        return Err(Refusal::PastValidity(until));
    }
    let weekday = u8::try_from(local.weekday().number_from_monday()).unwrap_or(0);
    if !v.kind.weekdays.is_empty() && !v.kind.weekdays.contains(&weekday) {
        return Err(Refusal::WrongWeekday);
    }
    if let Some(h) = v.kind.hours {
        let hour = u8::try_from(local.hour()).unwrap_or(0);
        if hour < h.from || hour >= h.until {
            return Err(Refusal::OutsideHours { from: h.from, until: h.until });
        }
    }
    match m.status {
        MerchantStatus::Approved => {}
        MerchantStatus::Suspended => return Err(Refusal::MerchantSuspended),
        MerchantStatus::Pending | MerchantStatus::Rejected => return Err(Refusal::MerchantNotApproved),
    }
    if !v.region.contains_district(&m.district) {
        return Err(Refusal::OutsideCampaignRegion(v.region.to_string()));
    }
    let scope = &v.kind.scope;
    if !scope.industries.is_empty() && !scope.industries.contains(&m.industry) {
        return Err(Refusal::IndustryOutOfScope);
    }
    if !scope.districts.is_empty() && !scope.districts.contains(&m.district) {
        return Err(Refusal::DistrictOutOfScope);
    }
    if !scope.merchants.is_empty() && !scope.merchants.contains(&m.id) {
        return Err(Refusal::MerchantOutOfScope);
    }
    if v.kind.stacking == Stacking::OnePerOrder && order.other_vouchers > 0 {
        return Err(Refusal::OnePerOrder);
    }
    let basis = if scope.categories.is_empty() {
        order.amount
    } else {
        let mut items = Fen::ZERO;
        let mut eligible = Fen::ZERO;
        for it in &order.items {
            let line =
                it.unit_price.checked_mul(i64::from(it.quantity)).ok_or(Refusal::BadAmount { max: ORDER_FEN_MAX })?;
            items = items.checked_add(line).ok_or(Refusal::BadAmount { max: ORDER_FEN_MAX })?;
            if it.category.as_ref().is_some_and(|c| scope.categories.contains(c)) {
                eligible = eligible.checked_add(line).ok_or(Refusal::BadAmount { max: ORDER_FEN_MAX })?;
            }
        }
        if items > order.amount {
            return Err(Refusal::ItemsExceedOrder { items, order: order.amount });
        }
        if eligible <= Fen::ZERO {
            return Err(Refusal::NoEligibleItems);
        }
        eligible
    };
    let discount = v.discount.discount_for(basis).min(v.face);
    if discount <= Fen::ZERO {
        let min = match v.discount {
            Discount::Threshold { min_order_fen, .. } | Discount::Percent { min_order_fen, .. } => *min_order_fen,
            _ => basis,
        };
        return Err(Refusal::ThresholdNotMet { min });
    }
    let pays = order.amount.checked_sub(discount).unwrap_or(Fen::ZERO);
    Ok(Decision { basis, discount, pays, subsidy: discount })
}

/// A redemption as a refund sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redeemed {
    pub order_amount: Fen,
    pub basis: Fen,
    /// Order amount refunded so far.
    pub refunded: Fen,
    /// Subsidy standing now (after earlier refunds).
    pub subsidy: Fen,
}

/// What a refund does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RefundDecision {
    /// Subsidy standing after the refund.
    pub subsidy_after: Fen,
    /// Subsidy taken back from the merchant by this refund.
    pub subsidy_returned: Fen,
    /// Whether the voucher goes back to the resident's wallet (a full
    /// refund inside the voucher's validity).
    pub voucher_back: bool,
    pub refunded_after: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefusal {
    #[error("the refund must be more than zero and at most the {left} yuan not yet refunded")]
    BadAmount { left: Fen },
}

impl RefundRefusal {
    pub fn code(&self) -> &'static str {
        "bad_refund_amount"
    }
}

/// A refund of `amount` of the order. The order that remains earns the
/// discount it would have earned on its own, never more than before: a
/// 满100减20 order refunded below 100 loses the 20; a percent discount
/// shrinks in proportion. A full refund inside validity returns the voucher.
pub fn refund(
    r: &Redeemed,
    discount: &Discount,
    amount: Fen,
    still_valid: bool,
) -> Result<RefundDecision, RefundRefusal> {
    let left = r.order_amount.checked_sub(r.refunded).unwrap_or(Fen::ZERO);
    if amount <= Fen::ZERO || amount > left {
        return Err(RefundRefusal::BadAmount { left });
    }
    let remaining = left.checked_sub(amount).unwrap_or(Fen::ZERO);
    let refunded_after = r.refunded.checked_add(amount).unwrap_or(r.order_amount);
    if remaining == Fen::ZERO {
        return Ok(RefundDecision {
            subsidy_after: Fen::ZERO,
            subsidy_returned: r.subsidy,
            voucher_back: still_valid,
            refunded_after,
        });
    }
    // The eligible basis shrinks with the order (all of it for a plain order).
    let basis = r.basis.checked_mul_div(remaining.as_i64(), r.order_amount.as_i64()).unwrap_or(Fen::ZERO);
    let subsidy_after = discount.discount_for(basis).min(r.subsidy);
    Ok(RefundDecision {
        subsidy_after,
        subsidy_returned: r.subsidy.checked_sub(subsidy_after).unwrap_or(Fen::ZERO),
        voucher_back: false,
        refunded_after,
    })
}

/// What remains of a matching discount (the platform's or the merchant's,
/// given on top of the voucher) once `refunded` of an `order` is refunded:
/// it shrinks in proportion to the order left, rounded down, and is gone
/// with a full refund.
pub fn matching_standing(matching: Fen, order: Fen, refunded: Fen) -> Fen {
    if order <= Fen::ZERO || refunded >= order {
        return Fen::ZERO;
    }
    let taken = i128::from(matching.as_i64()) * i128::from(refunded.as_i64()) / i128::from(order.as_i64());
    Fen::new(matching.as_i64() - i64::try_from(taken).unwrap_or(matching.as_i64()))
}

/// Checks the matching discounts a till reports with an order: each at
/// least zero, and together with the voucher's discount at most the order.
/// A refusal names the field at fault as the API spells it: the platform's
/// match when it alone (with the voucher) is too much, else the merchant's.
pub fn check_matching(
    order: Fen,
    voucher_discount: Fen,
    platform: Fen,
    merchant: Fen,
) -> Result<(), (&'static str, String)> {
    const PLATFORM: &str = "platform_match_fen";
    const MERCHANT: &str = "merchant_match_fen";
    for (field, v) in [(PLATFORM, platform), (MERCHANT, merchant)] {
        if v < Fen::ZERO {
            return Err((field, "a matching discount cannot be below zero".into()));
        }
    }
    let with_platform = i128::from(voucher_discount.as_i64()) + i128::from(platform.as_i64());
    let total = with_platform + i128::from(merchant.as_i64());
    if total > i128::from(order.as_i64()) {
        let field = if with_platform > i128::from(order.as_i64()) { PLATFORM } else { MERCHANT };
        return Err((
            field,
            format!(
                "the voucher's {voucher_discount} yuan and the matching discounts ({platform} platform, {merchant} merchant) exceed the order's {order} yuan"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voucher_kind::{HourWindow, Scope};

    #[test]
    fn a_matching_discount_shrinks_with_the_refunded_order_and_is_gone_with_a_full_refund() {
        let (m, o) = (Fen::new(1_000), Fen::new(30_000));
        assert_eq!(matching_standing(m, o, Fen::ZERO), m);
        assert_eq!(matching_standing(m, o, Fen::new(10_000)), Fen::new(667));
        assert_eq!(matching_standing(m, o, o), Fen::ZERO);
        assert_eq!(matching_standing(Fen::ZERO, o, Fen::new(5)), Fen::ZERO);
    }

    #[test]
    fn matching_discounts_beyond_the_order_are_refused() {
        assert!(check_matching(Fen::new(100), Fen::new(20), Fen::new(30), Fen::new(50)).is_ok());
        let field = |p, m| check_matching(Fen::new(100), Fen::new(20), Fen::new(p), Fen::new(m)).map_err(|e| e.0);
        assert_eq!(field(30, 51), Err("merchant_match_fen"));
        assert_eq!(field(81, 0), Err("platform_match_fen"));
        assert_eq!(field(-1, 0), Err("platform_match_fen"));
    }

    #[test]
    fn a_bad_merchant_match_is_blamed_on_the_merchant_match_not_the_platform_match() {
        let field = |p, m| check_matching(Fen::new(100), Fen::new(20), Fen::new(p), Fen::new(m)).map_err(|e| e.0);
        assert_eq!(field(0, -100_000), Err("merchant_match_fen"));
        assert_eq!(field(0, 81), Err("merchant_match_fen"));
        assert_eq!(field(10, 71), Err("merchant_match_fen"));
    }

    proptest::proptest! {
        #[test]
        fn matching_never_grows_as_more_is_refunded(m in 0i64..1_000_000, o in 1i64..10_000_000, a in 0i64..10_000_000, b in 0i64..10_000_000) {
            let (lo, hi) = (a.min(b).min(o), a.max(b).min(o));
            let s_lo = matching_standing(Fen::new(m), Fen::new(o), Fen::new(lo));
            let s_hi = matching_standing(Fen::new(m), Fen::new(o), Fen::new(hi));
            proptest::prop_assert!(s_hi <= s_lo && s_lo <= Fen::new(m) && s_hi >= Fen::ZERO);
        }
    }
    use proptest::prelude::*;

    fn kind(discount: Discount) -> VoucherKind {
        VoucherKind {
            code: "k".into(),
            name: "k".into(),
            discount,
            scope: Scope::default(),
            validity: Validity::DaysAfterClaim { days: 3 },
            weekdays: vec![],
            hours: None,
            stacking: Stacking::OnePerOrder,
            rollover: false,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).unwrap_or_default()
    }

    fn merchant() -> MerchantFacts {
        MerchantFacts {
            id: MerchantId::from_uuid(uuid::Uuid::from_u128(9)),
            status: MerchantStatus::Approved,
            industry: Industry::Catering,
            district: DistrictCode::parse("420502").unwrap_or_else(|e| panic!("{e}")),
        }
    }

    static YICHANG: std::sync::LazyLock<crate::Region> =
        std::sync::LazyLock::new(|| crate::Region::parse("4205").unwrap_or_else(|e| panic!("{e}")));

    #[test]
    fn a_voucher_is_refused_at_a_merchant_outside_its_campaigns_region() {
        let k = kind(T);
        let now = at("2026-12-05T12:00:00+08:00");
        let mut hangzhou = merchant();
        hangzhou.district = DistrictCode::parse("330106").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            decide(&facts(&k), &hangzhou, &order(10_000), now),
            Err(Refusal::OutsideCampaignRegion("4205".into()))
        );
        assert!(decide(&facts(&k), &merchant(), &order(10_000), now).is_ok());
    }

    fn order(fen: i64) -> Order {
        Order { amount: Fen::new(fen), items: vec![], other_vouchers: 0 }
    }

    const T: Discount = Discount::Threshold { min_order_fen: Fen::new(10_000), off_fen: Fen::new(2_000) };

    fn facts(k: &VoucherKind) -> VoucherFacts<'_> {
        VoucherFacts {
            state: VoucherState::Claimed,
            frozen: None,
            locked: false,
            kind: k,
            discount: &k.discount,
            face: k.discount.face_value(),
            claimed_at: at("2026-12-05T10:00:00+08:00"),
            region: &YICHANG,
        }
    }

    #[test]
    fn a_voucher_locked_for_another_payment_is_refused_by_name() {
        let k = kind(T);
        let now = at("2026-12-06T12:00:00+08:00");
        let locked = VoucherFacts { locked: true, ..facts(&k) };
        let refused = decide(&locked, &merchant(), &order(5_000), now).map(|_| ());
        assert_eq!(refused, Err(Refusal::Locked));
        assert_eq!(Refusal::Locked.code(), "voucher_locked");
    }

    #[test]
    fn a_frozen_voucher_is_refused_with_its_reason_until_it_is_used_or_expired() {
        let k = kind(T);
        let now = at("2026-12-06T12:00:00+08:00");
        let frozen = VoucherFacts { frozen: Some(FreezeReason::IdentityConflict), ..facts(&k) };
        let refused = decide(&frozen, &merchant(), &order(10_000), now);
        assert_eq!(refused, Err(Refusal::Frozen(FreezeReason::IdentityConflict)));
        assert_eq!(Refusal::Frozen(FreezeReason::IdentityConflict).code(), "voucher_frozen");
        let used = VoucherFacts { state: VoucherState::Redeemed, ..frozen };
        assert_eq!(decide(&used, &merchant(), &order(10_000), now), Err(Refusal::AlreadyRedeemed), "its state first");
        assert_eq!(FreezeReason::parse("identity_conflict"), Some(FreezeReason::IdentityConflict));
    }

    #[test]
    fn a_threshold_voucher_takes_its_amount_off_an_order_that_reaches_the_threshold() {
        let k = kind(T);
        let d = decide(&facts(&k), &merchant(), &order(12_000), at("2026-12-05T12:00:00+08:00"));
        assert_eq!(
            d,
            Ok(Decision {
                basis: Fen::new(12_000),
                discount: Fen::new(2_000),
                pays: Fen::new(10_000),
                subsidy: Fen::new(2_000)
            })
        );
        let d = decide(&facts(&k), &merchant(), &order(9_999), at("2026-12-05T12:00:00+08:00"));
        assert_eq!(d, Err(Refusal::ThresholdNotMet { min: Fen::new(10_000) }));
    }

    #[test]
    fn validity_days_weekdays_and_hours_are_in_local_time() {
        let mut k = kind(T);
        let f = facts(&k);
        // Claimed 12-05 (Saturday); valid through 12-08 local.
        assert!(decide(&f, &merchant(), &order(10_000), at("2026-12-08T23:59:59+08:00")).is_ok());
        assert_eq!(
            decide(&f, &merchant(), &order(10_000), at("2026-12-08T16:00:00Z")),
            Err(Refusal::PastValidity(NaiveDate::from_ymd_opt(2026, 12, 8).unwrap_or_default())),
            "00:00 on 12-09 in UTC+8"
        );
        k.weekdays = vec![1, 2, 3, 4, 5];
        assert_eq!(
            decide(&facts(&k), &merchant(), &order(10_000), at("2026-12-05T12:00:00+08:00")),
            Err(Refusal::WrongWeekday)
        );
        k.weekdays = vec![];
        k.hours = Some(HourWindow { from: 11, until: 14 });
        assert!(decide(&facts(&k), &merchant(), &order(10_000), at("2026-12-05T13:59:00+08:00")).is_ok());
        assert_eq!(
            decide(&facts(&k), &merchant(), &order(10_000), at("2026-12-05T14:00:00+08:00")),
            Err(Refusal::OutsideHours { from: 11, until: 14 })
        );
    }

    #[test]
    fn merchant_status_and_scope_are_checked() {
        let mut k = kind(T);
        let now = at("2026-12-05T12:00:00+08:00");
        let mut m = merchant();
        m.status = MerchantStatus::Suspended;
        assert_eq!(decide(&facts(&k), &m, &order(10_000), now), Err(Refusal::MerchantSuspended));
        m.status = MerchantStatus::Pending;
        assert_eq!(decide(&facts(&k), &m, &order(10_000), now), Err(Refusal::MerchantNotApproved));
        k.scope.industries = vec![Industry::Retail];
        assert_eq!(decide(&facts(&k), &merchant(), &order(10_000), now), Err(Refusal::IndustryOutOfScope));
        k.scope.industries = vec![];
        k.scope.districts = vec![DistrictCode::parse("420503").unwrap_or_else(|e| panic!("{e}"))];
        assert_eq!(decide(&facts(&k), &merchant(), &order(10_000), now), Err(Refusal::DistrictOutOfScope));
        k.scope.districts = vec![DistrictCode::parse("420502").unwrap_or_else(|e| panic!("{e}"))];
        assert!(decide(&facts(&k), &merchant(), &order(10_000), now).is_ok());
        k.scope.merchants = vec![MerchantId::from_uuid(uuid::Uuid::from_u128(10))];
        assert_eq!(decide(&facts(&k), &merchant(), &order(10_000), now), Err(Refusal::MerchantOutOfScope));
    }

    #[test]
    fn a_catalogue_voucher_counts_only_items_of_its_categories() {
        let mut k = kind(Discount::Percent { percent_bp: 1_500, cap_fen: Fen::new(200_000), min_order_fen: Fen::ZERO });
        k.scope.categories = vec!["air_conditioner".into()];
        let now = at("2026-12-05T12:00:00+08:00");
        let item = |sku: &str, cat: Option<&str>, q: u32, p: i64| Item {
            sku: sku.into(),
            category: cat.map(str::to_owned),
            quantity: q,
            unit_price: Fen::new(p),
        };
        let o = Order {
            amount: Fen::new(500_000),
            items: vec![item("AC-1", Some("air_conditioner"), 1, 400_000), item("CABLE", None, 2, 50_000)],
            other_vouchers: 0,
        };
        let d = decide(&facts(&k), &merchant(), &o, now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.basis, d.discount, d.pays), (Fen::new(400_000), Fen::new(60_000), Fen::new(440_000)));
        let o2 = Order { items: vec![item("CABLE", None, 1, 50_000)], ..o.clone() };
        assert_eq!(decide(&facts(&k), &merchant(), &o2, now), Err(Refusal::NoEligibleItems));
        let o3 = Order { amount: Fen::new(100_000), ..o };
        assert!(matches!(decide(&facts(&k), &merchant(), &o3, now), Err(Refusal::ItemsExceedOrder { .. })));
    }

    #[test]
    fn a_used_voucher_and_a_second_voucher_on_one_order_are_refused() {
        let k = kind(T);
        let now = at("2026-12-05T12:00:00+08:00");
        let mut f = facts(&k);
        let o = Order { other_vouchers: 1, ..order(10_000) };
        assert_eq!(decide(&f, &merchant(), &o, now), Err(Refusal::OnePerOrder));
        f.state = VoucherState::Redeemed;
        assert_eq!(decide(&f, &merchant(), &order(10_000), now), Err(Refusal::AlreadyRedeemed));
    }

    #[test]
    fn a_threshold_order_refunded_below_the_threshold_loses_the_discount() {
        let r = Redeemed {
            order_amount: Fen::new(12_000),
            basis: Fen::new(12_000),
            refunded: Fen::ZERO,
            subsidy: Fen::new(2_000),
        };
        let d = refund(&r, &T, Fen::new(1_000), true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.subsidy_after, d.subsidy_returned, d.voucher_back), (Fen::new(2_000), Fen::ZERO, false));
        let d = refund(&r, &T, Fen::new(3_000), true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.subsidy_after, d.subsidy_returned), (Fen::ZERO, Fen::new(2_000)));
        let full = refund(&r, &T, Fen::new(12_000), true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((full.subsidy_returned, full.voucher_back), (Fen::new(2_000), true));
        let late = refund(&r, &T, Fen::new(12_000), false).unwrap_or_else(|e| panic!("{e}"));
        assert!(!late.voucher_back, "after validity the voucher does not come back");
        assert_eq!(refund(&r, &T, Fen::new(12_001), true), Err(RefundRefusal::BadAmount { left: Fen::new(12_000) }));
        assert_eq!(refund(&r, &T, Fen::ZERO, true), Err(RefundRefusal::BadAmount { left: Fen::new(12_000) }));
    }

    fn any_discount() -> impl Strategy<Value = Discount> {
        prop_oneof![
            (1i64..100_000, 1i64..10_000)
                .prop_map(|(m, o)| Discount::Threshold { min_order_fen: Fen::new(m.max(o)), off_fen: Fen::new(o) }),
            (1i64..10_000).prop_map(|o| Discount::Instant { off_fen: Fen::new(o) }),
            (1u32..10_000, 1i64..100_000, 0i64..50_000).prop_map(|(p, c, m)| Discount::Percent {
                percent_bp: p,
                cap_fen: Fen::new(c),
                min_order_fen: Fen::new(m)
            }),
        ]
    }

    /// One step of a voucher's life.
    #[derive(Debug, Clone)]
    enum Op {
        Redeem(i64),
        Refund(i64),
        Replay,
        Expire,
        Wait(i64),
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..500_000).prop_map(Op::Redeem),
            (1i64..500_000).prop_map(Op::Refund),
            Just(Op::Replay),
            Just(Op::Expire),
            (0i64..200_000).prop_map(Op::Wait),
        ]
    }

    proptest! {
        /// For any sequence of redeem / refund / replay / expire and clock
        /// moves: at most one redemption stands at any time, and the subsidy
        /// standing never exceeds the face value nor the order that remains.
        #[test]
        fn a_voucher_is_redeemed_at_most_once_and_never_pays_more_than_its_face(
            discount in any_discount(),
            ops in proptest::collection::vec(any_op(), 1..40),
        ) {
            let k = kind(discount.clone());
            let face = discount.face_value();
            let mut state = VoucherState::Claimed;
            let mut now = at("2026-12-05T10:00:00+08:00");
            let mut standing: Option<Redeemed> = None;
            let mut paid_out_total = Fen::ZERO; // subsidy standing, summed over redemptions that stand
            for op in ops {
                let f = VoucherFacts { state, frozen: None, locked: false, kind: &k, discount: &discount, face, claimed_at: at("2026-12-05T10:00:00+08:00"), region: &YICHANG };
                match op {
                    Op::Redeem(amount) => {
                        if let Ok(d) = decide(&f, &merchant(), &order(amount), now) {
                            prop_assert_eq!(state, VoucherState::Claimed);
                            prop_assert!(standing.is_none(), "a second redemption while one stands");
                            prop_assert!(d.subsidy <= face && d.subsidy <= Fen::new(amount));
                            prop_assert_eq!(d.pays.checked_add(d.discount), Some(Fen::new(amount)));
                            state = VoucherState::Redeemed;
                            standing = Some(Redeemed { order_amount: Fen::new(amount), basis: d.basis, refunded: Fen::ZERO, subsidy: d.subsidy });
                            paid_out_total = d.subsidy;
                        }
                    }
                    Op::Refund(amount) => {
                        if let Some(r) = standing {
                            let (_, until) = valid_days(&k.validity, f.claimed_at);
                            let still_valid = now.with_timezone(&UTC8).date_naive() <= until;
                            if let Ok(d) = refund(&r, &discount, Fen::new(amount), still_valid) {
                                prop_assert!(d.subsidy_after <= r.subsidy, "a refund never raises the subsidy");
                                prop_assert_eq!(d.subsidy_after.checked_add(d.subsidy_returned), Some(r.subsidy));
                                let remaining = r.order_amount.checked_sub(d.refunded_after).unwrap_or(Fen::ZERO);
                                prop_assert!(d.subsidy_after <= remaining, "never more subsidy than the order that remains");
                                paid_out_total = d.subsidy_after;
                                if d.voucher_back {
                                    state = VoucherState::Claimed;
                                    standing = None;
                                    paid_out_total = Fen::ZERO;
                                } else {
                                    standing = Some(Redeemed { refunded: d.refunded_after, subsidy: d.subsidy_after, ..r });
                                }
                            }
                        }
                    }
                    Op::Replay => {
                        if state == VoucherState::Redeemed {
                            prop_assert_eq!(decide(&f, &merchant(), &order(100_000), now), Err(Refusal::AlreadyRedeemed));
                        }
                    }
                    Op::Expire => {
                        let (_, until) = valid_days(&k.validity, f.claimed_at);
                        if state == VoucherState::Claimed && now.with_timezone(&UTC8).date_naive() > until {
                            state = VoucherState::Expired;
                        }
                    }
                    Op::Wait(s) => now += Duration::seconds(s),
                }
                prop_assert!(paid_out_total <= face);
            }
        }
    }
}
