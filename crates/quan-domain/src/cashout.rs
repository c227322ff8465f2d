//! Rules at redemption against voucher cash-out (套现) and collusion: what
//! one redemption looks like next to what the node has counted of its
//! merchant, till, resident and device, which rules it meets, their summed
//! score, and the strictest action a deployment set for them (allow, allow
//! and hold the merchant's money, or refuse naming the rule). Pure: the
//! engine keeps the counts and passes them in.

use serde::{Deserialize, Serialize};

use crate::merchant::Scale;
use crate::money::Fen;

/// A rule at redemption; each has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The merchant redeems far more in the last hour than its scale or its
    /// own usual hour allows.
    MerchantVelocity,
    /// One till redeems faster than a cashier can serve customers.
    TillVelocity,
    /// Orders just over the voucher's threshold, again and again.
    ThresholdHugging,
    /// The same resident at the same merchant, again and again.
    RepeatPair,
    /// The resident's position, when sent, is far from the shop.
    FarFromShop,
    /// A redemption in the deployment's night hours.
    NightHours,
    /// Many residents sharing one device token redeem at this merchant.
    SharedDevice,
    /// A refund soon after its redemption (judged at the refund).
    QuickRefund,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::MerchantVelocity,
        Rule::TillVelocity,
        Rule::ThresholdHugging,
        Rule::RepeatPair,
        Rule::FarFromShop,
        Rule::NightHours,
        Rule::SharedDevice,
        Rule::QuickRefund,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::MerchantVelocity => "merchant_velocity",
            Rule::TillVelocity => "till_velocity",
            Rule::ThresholdHugging => "threshold_hugging",
            Rule::RepeatPair => "repeat_pair",
            Rule::FarFromShop => "far_from_shop",
            Rule::NightHours => "night_hours",
            Rule::SharedDevice => "shared_device",
            Rule::QuickRefund => "quick_refund",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.code() == s)
    }

    /// What officials and operators read.
    pub fn zh(self) -> &'static str {
        match self {
            Rule::MerchantVelocity => "商户核销速度异常",
            Rule::TillVelocity => "收银台核销过快",
            Rule::ThresholdHugging => "订单金额反复贴近门槛",
            Rule::RepeatPair => "同一居民反复在同一商户用券",
            Rule::FarFromShop => "用券位置远离商户",
            Rule::NightHours => "深夜核销",
            Rule::SharedDevice => "多名居民共用设备在同一商户用券",
            Rule::QuickRefund => "核销后很快退款",
        }
    }
}

/// What a deployment does when a rule is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Count it (the score feeds cases), nothing else.
    Allow,
    /// The redemption stands for the resident; the merchant's money for it
    /// is held, not settled, until an operator releases it.
    Hold,
    /// The redemption is refused, naming the rule.
    Refuse,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Hold => "hold",
            Action::Refuse => "refuse",
        }
    }
}

/// One rule's setting: its score and its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub score: u32,
    pub action: Action,
}

/// The rules' settings and limits (`[cashout]` of a deployment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Redemptions an hour a merchant of each scale may do before its own
    /// usual hour counts (micro, small, medium, large).
    pub merchant_hour_floor: [u32; 4],
    /// How many times its usual hour a merchant may redeem in an hour.
    pub merchant_hour_times_usual: u32,
    /// Redemptions a minute one till may do.
    pub till_minute_max: u32,
    /// An order "hugs" the threshold up to this far above it, in basis
    /// points of the threshold (200: 2 %).
    pub hug_band_bp: u32,
    /// With at least this many threshold redemptions at the merchant lately,
    pub hug_min_seen: u32,
    /// this percentage of them hugging (this one included) meets the rule.
    pub hug_share_pct: u32,
    /// The same resident's redemptions at the same merchant in seven days.
    pub pair_week_max: u32,
    /// Metres between the resident's position and the shop.
    pub far_m: u32,
    /// Night hours (UTC+8), from and until (0 and 6: 00:00–05:59).
    pub night: (u8, u8),
    /// Residents on one device token redeeming at one merchant.
    pub device_residents_max: u32,
    /// A refund this many seconds after its redemption is quick.
    pub quick_refund_s: i64,
    /// Each rule's score and action.
    pub settings: std::collections::BTreeMap<Rule, Setting>,
}

/// A rule's score, and its action: every rule counts and scores, none
/// holds or refuses until a deployment says so (what holding would cost
/// honest merchants is for `quan simulate fraud` to measure first).
pub fn default_setting(rule: Rule) -> Setting {
    let score = match rule {
        Rule::MerchantVelocity | Rule::ThresholdHugging | Rule::SharedDevice => 3,
        Rule::TillVelocity | Rule::RepeatPair | Rule::FarFromShop | Rule::QuickRefund => 2,
        Rule::NightHours => 1,
    };
    Setting { score, action: Action::Allow }
}

impl Default for Rules {
    fn default() -> Self {
        let settings = Rule::ALL.into_iter().map(|r| (r, default_setting(r))).collect();
        Rules {
            merchant_hour_floor: [30, 60, 200, 1_000],
            merchant_hour_times_usual: 4,
            till_minute_max: 6,
            hug_band_bp: 200,
            hug_min_seen: 10,
            hug_share_pct: 60,
            pair_week_max: 4,
            far_m: 5_000,
            night: (0, 6),
            device_residents_max: 3,
            quick_refund_s: 600,
            settings,
        }
    }
}

impl Rules {
    /// A rule's setting (its default when `settings` leaves it out).
    pub fn setting(&self, rule: Rule) -> Setting {
        self.settings.get(&rule).copied().unwrap_or_else(|| default_setting(rule))
    }

    /// Whether any rule holds or refuses (else the redemption path need not
    /// judge: nothing it would find changes the redemption).
    pub fn act(&self) -> bool {
        self.settings.values().any(|s| s.action != Action::Allow)
    }

    /// Settings that cannot work, named.
    pub fn check(&self) -> Result<(), String> {
        if self.hug_band_bp > 10_000 || self.hug_share_pct > 100 {
            return Err("cashout.hug_band_bp is at most 10000 and cashout.hug_share_pct at most 100".into());
        }
        if self.merchant_hour_times_usual < 1 {
            return Err("cashout.merchant_hour_times_usual is at least 1".into());
        }
        if self.night.0 > 23 || self.night.1 > 24 {
            return Err("cashout.night is two hours of the day, from 0 to 24".into());
        }
        if self.till_minute_max == 0 || self.pair_week_max == 0 || self.device_residents_max == 0 {
            return Err("cashout's maxima are at least 1".into());
        }
        Ok(())
    }
}

/// The redemption being decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub order: Fen,
    /// The voucher's threshold (满X减Y), if it has one.
    pub threshold: Option<Fen>,
    pub scale: Scale,
    /// The hour of the day in UTC+8.
    pub local_hour: u8,
    /// Metres from the resident's position to the shop, when one was sent.
    pub distance_m: Option<u32>,
}

/// What the node counted before this redemption (this one not included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// At this merchant in the last hour.
    pub merchant_hour: u32,
    /// The merchant's usual hour (its average over the days counted,
    /// rounded up; 0: unknown).
    pub merchant_usual_hour: u32,
    /// At this till in the last minute.
    pub till_minute: u32,
    /// The merchant's recent threshold redemptions, and how many hugged.
    pub threshold_seen: u32,
    pub threshold_hugged: u32,
    /// This resident at this merchant in the last seven days.
    pub pair_week: u32,
    /// Other residents on this device token who redeemed at this merchant.
    pub device_residents: u32,
}

/// A rule met, with what it saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub rule: Rule,
    pub score: u32,
    pub detail: String,
}

/// The rules' answer for one redemption (or refund); the default meets
/// no rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub hits: Vec<Hit>,
    pub score: u32,
    /// The strictest action of the rules met (`Allow` when none).
    pub action: Action,
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict { hits: Vec::new(), score: 0, action: Action::Allow }
    }
}

impl Verdict {
    fn of(hits: Vec<(Rule, String)>, rules: &Rules) -> Verdict {
        let hits: Vec<Hit> =
            hits.into_iter().map(|(rule, detail)| Hit { rule, score: rules.setting(rule).score, detail }).collect();
        let score = hits.iter().map(|h| h.score).sum();
        let action = hits.iter().map(|h| rules.setting(h.rule).action).max().unwrap_or(Action::Allow);
        Verdict { hits, score, action }
    }

    /// The rule the refusal names: the first met whose action is `Refuse`.
    pub fn refused_by(&self, rules: &Rules) -> Option<Rule> {
        self.hits.iter().map(|h| h.rule).find(|r| rules.setting(*r).action == Action::Refuse)
    }
}

/// A voucher's threshold (满X减Y), if its rule has one; in a pack of
/// tiers, the tier whose money off is `face`.
pub fn threshold(d: &crate::voucher_kind::Discount, face: Fen) -> Option<Fen> {
    use crate::voucher_kind::Discount;
    match d {
        Discount::Threshold { min_order_fen, .. } => Some(*min_order_fen),
        Discount::Percent { min_order_fen, .. } if *min_order_fen > Fen::ZERO => Some(*min_order_fen),
        Discount::Tiers { tiers } => tiers.iter().find(|t| t.off_fen == face).map(|t| t.min_order_fen),
        _ => None,
    }
}

/// Whether an order hugs its threshold: at or above it, within `band_bp`
/// basis points of it.
pub fn hugs(order: Fen, threshold: Fen, band_bp: u32) -> bool {
    let (o, t) = (i128::from(order.as_i64()), i128::from(threshold.as_i64()));
    t > 0 && o >= t && o * 10_000 <= t * (10_000 + i128::from(band_bp))
}

/// The rules met by a redemption.
pub fn at_redemption(seen: &Seen, c: &Counts, rules: &Rules) -> Verdict {
    let mut hits = Vec::new();
    let floor = rules.merchant_hour_floor[match seen.scale {
        Scale::Micro => 0,
        Scale::Small => 1,
        Scale::Medium => 2,
        Scale::Large => 3,
    }];
    let usual_cap = c.merchant_usual_hour.saturating_mul(rules.merchant_hour_times_usual);
    let cap = floor.max(usual_cap);
    if c.merchant_hour + 1 > cap {
        hits.push((Rule::MerchantVelocity, format!("{} in the last hour, at most {cap}", c.merchant_hour + 1)));
    }
    if c.till_minute + 1 > rules.till_minute_max {
        hits.push((
            Rule::TillVelocity,
            format!("{} at one till in a minute, at most {}", c.till_minute + 1, rules.till_minute_max),
        ));
    }
    if let Some(t) = seen.threshold
        && hugs(seen.order, t, rules.hug_band_bp)
    {
        let (seen_n, hugged) = (c.threshold_seen + 1, c.threshold_hugged + 1);
        if seen_n >= rules.hug_min_seen && u64::from(hugged) * 100 >= u64::from(rules.hug_share_pct) * u64::from(seen_n)
        {
            hits.push((Rule::ThresholdHugging, format!("{hugged} of {seen_n} threshold orders within the band")));
        }
    }
    if c.pair_week + 1 > rules.pair_week_max {
        hits.push((Rule::RepeatPair, format!("{} times at this merchant in seven days", c.pair_week + 1)));
    }
    if let Some(d) = seen.distance_m
        && d > rules.far_m
    {
        hits.push((Rule::FarFromShop, format!("{d} m from the shop")));
    }
    let (from, until) = rules.night;
    let night = if from <= until {
        (from..until).contains(&seen.local_hour)
    } else {
        seen.local_hour >= from || seen.local_hour < until
    };
    if night {
        hits.push((Rule::NightHours, format!("at {}:00", seen.local_hour)));
    }
    if c.device_residents + 1 > rules.device_residents_max {
        hits.push((Rule::SharedDevice, format!("{} residents on one device here", c.device_residents + 1)));
    }
    Verdict::of(hits, rules)
}

/// The rules met by a refund `seconds_after` its redemption.
pub fn at_refund(seconds_after: i64, rules: &Rules) -> Verdict {
    let hits = if (0..=rules.quick_refund_s).contains(&seconds_after) {
        vec![(Rule::QuickRefund, format!("{seconds_after} s after the redemption"))]
    } else {
        Vec::new()
    };
    Verdict::of(hits, rules)
}

#[cfg(test)]
#[path = "cashout_tests.rs"]
mod tests;
