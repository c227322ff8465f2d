use chrono::{Duration, TimeZone};

use super::*;
use crate::voucher_kind::{Discount, Scope, Stacking, Validity};

fn region() -> Region {
    Region::parse("4205").unwrap_or_else(|e| panic!("{e}"))
}

fn now() -> DateTime<Utc> {
    UTC8.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).single().map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn cx(r: &Region, now: DateTime<Utc>) -> BatchContext<'_> {
    BatchContext {
        campaign_region: r,
        divisions: None,
        campaign_starts_on: date(2026, 12, 1),
        campaign_ends_on: date(2026, 12, 31),
        now,
    }
}

fn kind(code: &str, off: i64, min: i64) -> VoucherKind {
    VoucherKind {
        code: code.into(),
        name: format!("满{min}减{off}"),
        discount: Discount::Threshold { min_order_fen: Fen::new(min * 100), off_fen: Fen::new(off * 100) },
        scope: Scope::default(),
        validity: Validity::DaysAfterClaim { days: 7 },
        weekdays: vec![],
        hours: None,
        stacking: Stacking::OnePerOrder,
        rollover: false,
    }
}

fn spec() -> BatchSpec {
    let open = UTC8.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).single().map(|d| d.with_timezone(&Utc)).unwrap_or_default();
    BatchSpec {
        name: "第一批".into(),
        opening_at: open,
        closing_at: open + Duration::days(2),
        kinds: vec![
            BatchKind { stock: 1000, kind: kind("c100-20", 20, 100) },
            BatchKind { stock: 500, kind: kind("c200-50", 50, 200) },
        ],
        eligibility: EligibilityRule::default(),
        limits: Limits::default(),
        mode: BatchMode::Grab,
        admission_window_s: 3,
        proof_of_work: false,
        require_real_name: false,
    }
}

#[test]
fn a_batch_costs_the_sum_of_stock_times_face_value() {
    assert_eq!(spec().face_total(), Some(Fen::new(1000 * 2000 + 500 * 5000)));
    let r = region();
    assert_eq!(spec().validate(&cx(&r, now())), Ok(()));
}

#[test]
fn a_batch_opening_in_the_past_or_closing_before_it_opens_is_refused() {
    let r = region();
    let e = spec().validate(&cx(&r, spec().opening_at)).err();
    assert_eq!(e.map(|e| (e.field, e.rule)), Some(("opening_at".into(), "opening_time_in_past")));
    let mut s = spec();
    s.closing_at = s.opening_at;
    assert_eq!(s.validate(&cx(&r, now())).err().map(|e| e.rule), Some("closing_before_opening"));
    let mut s = spec();
    s.closing_at = s.opening_at + Duration::days(60);
    assert_eq!(s.validate(&cx(&r, now())).err().map(|e| e.rule), Some("outside_campaign_dates"));
}

#[test]
fn eligibility_districts_must_lie_inside_the_campaign_region() {
    let r = region();
    let mut s = spec();
    s.eligibility.gps_districts = vec![DistrictCode::parse("330109").unwrap_or_else(|e| panic!("{e}"))];
    let e = s.validate(&cx(&r, now())).err();
    assert_eq!(e.map(|e| (e.field, e.rule)), Some(("eligibility.gps_districts[0]".into(), "district_outside_region")));
}

#[test]
fn duplicate_kind_codes_and_bad_limits_are_refused_with_their_path() {
    let r = region();
    let mut s = spec();
    s.kinds[1].kind.code = "c100-20".into();
    assert_eq!(s.validate(&cx(&r, now())).err().map(|e| e.field), Some("kinds[1].kind.code".into()));
    let mut s = spec();
    s.limits.per_batch = 2;
    s.limits.per_campaign = Some(1);
    assert_eq!(s.validate(&cx(&r, now())).err().map(|e| e.rule), Some("limits_inconsistent"));
    let mut s = spec();
    s.kinds[0].kind.discount = Discount::Instant { off_fen: Fen::ZERO };
    assert_eq!(s.validate(&cx(&r, now())).err().map(|e| e.field), Some("kinds[0].kind.discount.off_fen".into()));
}

#[test]
fn a_lottery_registers_before_the_draw() {
    let r = region();
    let mut s = spec();
    s.mode = BatchMode::Lottery {
        registration_opens_at: now() + Duration::days(1),
        registration_closes_at: s.opening_at + Duration::hours(1),
    };
    assert_eq!(s.validate(&cx(&r, now())).err().map(|e| e.rule), Some("registration_after_draw"));
}

#[test]
fn before_opening_anything_may_change() {
    let r = region();
    let a = BatchAmendment {
        name: Some("改名".into()),
        limits: Some(Limits { per_batch: 2, ..Limits::default() }),
        ..Default::default()
    };
    let next = amend(&spec(), &a, &cx(&r, now())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((next.name.as_str(), next.limits.per_batch), ("改名", 2));
}

#[test]
fn after_opening_only_a_later_close_and_more_stock_are_allowed() {
    let r = region();
    let during = spec().opening_at + Duration::hours(1);
    let c = cx(&r, during);
    let more = BatchAmendment {
        closing_at: Some(spec().closing_at + Duration::days(1)),
        add_stock: vec![StockIncrease { kind: "c100-20".into(), stock: 10 }],
        ..Default::default()
    };
    let next = amend(&spec(), &more, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(next.kinds[0].stock, 1010);
    for (a, field) in [
        (BatchAmendment { name: Some("x".into()), ..Default::default() }, "name"),
        (BatchAmendment { limits: Some(Limits::default()), ..Default::default() }, "limits"),
        (BatchAmendment { eligibility: Some(EligibilityRule::default()), ..Default::default() }, "eligibility"),
        (BatchAmendment { opening_at: Some(during), ..Default::default() }, "opening_at"),
    ] {
        let e = amend(&spec(), &a, &c).err();
        assert_eq!(e.map(|e| (e.field, e.rule)), Some((field.into(), "locked_after_opening")));
    }
    let earlier = BatchAmendment { closing_at: Some(spec().closing_at - Duration::hours(1)), ..Default::default() };
    assert_eq!(amend(&spec(), &earlier, &c).err().map(|e| e.rule), Some("closing_time_shortened"));
    let unknown =
        BatchAmendment { add_stock: vec![StockIncrease { kind: "nope".into(), stock: 1 }], ..Default::default() };
    assert_eq!(amend(&spec(), &unknown, &c).err().map(|e| e.rule), Some("unknown_kind"));
}

#[test]
fn the_budget_refuses_batches_beyond_it_and_names_the_amounts() {
    assert_eq!(check_budget(Fen::new(100), Fen::new(60), Fen::new(40)), Ok(()));
    let e = check_budget(Fen::new(100), Fen::new(60), Fen::new(41)).err();
    assert_eq!(e.as_ref().map(|e| e.rule), Some("budget_exceeded"));
    assert!(e.is_some_and(|e| e.message.contains("1.01") && e.message.contains("0.60") && e.message.contains("0.41")));
}

#[test]
fn a_grab_batch_has_a_three_second_window_unless_it_says_otherwise_and_at_most_thirty() {
    let mut json = serde_json::to_value(spec()).unwrap_or_default();
    json.as_object_mut().map(|o| o.remove("admission_window_s"));
    let read: BatchSpec = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.admission_window_s, crate::admission::WINDOW_S_DEFAULT);
    assert_eq!(read.admission_window_ends_at(), Some(read.opening_at + Duration::seconds(3)));
    let mut s = spec();
    s.admission_window_s = 0;
    assert_eq!(s.admission_window_ends_at(), None, "0 turns it off");
    s.admission_window_s = 31;
    let r = region();
    assert_eq!(s.validate(&cx(&r, now())).map_err(|e| e.rule), Err("out_of_range"));
}
