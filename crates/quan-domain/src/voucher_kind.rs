//! Voucher kinds: the rule of one voucher (or of a pack of tiered vouchers),
//! its scope, validity and stacking.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::district::DistrictCode;
use crate::ids::MerchantId;
use crate::industry::Industry;
use crate::invalid::{Invalid, ensure, text};
use crate::money::Fen;

/// What a voucher takes off an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Discount {
    /// 满减: `off_fen` off an order of at least `min_order_fen` (满100减20).
    Threshold { min_order_fen: Fen, off_fen: Fen },
    /// 立减: `off_fen` off any order (never more than the order).
    Instant { off_fen: Fen },
    /// 折扣: `percent_bp` basis points (1500 = 15%) off, at most `cap_fen`,
    /// on orders of at least `min_order_fen` (trade-in subsidies).
    Percent {
        percent_bp: u32,
        cap_fen: Fen,
        #[serde(default)]
        min_order_fen: Fen,
    },
    /// A pack of threshold vouchers claimed together
    /// (满100减20 / 满200减50 / 满500减100). Each tier is one voucher.
    Tiers { tiers: Vec<Tier> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub min_order_fen: Fen,
    pub off_fen: Fen,
}

/// Limits that keep every voucher's arithmetic far from overflow.
pub const FACE_VALUE_MAX: Fen = Fen::new(100_000_000); // ¥1,000,000
pub const TIERS_MAX: usize = 10;

impl Discount {
    /// The vouchers one claim of this kind hands out: one, or one per tier.
    pub fn pack(&self) -> Vec<Discount> {
        match self {
            Discount::Tiers { tiers } => tiers
                .iter()
                .map(|t| Discount::Threshold { min_order_fen: t.min_order_fen, off_fen: t.off_fen })
                .collect(),
            d => vec![d.clone()],
        }
    }

    /// The most one claim can cost the budget: what is reserved at claim time.
    pub fn face_value(&self) -> Fen {
        match self {
            Discount::Threshold { off_fen, .. } | Discount::Instant { off_fen } => *off_fen,
            Discount::Percent { cap_fen, .. } => *cap_fen,
            Discount::Tiers { tiers } => Fen::checked_sum(tiers.iter().map(|t| t.off_fen)).unwrap_or(Fen::AMOUNT_MAX),
        }
    }

    /// The discount one voucher of this rule gives on an order of `order`
    /// fen: never negative, never more than the order, never more than the
    /// face value. For a pack, the best single tier that applies.
    pub fn discount_for(&self, order: Fen) -> Fen {
        if order <= Fen::ZERO {
            return Fen::ZERO;
        }
        let d = match self {
            Discount::Threshold { min_order_fen, off_fen } => {
                if order >= *min_order_fen {
                    *off_fen
                } else {
                    Fen::ZERO
                }
            }
            Discount::Instant { off_fen } => *off_fen,
            Discount::Percent { percent_bp, cap_fen, min_order_fen } => {
                if order < *min_order_fen {
                    Fen::ZERO
                } else {
                    order.checked_mul_div(i64::from(*percent_bp), 10_000).unwrap_or(*cap_fen).min(*cap_fen)
                }
            }
            Discount::Tiers { .. } => self.pack().iter().map(|v| v.discount_for(order)).max().unwrap_or(Fen::ZERO),
        };
        d.min(order).max(Fen::ZERO)
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        let positive = |f: Fen, field: &str| {
            ensure(f > Fen::ZERO, field, "not_positive", || "must be more than zero".into())?;
            ensure(f <= FACE_VALUE_MAX, field, "too_large", || format!("must be at most {FACE_VALUE_MAX} yuan"))
        };
        match self {
            Discount::Threshold { min_order_fen, off_fen } => {
                positive(*off_fen, "off_fen")?;
                ensure(*min_order_fen > *off_fen, "min_order_fen", "threshold_not_above_discount", || {
                    format!("the order threshold ({min_order_fen}) must be above the discount ({off_fen})")
                })?;
                ensure(*min_order_fen <= Fen::AMOUNT_MAX, "min_order_fen", "too_large", || "is too large".into())
            }
            Discount::Instant { off_fen } => positive(*off_fen, "off_fen"),
            Discount::Percent { percent_bp, cap_fen, min_order_fen } => {
                ensure((1..=10_000).contains(percent_bp), "percent_bp", "percent_out_of_range", || {
                    "must be 1 to 10000 basis points (0.01% to 100%)".into()
                })?;
                positive(*cap_fen, "cap_fen")?;
                ensure(
                    *min_order_fen >= Fen::ZERO && *min_order_fen <= Fen::AMOUNT_MAX,
                    "min_order_fen",
                    "out_of_range",
                    || "must be zero or more".into(),
                )
            }
            Discount::Tiers { tiers } => {
                ensure(tiers.len() >= 2, "tiers", "too_few_tiers", || "a tiered pack has at least 2 tiers".into())?;
                ensure(tiers.len() <= TIERS_MAX, "tiers", "too_many_tiers", || format!("at most {TIERS_MAX} tiers"))?;
                for (i, t) in tiers.iter().enumerate() {
                    Discount::Threshold { min_order_fen: t.min_order_fen, off_fen: t.off_fen }
                        .validate()
                        .map_err(|e| e.under(&format!("tiers[{i}]")))?;
                    if i > 0 {
                        ensure(
                            t.min_order_fen > tiers[i - 1].min_order_fen,
                            &format!("tiers[{i}].min_order_fen"),
                            "tiers_not_increasing",
                            || "tier thresholds must increase".into(),
                        )?;
                    }
                }
                ensure(self.face_value() <= FACE_VALUE_MAX, "tiers", "too_large", || {
                    "the pack's total is too large".into()
                })
            }
        }
    }
}

/// Where a voucher may be used. An empty list means "no restriction" on that axis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    pub industries: Vec<Industry>,
    pub districts: Vec<DistrictCode>,
    pub merchants: Vec<MerchantId>,
    /// Product catalogue categories (for trade-in kinds), e.g. `air_conditioner`.
    pub categories: Vec<String>,
}

/// When a claimed voucher may be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Validity {
    /// From `from` to `until`, both inclusive, as dates in UTC+8.
    Fixed { from: NaiveDate, until: NaiveDate },
    /// From the claim until the end of the `days`-th day after it (UTC+8).
    DaysAfterClaim { days: u16 },
}

/// Local hours (UTC+8) in which a voucher may be used: `from` inclusive,
/// `until` exclusive, 0–24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HourWindow {
    pub from: u8,
    pub until: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stacking {
    /// At most one voucher of any kind on one order.
    #[default]
    OnePerOrder,
    /// May be combined with other stackable vouchers on one order.
    Stackable,
}

/// One voucher kind inside a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherKind {
    /// Short code unique within the batch, e.g. `c100-20`.
    pub code: String,
    pub name: String,
    pub discount: Discount,
    #[serde(default)]
    pub scope: Scope,
    pub validity: Validity,
    /// ISO weekdays on which it may be used (1 = Monday … 7 = Sunday); empty: every day.
    #[serde(default)]
    pub weekdays: Vec<u8>,
    #[serde(default)]
    pub hours: Option<HourWindow>,
    #[serde(default)]
    pub stacking: Stacking,
    /// Whether an unused voucher's stock returns for the next batch when it expires.
    #[serde(default)]
    pub rollover: bool,
}

pub const DAYS_AFTER_CLAIM_MAX: u16 = 366;
pub const CATEGORIES_MAX: usize = 200;

impl VoucherKind {
    pub fn face_value(&self) -> Fen {
        self.discount.face_value()
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 32
            && self.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        ensure(code_ok, "code", "bad_code", || "1 to 32 characters: a-z, 0-9, '-' and '_'".into())?;
        text("name", &self.name, 64)?;
        self.discount.validate().map_err(|e| e.under("discount"))?;
        match self.validity {
            Validity::Fixed { from, until } => {
                ensure(until >= from, "validity.until", "validity_ends_before_it_starts", || {
                    format!("{until} is before {from}")
                })?
            }
            Validity::DaysAfterClaim { days } => {
                ensure((1..=DAYS_AFTER_CLAIM_MAX).contains(&days), "validity.days", "out_of_range", || {
                    format!("must be 1 to {DAYS_AFTER_CLAIM_MAX} days")
                })?
            }
        }
        for (i, d) in self.weekdays.iter().enumerate() {
            ensure((1..=7).contains(d), &format!("weekdays[{i}]"), "bad_weekday", || {
                "1 (Monday) to 7 (Sunday)".into()
            })?;
        }
        if let Some(h) = self.hours {
            ensure(h.from < h.until && h.until <= 24, "hours", "bad_hour_window", || {
                "hours.from must be before hours.until, within 0 to 24".into()
            })?;
        }
        ensure(self.scope.categories.len() <= CATEGORIES_MAX, "scope.categories", "too_many", || {
            format!("at most {CATEGORIES_MAX} categories")
        })?;
        if let Discount::Percent { .. } = self.discount {
            // Nothing more: a percent kind may or may not be limited to catalogue categories.
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(y: i64) -> Fen {
        Fen::from_yuan(y).unwrap_or_default()
    }

    #[test]
    fn a_threshold_voucher_applies_only_from_its_threshold() {
        let d = Discount::Threshold { min_order_fen: f(100), off_fen: f(20) };
        assert_eq!(d.discount_for(f(99)), Fen::ZERO);
        assert_eq!(d.discount_for(f(100)), f(20));
        assert_eq!(d.face_value(), f(20));
    }

    #[test]
    fn an_instant_voucher_never_takes_more_than_the_order() {
        let d = Discount::Instant { off_fen: f(10) };
        assert_eq!(d.discount_for(Fen::new(550)), Fen::new(550));
        assert_eq!(d.discount_for(f(30)), f(10));
    }

    #[test]
    fn a_percent_voucher_is_capped() {
        let d = Discount::Percent { percent_bp: 1500, cap_fen: f(2000), min_order_fen: Fen::ZERO };
        assert_eq!(d.discount_for(f(5000)), f(750));
        assert_eq!(d.discount_for(f(20000)), f(2000));
        assert_eq!(d.discount_for(Fen::new(999)), Fen::new(149), "rounded down to the fen");
        assert_eq!(d.face_value(), f(2000));
    }

    #[test]
    fn a_tiered_pack_is_several_vouchers_and_reserves_their_sum() {
        let d = Discount::Tiers {
            tiers: vec![
                Tier { min_order_fen: f(100), off_fen: f(20) },
                Tier { min_order_fen: f(200), off_fen: f(50) },
                Tier { min_order_fen: f(500), off_fen: f(100) },
            ],
        };
        assert_eq!(d.validate(), Ok(()));
        assert_eq!(d.pack().len(), 3);
        assert_eq!(d.face_value(), f(170));
        assert_eq!(d.discount_for(f(250)), f(50));
    }

    #[test]
    fn invalid_rules_name_the_field_and_the_rule() {
        let e = Discount::Threshold { min_order_fen: f(20), off_fen: f(20) }.validate().err();
        assert_eq!(e.map(|e| (e.field, e.rule)), Some(("min_order_fen".into(), "threshold_not_above_discount")));
        let e = Discount::Percent { percent_bp: 0, cap_fen: f(1), min_order_fen: Fen::ZERO }.validate().err();
        assert_eq!(e.map(|e| e.rule), Some("percent_out_of_range"));
        let e = Discount::Tiers {
            tiers: vec![Tier { min_order_fen: f(200), off_fen: f(50) }, Tier { min_order_fen: f(100), off_fen: f(20) }],
        }
        .validate()
        .err();
        assert_eq!(e.map(|e| (e.field, e.rule)), Some(("tiers[1].min_order_fen".into(), "tiers_not_increasing")));
        let e = Discount::Instant { off_fen: Fen::ZERO }.validate().err();
        assert_eq!(e.map(|e| e.rule), Some("not_positive"));
    }

    fn any_discount() -> impl Strategy<Value = Discount> {
        prop_oneof![
            (1i64..100_000_000, 1i64..100_000_000).prop_map(|(a, b)| Discount::Threshold {
                min_order_fen: Fen::new(a.max(b) + 1),
                off_fen: Fen::new(a.min(b))
            }),
            (1i64..100_000_000).prop_map(|a| Discount::Instant { off_fen: Fen::new(a) }),
            (1u32..=10_000, 1i64..100_000_000, 0i64..100_000_000).prop_map(|(p, c, m)| Discount::Percent {
                percent_bp: p,
                cap_fen: Fen::new(c),
                min_order_fen: Fen::new(m)
            }),
        ]
    }

    proptest! {
        #[test]
        fn a_discount_is_never_negative_nor_above_the_order_nor_above_the_face_value(
            d in any_discount(), order in -1_000i64..10_000_000_000_000,
        ) {
            let got = d.discount_for(Fen::new(order));
            prop_assert!(got >= Fen::ZERO);
            prop_assert!(got <= Fen::new(order.max(0)));
            prop_assert!(got <= d.face_value());
        }

        #[test]
        fn a_bigger_order_never_gets_a_smaller_discount(d in any_discount(), a in 0i64..1_000_000_000, b in 0i64..1_000_000_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(d.discount_for(Fen::new(lo)) <= d.discount_for(Fen::new(hi)));
        }
    }
}
