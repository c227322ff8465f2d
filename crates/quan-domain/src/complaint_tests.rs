use super::*;
use proptest::prelude::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_else(|e| panic!("{e}"))
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{e}"))
}

fn png(len: usize) -> Vec<u8> {
    let mut b = PNG_SIGNATURE.to_vec();
    b.extend_from_slice(&[0, 0, 0, 13]);
    b.extend_from_slice(b"IHDR");
    b.resize(len.max(41) - 12, 0);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(b"IEND");
    b.extend_from_slice(&[0xAE, 0x42, 0x60, 0x82]);
    b
}

#[test]
fn a_jpeg_and_a_png_are_known_by_their_bytes_not_their_names() {
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0xFF, 0xD9];
    assert_eq!(check_photo(&jpeg), Ok(PhotoType::Jpeg));
    assert_eq!(check_photo(&png(100)), Ok(PhotoType::Png));
    for fake in [&b"GIF89a......"[..], b"<svg onload=alert(1)>", b"%PDF-1.7", &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2]] {
        assert_eq!(check_photo(fake).map_err(|e| e.rule), Err("photo_type"));
    }
}

#[test]
fn a_photo_over_two_megabytes_is_refused_even_when_it_is_a_real_png() {
    assert!(check_photo(&png(PHOTO_BYTES_MAX)).is_ok());
    assert_eq!(check_photo(&png(PHOTO_BYTES_MAX + 1)).map_err(|e| e.rule), Err("photo_too_large"));
}

#[test]
fn a_complaint_text_keeps_its_lines_and_is_at_most_a_thousand_characters() {
    assert_eq!(complaint_text("text", "  第一行\r\n第二行 ").as_deref(), Ok("第一行\n第二行"));
    assert!(complaint_text("text", &"券".repeat(1000)).is_ok());
    assert_eq!(complaint_text("text", &"券".repeat(1001)).map_err(|e| e.rule), Err("too_long"));
    assert_eq!(complaint_text("text", "  \n ").map_err(|e| e.rule), Err("required"));
    assert_eq!(complaint_text("text", "a\u{0}b").map_err(|e| e.rule), Err("control_character"));
}

#[test]
fn one_working_day_after_a_friday_afternoon_is_the_monday_afternoon() {
    let cal = WorkCalendar::default();
    // Friday 2026-12-04 15:00 Beijing = 07:00 UTC.
    assert_eq!(cal.after(utc("2026-12-04T07:00:00Z"), 1), utc("2026-12-07T07:00:00Z"));
    assert_eq!(cal.after(utc("2026-12-04T07:00:00Z"), 3), utc("2026-12-09T07:00:00Z"));
}

#[test]
fn a_ticket_filed_on_a_sunday_counts_from_monday_morning() {
    let cal = WorkCalendar::default();
    // Sunday 2026-12-06 10:00 Beijing; one working day ends at the end of Monday.
    assert_eq!(cal.after(utc("2026-12-06T02:00:00Z"), 1), utc("2026-12-07T16:00:00Z"));
}

#[test]
fn public_holidays_are_skipped_and_exchanged_weekend_days_are_worked() {
    let cal = WorkCalendar {
        holidays: [date("2026-10-01"), date("2026-10-02")].into_iter().collect(),
        extra_workdays: [date("2026-10-10")].into_iter().collect(),
    };
    // Wednesday 2026-09-30 09:00 Beijing + 1 working day: Thu and Fri are holidays → Mon 10-05.
    assert_eq!(cal.after(utc("2026-09-30T01:00:00Z"), 1), utc("2026-10-05T01:00:00Z"));
    assert!(cal.is_working(date("2026-10-10")));
    assert!(!cal.is_working(date("2026-10-11")));
}

#[test]
fn a_closed_ticket_takes_no_more_actions() {
    for a in ComplaintAction::ALL {
        assert!(next_state(ComplaintState::Closed, *a, true).is_err(), "{a:?}");
    }
}

#[test]
fn only_an_asked_merchant_may_answer_and_only_a_named_one_can_be_asked() {
    use ComplaintAction as A;
    use ComplaintState as S;
    assert_eq!(next_state(S::InProgress, A::AskMerchant, false).map_err(|e| e.rule), Err("no_merchant"));
    assert_eq!(next_state(S::InProgress, A::AskMerchant, true), Ok(S::AwaitingMerchant));
    assert!(next_state(S::InProgress, A::MerchantAnswer, true).is_err());
    assert_eq!(next_state(S::AwaitingMerchant, A::MerchantAnswer, true), Ok(S::InProgress));
}

#[test]
fn officials_act_only_on_escalated_tickets_and_auditors_and_residents_never() {
    use ComplaintAction as A;
    assert!(A::Reply.allowed(Role::Official, ComplaintState::Escalated));
    assert!(!A::Reply.allowed(Role::Official, ComplaintState::InProgress));
    for a in ComplaintAction::ALL {
        assert!(!a.allowed(Role::Auditor, ComplaintState::Open));
        assert!(!a.allowed(Role::Resident, ComplaintState::Open));
        assert!(!a.allowed(Role::Cashier, ComplaintState::AwaitingMerchant));
    }
    assert!(A::MerchantAnswer.allowed(Role::MerchantOwner, ComplaintState::AwaitingMerchant));
    assert!(!A::Reply.allowed(Role::MerchantOwner, ComplaintState::AwaitingMerchant));
}

#[test]
fn a_ticket_is_overdue_when_its_first_answer_or_its_close_is_late() {
    let (due1, due3) = (utc("2026-12-07T07:00:00Z"), utc("2026-12-09T07:00:00Z"));
    let before = utc("2026-12-07T06:00:00Z");
    let after1 = utc("2026-12-07T08:00:00Z");
    assert!(!overdue(before, due1, None, due3, None));
    assert!(overdue(after1, due1, None, due3, None));
    assert!(!overdue(after1, due1, Some(before), due3, None));
    assert!(overdue(utc("2026-12-10T00:00:00Z"), due1, Some(before), due3, None));
    assert!(!overdue(utc("2026-12-10T00:00:00Z"), due1, Some(before), due3, Some(before)));
}

#[test]
fn every_name_parses_back_to_itself() {
    for k in ComplaintKind::ALL {
        assert_eq!(ComplaintKind::parse(k.as_str()), Some(*k));
    }
    for s in ComplaintState::ALL {
        assert_eq!(ComplaintState::parse(s.as_str()), Some(*s));
    }
    assert_eq!(Outcome::parse("resolved"), Some(Outcome::Resolved));
    assert_eq!(ComplaintKind::parse("nonsense"), None);
}

fn action() -> impl Strategy<Value = ComplaintAction> {
    proptest::sample::select(ComplaintAction::ALL.to_vec())
}

proptest! {
    #[test]
    fn any_sequence_of_actions_ends_closed_at_most_once_and_never_leaves_closed(
        actions in proptest::collection::vec(action(), 0..30),
        has_merchant in any::<bool>(),
    ) {
        let mut s = ComplaintState::Open;
        let mut closes = 0;
        for a in actions {
            if let Ok(next) = next_state(s, a, has_merchant) {
                prop_assert!(s != ComplaintState::Closed);
                if next == ComplaintState::AwaitingMerchant { prop_assert!(has_merchant); }
                if next == ComplaintState::Closed { closes += 1; }
                s = next;
            }
        }
        prop_assert!(closes <= 1);
    }

    #[test]
    fn a_due_time_is_never_before_the_filing_and_more_days_are_never_earlier(
        secs in 1_700_000_000i64..1_900_000_000, days in 1u32..10,
    ) {
        let cal = WorkCalendar::default();
        let from = DateTime::from_timestamp(secs, 0).unwrap_or_default();
        let a = cal.after(from, days);
        let b = cal.after(from, days + 1);
        prop_assert!(a > from);
        prop_assert!(b > a);
        prop_assert!(a - from <= chrono::Duration::days(i64::from(days) * 3 + 4));
    }
}

#[test]
fn a_photo_loses_its_exif_position_and_text_but_keeps_its_image() {
    // SOI, APP0 (JFIF, kept), APP1 (Exif with a GPS tag, dropped), COM (dropped), DQT (kept), SOS…EOI.
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend_from_slice(&[0xFF, 0xE0, 0, 6, b'J', b'F', b'I', b'F']);
    jpeg.extend_from_slice(&[0xFF, 0xE1, 0, 10, b'E', b'x', b'i', b'f', 0, 0, b'G', b'P']);
    jpeg.extend_from_slice(&[0xFF, 0xFE, 0, 4, b'h', b'i']);
    jpeg.extend_from_slice(&[0xFF, 0xDB, 0, 4, 1, 2]);
    jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 4, 9, 9, 0xAB, 0xCD, 0xFF, 0xD9]);
    let clean = strip_metadata(&jpeg, PhotoType::Jpeg);
    assert_eq!(check_photo(&clean), Ok(PhotoType::Jpeg));
    assert!(!clean.windows(4).any(|w| w == b"Exif") && !clean.windows(2).any(|w| w == b"GP"), "{clean:02X?}");
    assert!(clean.windows(4).any(|w| w == b"JFIF") && clean.ends_with(&[0xAB, 0xCD, 0xFF, 0xD9]));

    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = u32::try_from(data.len()).unwrap_or(0).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    };
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(chunk(b"IHDR", &[0; 13]));
    png.extend(chunk(b"IDAT", &[7; 20]));
    png.extend(chunk(b"tEXt", b"GPS:1"));
    png.extend(chunk(b"IEND", &[]));
    let clean = strip_metadata(&png, PhotoType::Png);
    assert_eq!(check_photo(&clean), Ok(PhotoType::Png));
    assert!(!clean.windows(4).any(|w| w == b"tEXt"));
    assert_eq!(clean.len(), png.len() - 17);
}
