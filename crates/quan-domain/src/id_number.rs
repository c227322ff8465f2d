//! Resident ID numbers (居民身份证号码, GB 11643-1999): 17 digits and a check
//! character. The region (first 6 digits) must be a GB/T 2260 code, current
//! or retired; the birth date must be a real date, not in the future.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// The check character for 17 digits (`None` if they are not digits).
pub fn check_char(body: &[u8]) -> Option<char> {
    if body.len() != 17 || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// The GB/T 2260 county-level codes an ID number's region may have.
#[derive(Debug, Clone, Default)]
pub struct DivisionTable {
    codes: HashSet<String>,
}

impl DivisionTable {
    /// From the first column of CSV files with a header line (areas.csv, retired.csv).
    pub fn from_csv(files: &[&str]) -> DivisionTable {
        let codes = files
            .iter()
            .flat_map(|f| f.lines().skip(1))
            .filter_map(|l| l.split(',').next())
            .map(|c| c.trim().trim_matches('"').to_owned())
            .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        DivisionTable { codes }
    }

    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// The lowest code starting with `prefix` (a region's first county).
    pub fn first_within(&self, prefix: &str) -> Option<&str> {
        self.codes.iter().filter(|c| c.starts_with(prefix)).min().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

/// Why a string is not a usable ID number. The number itself is never echoed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("this is a 15-digit ID number of the first generation; use the 18-character number")]
    Legacy15,
    #[error("an ID number has 18 characters")]
    Length,
    #[error("an ID number has 17 digits and a final digit or X")]
    Characters,
    #[error("the check character is wrong")]
    CheckDigit,
    #[error("the first six digits are not a GB/T 2260 county code")]
    UnknownRegion,
    #[error("the birth date is not a real date")]
    BadBirthDate,
    #[error("the birth date is in the future")]
    FutureBirthDate,
}

impl IdNumberError {
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Legacy15 => "id_number_legacy_15",
            IdNumberError::Length => "id_number_length",
            IdNumberError::Characters => "id_number_characters",
            IdNumberError::CheckDigit => "id_number_check_digit",
            IdNumberError::UnknownRegion => "id_number_unknown_region",
            IdNumberError::BadBirthDate => "id_number_bad_birth_date",
            IdNumberError::FutureBirthDate => "id_number_future_birth_date",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
}

/// A checked ID number. `Debug` shows only the masked form.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidentIdNumber {
    number: String,
    birth: NaiveDate,
}

impl std::fmt::Debug for ResidentIdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentIdNumber({})", self.masked())
    }
}

impl ResidentIdNumber {
    pub fn parse(s: &str, table: &DivisionTable, today: NaiveDate) -> Result<ResidentIdNumber, IdNumberError> {
        let n = s.trim().to_ascii_uppercase();
        let b = n.as_bytes();
        if b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
            return Err(IdNumberError::Legacy15);
        }
        if b.len() != 18 {
            return Err(IdNumberError::Length);
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::Characters);
        }
        if check_char(&b[..17]) != Some(char::from(b[17])) {
            return Err(IdNumberError::CheckDigit);
        }
        if !table.contains(&n[..6]) {
            return Err(IdNumberError::UnknownRegion);
        }
        let birth = NaiveDate::parse_from_str(&n[6..14], "%Y%m%d").map_err(|_| IdNumberError::BadBirthDate)?;
        if birth.year() < 1890 {
            return Err(IdNumberError::BadBirthDate);
        }
        if birth > today {
            return Err(IdNumberError::FutureBirthDate);
        }
        Ok(ResidentIdNumber { number: n, birth })
    }

    /// The full number: only for keyed hashing.
    pub fn expose(&self) -> &str {
        &self.number
    }

    /// First and last character only: `4****************X`.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.number[..1], "*".repeat(16), &self.number[17..])
    }

    /// The household registration region (first six digits).
    pub fn region(&self) -> &str {
        &self.number[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    pub fn sex(&self) -> Sex {
        if (self.number.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }
}

/// Full years of age on `day`.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> u32 {
    let mut years = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table() -> DivisionTable {
        DivisionTable::from_csv(&[
            "code,name\n420502,西陵区\n110105,朝阳区\n",
            "code,name,successor,year\n420521,宜昌县,420506,2001\n",
        ])
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default()
    }

    fn with_check(body: &str) -> String {
        format!("{body}{}", check_char(body.as_bytes()).unwrap_or('?'))
    }

    #[test]
    fn a_regions_first_county_is_its_lowest_code_and_none_outside_the_table() {
        let t = table();
        assert_eq!(t.first_within("4205"), Some("420502"));
        assert_eq!(t.first_within("11"), Some("110105"));
        assert_eq!(t.first_within("31"), None);
    }

    #[test]
    fn the_standard_example_number_has_the_published_check_character() {
        // The worked example of GB 11643-1999: 11010519491231002X.
        assert_eq!(check_char(b"11010519491231002"), Some('X'));
        let id = ResidentIdNumber::parse("11010519491231002x", &table(), today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((id.region(), id.sex()), ("110105", Sex::Female));
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap_or_default());
        assert_eq!(id.masked(), "1****************X");
        assert_eq!(format!("{id:?}"), "ResidentIdNumber(1****************X)");
    }

    #[test]
    fn each_kind_of_bad_number_has_its_own_reason() {
        let t = table();
        assert_eq!(ResidentIdNumber::parse("420502900101123", &t, today()), Err(IdNumberError::Legacy15));
        assert_eq!(ResidentIdNumber::parse("4205021990010112", &t, today()), Err(IdNumberError::Length));
        assert_eq!(ResidentIdNumber::parse("42050219900101123A", &t, today()), Err(IdNumberError::Characters));
        let good = with_check("42050219900101123");
        let wrong = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
        assert_eq!(ResidentIdNumber::parse(&wrong, &t, today()), Err(IdNumberError::CheckDigit));
        assert_eq!(
            ResidentIdNumber::parse(&with_check("99050219900101123"), &t, today()),
            Err(IdNumberError::UnknownRegion)
        );
        assert_eq!(
            ResidentIdNumber::parse(&with_check("42050219900230123"), &t, today()),
            Err(IdNumberError::BadBirthDate)
        );
        assert_eq!(
            ResidentIdNumber::parse(&with_check("42050220300101123"), &t, today()),
            Err(IdNumberError::FutureBirthDate)
        );
        assert!(ResidentIdNumber::parse(&good, &t, today()).is_ok());
    }

    #[test]
    fn a_retired_county_code_still_opens_old_numbers() {
        // 宜昌县 became 夷陵区 in 2001; people born there before keep 420521.
        assert!(ResidentIdNumber::parse(&with_check("42052119800101123"), &table(), today()).is_ok());
    }

    #[test]
    fn age_counts_full_years_on_the_day() {
        let b = NaiveDate::from_ymd_opt(2008, 11, 27).unwrap_or_default();
        assert_eq!(age_on(b, today()), 17);
        assert_eq!(age_on(b, today().succ_opt().unwrap_or_default()), 18);
    }

    proptest! {
        #[test]
        fn every_body_has_exactly_one_valid_check_character(body in "[0-9]{17}") {
            let t = DivisionTable::from_csv(&[&format!("code\n{}\n", &body[..6])]);
            let valid: Vec<char> = "0123456789X".chars()
                .filter(|c| ResidentIdNumber::parse(&format!("{body}{c}"), &t, NaiveDate::MAX).map_or_else(|e| e != IdNumberError::CheckDigit, |_| true))
                .collect();
            prop_assert_eq!(valid, vec![check_char(body.as_bytes()).unwrap_or('?')]);
        }
    }
}
