use super::*;
use proptest::prelude::*;

/// The defaults, with the rules a deployment might hold on set to hold.
fn holding() -> Rules {
    let mut r = Rules::default();
    for rule in [Rule::MerchantVelocity, Rule::TillVelocity, Rule::ThresholdHugging, Rule::SharedDevice] {
        let score = r.setting(rule).score;
        r.settings.insert(rule, Setting { score, action: Action::Hold });
    }
    r
}

fn quiet(scale: Scale) -> Seen {
    Seen { order: Fen::new(15_800), threshold: Some(Fen::new(10_000)), scale, local_hour: 12, distance_m: None }
}

fn codes(v: &Verdict) -> Vec<&'static str> {
    v.hits.iter().map(|h| h.rule.code()).collect()
}

#[test]
fn an_ordinary_lunch_meets_no_rule_and_is_allowed() {
    let v = at_redemption(&quiet(Scale::Small), &Counts { merchant_hour: 12, ..Counts::default() }, &Rules::default());
    assert_eq!((v.hits.len(), v.score, v.action), (0, 0, Action::Allow));
}

#[test]
fn a_micro_shop_redeeming_like_a_large_one_is_held_but_a_large_one_is_not() {
    let rules = holding();
    let busy = Counts { merchant_hour: 30, ..Counts::default() };
    let v = at_redemption(&quiet(Scale::Micro), &busy, &rules);
    assert_eq!((codes(&v), v.action), (vec!["merchant_velocity"], Action::Hold));
    assert!(at_redemption(&quiet(Scale::Large), &busy, &rules).hits.is_empty());
}

#[test]
fn a_merchants_own_busy_hours_raise_its_cap_above_its_scales_floor() {
    let rules = Rules::default();
    // Usually 20 an hour: four times that is 80, above the small shop's 60.
    let c = Counts { merchant_hour: 70, merchant_usual_hour: 20, ..Counts::default() };
    assert!(at_redemption(&quiet(Scale::Small), &c, &rules).hits.is_empty());
    let c = Counts { merchant_hour: 80, ..c };
    assert_eq!(codes(&at_redemption(&quiet(Scale::Small), &c, &rules)), vec!["merchant_velocity"]);
}

#[test]
fn orders_hugging_the_threshold_again_and_again_are_held_once_enough_are_seen() {
    let rules = holding();
    let hug = Seen { order: Fen::new(10_150), ..quiet(Scale::Small) };
    let few = Counts { threshold_seen: 3, threshold_hugged: 3, ..Counts::default() };
    assert!(at_redemption(&hug, &few, &rules).hits.is_empty(), "four are not yet a pattern");
    let many = Counts { threshold_seen: 11, threshold_hugged: 7, ..Counts::default() };
    let v = at_redemption(&hug, &many, &rules);
    assert_eq!((codes(&v), v.action), (vec!["threshold_hugging"], Action::Hold));
    let honest = Counts { threshold_seen: 40, threshold_hugged: 8, ..Counts::default() };
    assert!(at_redemption(&hug, &honest, &rules).hits.is_empty(), "a fifth hugging is what shoppers do");
    let above = Seen { order: Fen::new(10_300), ..hug };
    assert!(at_redemption(&above, &many, &rules).hits.is_empty(), "3 % over is outside a 2 % band");
}

#[test]
fn an_order_hugs_from_the_threshold_to_the_band_above_it() {
    assert!(hugs(Fen::new(10_000), Fen::new(10_000), 200));
    assert!(hugs(Fen::new(10_200), Fen::new(10_000), 200));
    assert!(!hugs(Fen::new(10_201), Fen::new(10_000), 200));
    assert!(!hugs(Fen::new(9_999), Fen::new(10_000), 200));
    assert!(!hugs(Fen::new(100), Fen::ZERO, 200), "no threshold, nothing to hug");
}

#[test]
fn each_other_rule_names_what_it_saw() {
    let rules = holding();
    let c = Counts { till_minute: 6, pair_week: 4, device_residents: 3, ..Counts::default() };
    let s = Seen { local_hour: 2, distance_m: Some(12_000), ..quiet(Scale::Medium) };
    let v = at_redemption(&s, &c, &rules);
    assert_eq!(codes(&v), vec!["till_velocity", "repeat_pair", "far_from_shop", "night_hours", "shared_device"]);
    assert_eq!(v.score, 2 + 2 + 2 + 1 + 3);
    assert_eq!(v.action, Action::Hold, "the strictest of the rules met");
    assert!(v.hits.iter().any(|h| h.detail == "12000 m from the shop"), "{v:?}");
}

#[test]
fn a_rule_set_to_refuse_is_named_by_the_refusal() {
    let mut rules = Rules::default();
    rules.settings.insert(Rule::TillVelocity, Setting { score: 5, action: Action::Refuse });
    let v = at_redemption(&quiet(Scale::Small), &Counts { till_minute: 9, pair_week: 9, ..Counts::default() }, &rules);
    assert_eq!((v.action, v.refused_by(&rules)), (Action::Refuse, Some(Rule::TillVelocity)));
}

#[test]
fn night_hours_may_wrap_around_midnight() {
    let rules = Rules { night: (23, 5), ..Rules::default() };
    let at = |h| at_redemption(&Seen { local_hour: h, ..quiet(Scale::Large) }, &Counts::default(), &rules);
    assert_eq!(codes(&at(23)), vec!["night_hours"]);
    assert_eq!(codes(&at(4)), vec!["night_hours"]);
    assert!(at(5).hits.is_empty() && at(22).hits.is_empty());
}

#[test]
fn a_refund_within_ten_minutes_of_its_redemption_is_quick() {
    let rules = Rules::default();
    assert_eq!(codes(&at_refund(120, &rules)), vec!["quick_refund"]);
    assert!(at_refund(601, &rules).hits.is_empty());
    assert_eq!(Rule::parse("quick_refund"), Some(Rule::QuickRefund));
}

#[test]
fn by_default_every_rule_counts_and_none_holds_or_refuses() {
    let rules = Rules::default();
    assert!(!rules.act());
    let busy = Counts { merchant_hour: 500, till_minute: 40, ..Counts::default() };
    let v = at_redemption(&quiet(Scale::Micro), &busy, &rules);
    assert_eq!((v.hits.len(), v.action), (2, Action::Allow), "{v:?}");
    assert!(holding().act());
}

#[test]
fn settings_that_cannot_work_are_named() {
    assert_eq!(Rules::default().check(), Ok(()));
    assert!(Rules { hug_share_pct: 150, ..Rules::default() }.check().is_err());
    assert!(Rules { merchant_hour_times_usual: 0, ..Rules::default() }.check().is_err());
    assert!(Rules { till_minute_max: 0, ..Rules::default() }.check().is_err());
}

proptest! {
    #[test]
    fn the_verdict_sums_its_hits_and_takes_the_strictest_action(
        mh in 0u32..2_000, usual in 0u32..500, till in 0u32..20, seen_n in 0u32..50, hugged in 0u32..50,
        pair in 0u32..10, device in 0u32..10, hour in 0u8..24, order in 1i64..50_000, dist in proptest::option::of(0u32..20_000),
    ) {
        let rules = Rules::default();
        let s = Seen { order: Fen::new(order), threshold: Some(Fen::new(10_000)), scale: Scale::Small, local_hour: hour, distance_m: dist };
        let c = Counts { merchant_hour: mh, merchant_usual_hour: usual, till_minute: till, threshold_seen: seen_n,
            threshold_hugged: hugged.min(seen_n), pair_week: pair, device_residents: device };
        let v = at_redemption(&s, &c, &rules);
        prop_assert_eq!(v.score, v.hits.iter().map(|h| rules.setting(h.rule).score).sum::<u32>());
        let strictest = v.hits.iter().map(|h| rules.setting(h.rule).action).max().unwrap_or(Action::Allow);
        prop_assert_eq!(v.action, strictest);
        // More of the same never meets fewer rules.
        let more = Counts { merchant_hour: mh + 1, till_minute: till + 1, pair_week: pair + 1, device_residents: device + 1, ..c };
        prop_assert!(at_redemption(&s, &more, &rules).score >= v.score);
    }
}
