//! Complaints (投诉): what a resident may complain about, the ticket's
//! state machine, who may move it, its time limits in working days, and the
//! check of an attached photo by its content.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::business_day::UTC8;
use crate::invalid::{Invalid, ensure};

/// The longest complaint, reply or answer, in characters.
pub const TEXT_CHARS_MAX: usize = 1_000;
/// The largest photo, in bytes (2 MiB).
pub const PHOTO_BYTES_MAX: usize = 2 * 1024 * 1024;

macro_rules! named {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            /// How residents and staff read it.
            pub fn zh(self) -> &'static str {
                match self { $($name::$v => $zh),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|k| k.as_str() == s)
            }
        }
    };
}

named!(
    /// What the complaint is about.
    ComplaintKind {
        ShopRefused = "shop_refused" / "商户拒收消费券",
        WrongDiscount = "wrong_discount" / "优惠金额不对",
        PriceRaised = "price_raised" / "先涨价后优惠",
        CouldNotClaim = "could_not_claim" / "领不到券",
        CodeProblem = "code_problem" / "券码无法使用",
        Other = "other" / "其他问题",
    }
);

named!(
    /// Where a ticket stands.
    ComplaintState {
        Open = "open" / "待受理",
        InProgress = "in_progress" / "处理中",
        AwaitingMerchant = "awaiting_merchant" / "待商户答复",
        Escalated = "escalated" / "已转主管部门",
        Closed = "closed" / "已办结",
    }
);

named!(
    /// How a closed ticket ended.
    Outcome {
        Resolved = "resolved" / "已解决",
        Rejected = "rejected" / "不予受理",
        Referred = "referred" / "已转其他部门",
    }
);

named!(
    /// What someone does to a ticket.
    ComplaintAction {
        Assign = "assign" / "分派",
        Reply = "reply" / "答复",
        AskMerchant = "ask_merchant" / "请商户说明",
        MerchantAnswer = "merchant_answer" / "商户答复",
        Escalate = "escalate" / "转主管部门",
        Close = "close" / "办结",
    }
);

impl ComplaintAction {
    /// Whether the action carries a text (all but assigning do).
    pub fn needs_text(self) -> bool {
        self != ComplaintAction::Assign
    }

    /// Whether the resident reads the action's text (replies and the close).
    pub fn resident_reads(self) -> bool {
        matches!(self, ComplaintAction::Reply | ComplaintAction::Close)
    }

    /// Whether the merchant reads it (the question put to it and its answer).
    pub fn merchant_reads(self) -> bool {
        matches!(self, ComplaintAction::AskMerchant | ComplaintAction::MerchantAnswer)
    }

    /// Whether the action counts as the first answer to the resident.
    pub fn answers_resident(self) -> bool {
        self.resident_reads()
    }

    /// Which roles may take the action when the ticket is in `state`:
    /// operators work the queue, officials answer and close what was
    /// escalated to them, a merchant's owner answers what it was asked.
    pub fn allowed(self, role: Role, state: ComplaintState) -> bool {
        use ComplaintAction as A;
        match role {
            Role::Operator => self != A::MerchantAnswer,
            Role::Official => state == ComplaintState::Escalated && matches!(self, A::Reply | A::Close | A::Assign),
            Role::MerchantOwner => self == A::MerchantAnswer,
            _ => false,
        }
    }
}

/// A ticket's next state after `action`, or why the action is not possible
/// now. `has_merchant`: the ticket names a merchant to ask.
pub fn next_state(
    state: ComplaintState,
    action: ComplaintAction,
    has_merchant: bool,
) -> Result<ComplaintState, Invalid> {
    use ComplaintAction as A;
    use ComplaintState as S;
    let refused = |why: &str| Invalid::new("action", "invalid_transition", why.to_owned());
    if state == S::Closed {
        return Err(refused("the ticket is closed"));
    }
    match action {
        A::Assign | A::Reply => Ok(if state == S::Open { S::InProgress } else { state }),
        A::AskMerchant if !has_merchant => Err(Invalid::new("action", "no_merchant", "the ticket names no merchant")),
        A::AskMerchant if state == S::Escalated => Err(refused("the ticket is with the bureau")),
        A::AskMerchant => Ok(S::AwaitingMerchant),
        A::MerchantAnswer if state != S::AwaitingMerchant => Err(refused("the merchant was not asked")),
        A::MerchantAnswer => Ok(S::InProgress),
        A::Escalate if state == S::Escalated => Err(refused("the ticket is already with the bureau")),
        A::Escalate => Ok(S::Escalated),
        A::Close => Ok(S::Closed),
    }
}

/// A complaint's or answer's text: trimmed, 1 to 1 000 characters; line
/// breaks kept (`\r\n` read as `\n`), other control characters refused.
pub fn complaint_text(field: &str, value: &str) -> Result<String, Invalid> {
    let t = value.replace("\r\n", "\n");
    let t = t.trim();
    ensure(!t.is_empty(), field, "required", || "must not be empty".into())?;
    if let Some(c) = t.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(Invalid::new(
            field,
            "control_character",
            format!("must not contain control characters (found U+{:04X})", u32::from(c)),
        ));
    }
    let n = t.chars().count();
    ensure(n <= TEXT_CHARS_MAX, field, "too_long", || {
        format!("must have at most {TEXT_CHARS_MAX} characters (has {n})")
    })?;
    Ok(t.to_owned())
}

/// The type of an accepted photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoType {
    Jpeg,
    Png,
}

impl PhotoType {
    pub fn mime(self) -> &'static str {
        match self {
            PhotoType::Jpeg => "image/jpeg",
            PhotoType::Png => "image/png",
        }
    }

    pub fn parse_mime(s: &str) -> Option<PhotoType> {
        [PhotoType::Jpeg, PhotoType::Png].into_iter().find(|t| t.mime() == s)
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A photo is accepted by what its bytes are, never by its name or the
/// type a client claims: a JPEG starts with SOI + a marker and ends with
/// EOI; a PNG starts with its signature and an IHDR chunk and ends with
/// IEND. At most [`PHOTO_BYTES_MAX`].
pub fn check_photo(bytes: &[u8]) -> Result<PhotoType, Invalid> {
    let field = "photo";
    ensure(bytes.len() <= PHOTO_BYTES_MAX, field, "photo_too_large", || {
        format!("must be at most 2 MB ({PHOTO_BYTES_MAX} bytes); it has {} bytes", bytes.len())
    })?;
    let jpeg = bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9]);
    let png = bytes.len() > 33
        && bytes.starts_with(PNG_SIGNATURE)
        && &bytes[12..16] == b"IHDR"
        && bytes[bytes.len() - 8..bytes.len() - 4] == *b"IEND";
    match (jpeg, png) {
        (true, _) => Ok(PhotoType::Jpeg),
        (_, true) => Ok(PhotoType::Png),
        _ => Err(Invalid::new(field, "photo_type", "must be a JPEG or PNG image (checked by its content)")),
    }
}

/// A photo without what the camera wrote about the picture: a JPEG loses
/// its APP1–APP15 segments (EXIF, with the GPS position and the phone's
/// make, XMP, …) and comments; a PNG loses its eXIf and text chunks. The
/// image data is kept byte for byte. Input already checked by [`check_photo`].
pub fn strip_metadata(bytes: &[u8], t: PhotoType) -> Vec<u8> {
    match t {
        PhotoType::Jpeg => strip_jpeg(bytes),
        PhotoType::Png => strip_png(bytes),
    }
}

fn strip_jpeg(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    while i + 4 <= b.len() && b[i] == 0xFF {
        let marker = b[i + 1];
        // Start of scan: the compressed image follows to the end, kept whole.
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let end = (i + 2 + len).min(b.len());
        let metadata = (0xE1..=0xEF).contains(&marker) || marker == 0xFE;
        if !metadata {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    out.extend_from_slice(&b[i.min(b.len())..]);
    out
}

fn strip_png(b: &[u8]) -> Vec<u8> {
    let mut out = b[..8].to_vec();
    let mut i = 8;
    while i + 12 <= b.len() {
        let len = usize::try_from(u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])).unwrap_or(usize::MAX);
        let end = i.saturating_add(12).saturating_add(len).min(b.len());
        let kind = &b[i + 4..i + 8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt") {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    out
}

/// Which days are working days: Monday to Friday in Beijing, except the
/// listed public holidays, plus the listed weekend days worked in exchange
/// (调休).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkCalendar {
    pub holidays: BTreeSet<NaiveDate>,
    pub extra_workdays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn is_working(&self, d: NaiveDate) -> bool {
        if self.extra_workdays.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The instant `days` working days after `from`: the same Beijing time
    /// of day on the `days`-th working day after `from`'s date. A ticket
    /// filed on a day off counts from the start of the next working day (one
    /// working day then ends at the end of that day).
    pub fn after(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = from.with_timezone(&UTC8);
        let mut date = local.date_naive();
        let mut time = local.time();
        if !self.is_working(date) {
            date = self.next_working(date);
            time = chrono::NaiveTime::MIN;
        }
        for _ in 0..days {
            date = self.next_working(date);
        }
        at_local(date, time)
    }

    fn next_working(&self, mut d: NaiveDate) -> NaiveDate {
        for _ in 0..400 {
            d = d.checked_add_days(Days::new(1)).unwrap_or(d);
            if self.is_working(d) {
                break;
            }
        }
        d
    }
}

fn at_local(d: NaiveDate, t: chrono::NaiveTime) -> DateTime<Utc> {
    UTC8.from_local_datetime(&d.and_time(t)).single().map_or(DateTime::<Utc>::MAX_UTC, |l| l.with_timezone(&Utc))
}

/// The time limits of a deployment: the first answer within
/// `first_answer_working_days`, the close within `close_working_days`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintLimits {
    pub first_answer_working_days: u32,
    pub close_working_days: u32,
    /// Complaints one resident may file per business day.
    pub per_resident_per_day_max: u32,
    pub calendar: WorkCalendar,
}

impl Default for ComplaintLimits {
    fn default() -> Self {
        ComplaintLimits {
            first_answer_working_days: 1,
            close_working_days: 3,
            per_resident_per_day_max: 5,
            calendar: WorkCalendar::default(),
        }
    }
}

impl ComplaintLimits {
    pub fn check(&self) -> Result<(), Invalid> {
        ensure(self.first_answer_working_days >= 1, "first_answer_working_days", "too_small", || {
            "must be at least 1".into()
        })?;
        ensure(self.close_working_days >= self.first_answer_working_days, "close_working_days", "too_small", || {
            "must be at least first_answer_working_days".into()
        })?;
        ensure(self.per_resident_per_day_max >= 1, "per_resident_per_day_max", "too_small", || {
            "must be at least 1".into()
        })
    }

    /// (first answer due, close due) for a ticket filed at `filed`.
    pub fn due(&self, filed: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.calendar.after(filed, self.first_answer_working_days),
            self.calendar.after(filed, self.close_working_days),
        )
    }
}

/// The figures of a ticket's timeliness at `now`.
pub fn overdue(
    now: DateTime<Utc>,
    answer_due: DateTime<Utc>,
    answered: Option<DateTime<Utc>>,
    close_due: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
) -> bool {
    (answered.is_none() && now > answer_due) || (closed.is_none() && now > close_due)
}

#[cfg(test)]
#[path = "complaint_tests.rs"]
mod tests;
