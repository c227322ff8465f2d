//! Batches: one release of vouchers inside a campaign, with its opening
//! time, stock per kind, eligibility rule, per-resident limits and mode.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Region;
use crate::business_day::UTC8;
use crate::district::DistrictCode;
use crate::invalid::{Invalid, ensure, text};
use crate::money::Fen;
use crate::voucher_kind::VoucherKind;

pub const KINDS_MAX: usize = 20;
pub const STOCK_MAX: u32 = 10_000_000;
pub const PER_RESIDENT_MAX: u32 = 100;
pub const LIST_NAMES_MAX: usize = 20;

/// Who may claim. Every non-empty condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EligibilityRule {
    /// The resident's phone must be inside one of these districts (GPS).
    pub gps_districts: Vec<DistrictCode>,
    /// The ID number's region must start with one of these prefixes (户籍).
    pub household_prefixes: Vec<Region>,
    /// The resident must be on one of these imported lists.
    pub lists: Vec<String>,
    pub age_min: Option<u8>,
    pub age_max: Option<u8>,
    /// What a position within the border margin means for this batch.
    pub uncertain_position: UncertainPolicy,
}

/// What to do with a position within the border margin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UncertainPolicy {
    /// Trust the boundary data as it is.
    Allow,
    /// Refuse.
    #[default]
    Deny,
    /// Refuse for now, asking for a precise position (e.g. GPS on, outdoors).
    Recheck,
}

/// Which identity the limits count against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBy {
    /// Per phone account.
    Account,
    /// Per natural person (ID number), across all their accounts.
    Person,
    /// Both: neither an account nor a person may exceed a limit.
    #[default]
    Both,
}

/// Per-resident limits; `None` means no limit of that type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub per_batch: u32,
    pub per_campaign: Option<u32>,
    pub per_kind: Option<u32>,
    /// Per business day (UTC+8).
    pub per_day: Option<u32>,
    pub count_by: CountBy,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_batch: 1, per_campaign: None, per_kind: None, per_day: None, count_by: CountBy::Both }
    }
}

/// First come, first served at the opening second, or a lottery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BatchMode {
    #[default]
    Grab,
    /// Residents register inside the window; at `opening_at` a draw with a
    /// committed seed picks the winners, who get their vouchers.
    Lottery { registration_opens_at: DateTime<Utc>, registration_closes_at: DateTime<Utc> },
}

/// What an official submits for one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSpec {
    pub name: String,
    /// RFC 3339, e.g. `2026-12-01T10:00:00+08:00`.
    pub opening_at: DateTime<Utc>,
    pub closing_at: DateTime<Utc>,
    pub kinds: Vec<BatchKind>,
    #[serde(default)]
    pub eligibility: EligibilityRule,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub mode: BatchMode,
    /// Seconds after the opening in which arrival order does not count: the
    /// claims of those seconds are admitted in an order drawn from the
    /// batch's committed seed (`crate::admission`). 0 turns it off; a
    /// lottery batch has no use for it.
    #[serde(default = "default_window_s")]
    pub admission_window_s: u32,
    /// Every claim carries a solved proof-of-work challenge
    /// (`crate::pow`), fetched by the phone before the opening.
    #[serde(default)]
    pub proof_of_work: bool,
    /// Every claimant's ID number was matched to them by a real-name check
    /// (name, ID number and phone: 三要素), not only recorded on their word.
    #[serde(default)]
    pub require_real_name: bool,
}

fn default_window_s() -> u32 {
    crate::admission::WINDOW_S_DEFAULT
}

/// A voucher kind with its stock in this batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchKind {
    /// How many claims of this kind the batch hands out.
    pub stock: u32,
    pub kind: VoucherKind,
}

/// What a batch is checked against.
#[derive(Debug, Clone)]
pub struct BatchContext<'a> {
    pub campaign_region: &'a Region,
    /// The GB/T 2260 codes that exist; with it, a district named in a rule
    /// or scope must be one of them (`None`: not checked).
    pub divisions: Option<&'a crate::id_number::DivisionTable>,
    pub campaign_starts_on: NaiveDate,
    pub campaign_ends_on: NaiveDate,
    pub now: DateTime<Utc>,
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&UTC8).date_naive()
}

impl BatchSpec {
    /// The most this batch can cost: Σ stock × face value.
    pub fn face_total(&self) -> Option<Fen> {
        self.kinds
            .iter()
            .try_fold(Fen::ZERO, |acc, k| acc.checked_add(k.kind.face_value().checked_mul(i64::from(k.stock))?))
    }

    /// When residents can first act on the batch (register or claim).
    pub fn first_action_at(&self) -> DateTime<Utc> {
        match &self.mode {
            BatchMode::Grab => self.opening_at,
            BatchMode::Lottery { registration_opens_at, .. } => *registration_opens_at,
        }
    }

    /// The fair admission window's end, for a grab batch that has one.
    pub fn admission_window_ends_at(&self) -> Option<DateTime<Utc>> {
        (matches!(self.mode, BatchMode::Grab) && self.admission_window_s > 0)
            .then(|| self.opening_at + chrono::Duration::seconds(i64::from(self.admission_window_s)))
    }

    pub fn has_started(&self, now: DateTime<Utc>) -> bool {
        now >= self.first_action_at()
    }

    pub fn validate(&self, cx: &BatchContext<'_>) -> Result<(), Invalid> {
        text("name", &self.name, 100)?;
        ensure(self.opening_at > cx.now, "opening_at", "opening_time_in_past", || {
            format!("{} is not in the future", crate::beijing(self.opening_at))
        })?;
        ensure(self.closing_at > self.opening_at, "closing_at", "closing_before_opening", || {
            "the batch must close after it opens".into()
        })?;
        ensure(local_date(self.opening_at) >= cx.campaign_starts_on, "opening_at", "outside_campaign_dates", || {
            format!("the campaign starts on {}", cx.campaign_starts_on)
        })?;
        ensure(local_date(self.closing_at) <= cx.campaign_ends_on, "closing_at", "outside_campaign_dates", || {
            format!("the campaign ends on {}", cx.campaign_ends_on)
        })?;
        self.validate_kinds()?;
        self.validate_eligibility(cx.campaign_region)?;
        self.validate_districts(cx)?;
        self.validate_limits()?;
        let w = crate::admission::WINDOW_S_MAX;
        ensure(self.admission_window_s <= w, "admission_window_s", "out_of_range", || format!("0 to {w} seconds"))?;
        if let BatchMode::Lottery { registration_opens_at, registration_closes_at } = &self.mode {
            ensure(*registration_opens_at > cx.now, "mode.registration_opens_at", "opening_time_in_past", || {
                "registration must open in the future".into()
            })?;
            ensure(
                registration_closes_at > registration_opens_at,
                "mode.registration_closes_at",
                "closing_before_opening",
                || "registration must close after it opens".into(),
            )?;
            ensure(
                *registration_closes_at <= self.opening_at,
                "mode.registration_closes_at",
                "registration_after_draw",
                || "registration must close by opening_at, when the draw happens".into(),
            )?;
        }
        Ok(())
    }

    fn validate_kinds(&self) -> Result<(), Invalid> {
        ensure(!self.kinds.is_empty(), "kinds", "required", || "a batch has at least one voucher kind".into())?;
        ensure(self.kinds.len() <= KINDS_MAX, "kinds", "too_many", || format!("at most {KINDS_MAX} kinds"))?;
        for (i, k) in self.kinds.iter().enumerate() {
            let at = format!("kinds[{i}]");
            ensure((1..=STOCK_MAX).contains(&k.stock), &format!("{at}.stock"), "out_of_range", || {
                format!("stock must be 1 to {STOCK_MAX}")
            })?;
            k.kind.validate().map_err(|e| e.under(&format!("{at}.kind")))?;
            let dup = self.kinds[..i].iter().any(|o| o.kind.code == k.kind.code);
            ensure(!dup, &format!("{at}.kind.code"), "duplicate_code", || format!("`{}` is used twice", k.kind.code))?;
        }
        ensure(self.face_total().is_some(), "kinds", "too_large", || "the batch's total face value overflows".into())
    }

    /// Every district a rule or a kind's scope names lies in the campaign's
    /// region and exists: a batch for a district nobody can be in could
    /// never be claimed or spent.
    fn validate_districts(&self, cx: &BatchContext<'_>) -> Result<(), Invalid> {
        let named = self
            .eligibility
            .gps_districts
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("eligibility.gps_districts[{i}]"), d));
        let scoped = self.kinds.iter().enumerate().flat_map(|(k, kind)| {
            kind.kind
                .scope
                .districts
                .iter()
                .enumerate()
                .map(move |(i, d)| (format!("kinds[{k}].kind.scope.districts[{i}]"), d))
        });
        for (field, d) in named.chain(scoped) {
            ensure(cx.campaign_region.contains_district(d), &field, "district_outside_region", || {
                format!("{d} is outside the campaign's region {}", cx.campaign_region)
            })?;
            if let Some(t) = cx.divisions {
                ensure(t.contains(d.as_str()), &field, "unknown_district", || {
                    format!("{d} is not a county-level code of GB/T 2260")
                })?;
            }
        }
        Ok(())
    }

    fn validate_eligibility(&self, region: &Region) -> Result<(), Invalid> {
        let e = &self.eligibility;
        for (i, d) in e.gps_districts.iter().enumerate() {
            ensure(
                region.contains_district(d),
                &format!("eligibility.gps_districts[{i}]"),
                "district_outside_region",
                || format!("{d} is outside the campaign's region {region}"),
            )?;
        }
        ensure(e.lists.len() <= LIST_NAMES_MAX, "eligibility.lists", "too_many", || {
            format!("at most {LIST_NAMES_MAX} lists")
        })?;
        for (i, l) in e.lists.iter().enumerate() {
            text(&format!("eligibility.lists[{i}]"), l, 64)?;
        }
        if let (Some(lo), Some(hi)) = (e.age_min, e.age_max) {
            ensure(lo <= hi, "eligibility.age_max", "age_range_empty", || {
                format!("age_max {hi} is below age_min {lo}")
            })?;
        }
        ensure(e.age_max.is_none_or(|a| a <= 150), "eligibility.age_max", "out_of_range", || "at most 150".into())
    }

    fn validate_limits(&self) -> Result<(), Invalid> {
        let l = &self.limits;
        let in_range = |v: u32| (1..=PER_RESIDENT_MAX).contains(&v);
        ensure(in_range(l.per_batch), "limits.per_batch", "out_of_range", || format!("1 to {PER_RESIDENT_MAX}"))?;
        for (field, v) in
            [("limits.per_campaign", l.per_campaign), ("limits.per_kind", l.per_kind), ("limits.per_day", l.per_day)]
        {
            ensure(v.is_none_or(in_range), field, "out_of_range", || format!("1 to {PER_RESIDENT_MAX}"))?;
        }
        ensure(l.per_campaign.is_none_or(|c| c >= l.per_batch), "limits.per_campaign", "limits_inconsistent", || {
            "per_campaign must be at least per_batch".into()
        })
    }
}

/// Changes an official may ask for on an existing batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchAmendment {
    pub name: Option<String>,
    pub opening_at: Option<DateTime<Utc>>,
    pub closing_at: Option<DateTime<Utc>>,
    /// Extra stock per kind code.
    pub add_stock: Vec<StockIncrease>,
    pub limits: Option<Limits>,
    pub eligibility: Option<EligibilityRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockIncrease {
    pub kind: String,
    pub stock: u32,
}

/// Applies an amendment. Once residents can act on a batch, only changes
/// that cannot hurt them are allowed: a later closing time and more stock.
/// The budget is checked by the caller against all batches.
pub fn amend(spec: &BatchSpec, a: &BatchAmendment, cx: &BatchContext<'_>) -> Result<BatchSpec, Invalid> {
    let started = spec.has_started(cx.now);
    let mut next = spec.clone();
    let locked = |field: &str| {
        Invalid::new(
            field,
            "locked_after_opening",
            "cannot change once the batch has opened; only a later closing time and more stock are allowed",
        )
    };
    if let Some(n) = &a.name {
        if started {
            return Err(locked("name"));
        }
        next.name.clone_from(n);
    }
    if let Some(o) = a.opening_at {
        if started {
            return Err(locked("opening_at"));
        }
        next.opening_at = o;
    }
    if let Some(l) = &a.limits {
        if started {
            return Err(locked("limits"));
        }
        next.limits = l.clone();
    }
    if let Some(e) = &a.eligibility {
        if started {
            return Err(locked("eligibility"));
        }
        next.eligibility = e.clone();
    }
    if let Some(c) = a.closing_at {
        ensure(!started || c >= spec.closing_at, "closing_at", "closing_time_shortened", || {
            "once open, a batch's closing time can only move later".into()
        })?;
        next.closing_at = c;
    }
    for (i, inc) in a.add_stock.iter().enumerate() {
        let Some(k) = next.kinds.iter_mut().find(|k| k.kind.code == inc.kind) else {
            return Err(Invalid::new(
                format!("add_stock[{i}].kind"),
                "unknown_kind",
                format!("no kind `{}` in this batch", inc.kind),
            ));
        };
        k.stock = k.stock.checked_add(inc.stock).filter(|s| *s <= STOCK_MAX).ok_or_else(|| {
            Invalid::new(format!("add_stock[{i}].stock"), "out_of_range", format!("stock would exceed {STOCK_MAX}"))
        })?;
    }
    if started {
        // Times are checked against "now" only for what changed: an open
        // batch's opening time is legitimately in the past.
        ensure(next.closing_at > cx.now, "closing_at", "closing_time_shortened", || {
            "the closing time has passed".into()
        })?;
        next.validate_kinds()?;
        ensure(local_date(next.closing_at) <= cx.campaign_ends_on, "closing_at", "outside_campaign_dates", || {
            format!("the campaign ends on {}", cx.campaign_ends_on)
        })?;
    } else {
        next.validate(cx)?;
    }
    Ok(next)
}

/// Refuses a set of batches whose total face value is above the budget.
pub fn check_budget(budget: Fen, committed: Fen, requested: Fen) -> Result<(), Invalid> {
    let total = committed.checked_add(requested);
    ensure(total.is_some_and(|t| t <= budget), "kinds", "budget_exceeded", || {
        format!(
            "the batches' face value would total {} yuan ({} already committed + {} requested), above the budget of {} yuan",
            total.unwrap_or(Fen::AMOUNT_MAX),
            committed,
            requested,
            budget
        )
    })
}

#[cfg(test)]
mod tests;
