//! Business days in China Standard Time (UTC+8, no daylight saving).
//!
//! Settlement and reports group money by business day. A bureau picks a cutoff
//! hour (日切): with cutoff 0 a business day is the calendar day in UTC+8; with
//! cutoff 23, everything from 23:00 local time on the 26th belongs to the
//! business day of the 27th, which gives the bank an hour before midnight.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// UTC+8, China Standard Time.
pub const UTC8: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("UTC+8 is a valid offset"),
};

/// An instant as people in China read it: `2026-12-06 00:00:00 北京时间 (UTC+8)`.
/// Machine timestamps (JSON) stay RFC 3339; this is for messages and prose.
pub fn beijing(t: DateTime<Utc>) -> String {
    format!("{} Beijing time (UTC+8)", t.with_timezone(&UTC8).format("%Y-%m-%d %H:%M:%S"))
}

/// The local hour (0–23, UTC+8) at which one business day ends and the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(try_from = "u8", into = "u8")]
pub struct CutoffHour(u8);

/// Why an hour is not a cutoff hour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cutoff hour {0} is out of range: expected 0 to 23")]
pub struct CutoffHourError(pub i64);

impl CutoffHour {
    pub fn new(hour: u8) -> Result<CutoffHour, CutoffHourError> {
        if hour < 24 { Ok(CutoffHour(hour)) } else { Err(CutoffHourError(i64::from(hour))) }
    }

    pub fn hour(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for CutoffHour {
    type Error = CutoffHourError;
    fn try_from(h: u8) -> Result<Self, Self::Error> {
        CutoffHour::new(h)
    }
}

impl From<CutoffHour> for u8 {
    fn from(c: CutoffHour) -> u8 {
        c.0
    }
}

/// One business day, named by its date in UTC+8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusinessDay(NaiveDate);

impl BusinessDay {
    pub fn from_date(date: NaiveDate) -> BusinessDay {
        BusinessDay(date)
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The business day an instant belongs to.
    pub fn of(instant: DateTime<Utc>, cutoff: CutoffHour) -> BusinessDay {
        let local = instant.with_timezone(&UTC8);
        let date = local.date_naive();
        if cutoff.0 > 0 && local.hour() >= u32::from(cutoff.0) {
            BusinessDay(date.checked_add_days(Days::new(1)).unwrap_or(date))
        } else {
            BusinessDay(date)
        }
    }

    /// The half-open interval `[start, end)` of instants in this business day.
    pub fn bounds(self, cutoff: CutoffHour) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |d: NaiveDate| {
            let t = NaiveTime::from_hms_opt(u32::from(cutoff.0), 0, 0).unwrap_or(NaiveTime::MIN);
            // A fixed offset has exactly one local time for every instant.
            UTC8.from_local_datetime(&d.and_time(t)).single().map(|l| l.with_timezone(&Utc))
        };
        let end_date = if cutoff.0 > 0 { self.0 } else { self.0.checked_add_days(Days::new(1)).unwrap_or(self.0) };
        let start_date = end_date.checked_sub_days(Days::new(1)).unwrap_or(end_date);
        let start = at(start_date).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let end = at(end_date).unwrap_or(DateTime::<Utc>::MAX_UTC);
        (start, end)
    }
}

impl std::fmt::Display for BusinessDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn day(s: &str) -> BusinessDay {
        BusinessDay(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{e}")))
    }

    fn cutoff(h: u8) -> CutoffHour {
        CutoffHour::new(h).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn with_cutoff_zero_the_business_day_is_the_calendar_day_in_utc_plus_8() {
        // 16:30 UTC on the 25th is 00:30 on the 26th in Beijing.
        assert_eq!(BusinessDay::of(utc("2026-11-25T16:30:00Z"), cutoff(0)), day("2026-11-26"));
        assert_eq!(BusinessDay::of(utc("2026-11-25T15:59:59Z"), cutoff(0)), day("2026-11-25"));
    }

    #[test]
    fn after_the_cutoff_hour_an_instant_belongs_to_the_next_business_day() {
        // 23:30 in Beijing on the 26th.
        assert_eq!(BusinessDay::of(utc("2026-11-26T15:30:00Z"), cutoff(23)), day("2026-11-27"));
        // 22:59:59 in Beijing on the 26th.
        assert_eq!(BusinessDay::of(utc("2026-11-26T14:59:59Z"), cutoff(23)), day("2026-11-26"));
    }

    #[test]
    fn bounds_are_half_open_and_contain_exactly_the_instants_of_that_day() {
        for h in [0u8, 2, 23] {
            let d = day("2026-11-26");
            let (start, end) = d.bounds(cutoff(h));
            assert_eq!(end - start, chrono::Duration::hours(24));
            assert_eq!(BusinessDay::of(start, cutoff(h)), d, "cutoff {h}");
            assert_eq!(BusinessDay::of(end - chrono::Duration::nanoseconds(1), cutoff(h)), d);
            assert_eq!(BusinessDay::of(end, cutoff(h)), day("2026-11-27"));
        }
    }

    #[test]
    fn a_cutoff_hour_above_23_is_rejected() {
        assert!(CutoffHour::new(24).is_err());
        assert!(CutoffHour::new(23).is_ok());
    }
}
