//! GB/T 2260 administrative division codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Province-level codes in GB/T 2260 (the first two digits of every division
/// code, and of every resident ID number).
pub const PROVINCE_CODES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];

/// Why a string is not a division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    #[error("`{0}` is not a division code: expected {1} digits")]
    WrongLength(String, &'static str),
    #[error("`{0}` is not a division code: only digits 0-9 are allowed")]
    NotDigits(String),
    #[error("`{0}` does not start with a GB/T 2260 province code")]
    UnknownProvince(String),
}

pub(crate) fn check_digits(s: &str, lengths: &[usize], expect: &'static str) -> Result<(), DivisionCodeError> {
    let shown = || s.chars().take(16).collect::<String>();
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DivisionCodeError::NotDigits(shown()));
    }
    if !lengths.contains(&s.len()) {
        return Err(DivisionCodeError::WrongLength(shown(), expect));
    }
    let province: u8 = s[..2].parse().map_err(|_| DivisionCodeError::NotDigits(shown()))?;
    if !PROVINCE_CODES.contains(&province) {
        return Err(DivisionCodeError::UnknownProvince(shown()));
    }
    Ok(())
}

/// A county-level division (district, county, county-level city): six digits,
/// e.g. `420502` (Xiling District, Yichang).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DistrictCode([u8; 6]);

impl DistrictCode {
    pub fn parse(s: &str) -> Result<DistrictCode, DivisionCodeError> {
        check_digits(s, &[6], "6")?;
        let mut b = [0u8; 6];
        b.copy_from_slice(s.as_bytes());
        Ok(DistrictCode(b))
    }

    pub fn as_str(&self) -> &str {
        // The bytes were checked to be ASCII digits at construction.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// The prefecture (city) code: the first four digits.
    pub fn city_prefix(&self) -> &str {
        &self.as_str()[..4]
    }
}

impl fmt::Display for DistrictCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DistrictCode {
    type Err = DivisionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DistrictCode::parse(s)
    }
}

impl TryFrom<String> for DistrictCode {
    type Error = DivisionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DistrictCode::parse(&s)
    }
}

impl From<DistrictCode> for String {
    fn from(d: DistrictCode) -> String {
        d.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_six_digit_code_with_a_known_province_is_a_district() {
        let d = DistrictCode::parse("420502").ok();
        assert_eq!(d.map(|d| d.to_string()), Some("420502".into()));
        assert_eq!(d.map(|d| d.city_prefix().to_owned()), Some("4205".into()));
    }

    #[test]
    fn codes_of_the_wrong_length_or_with_letters_or_an_unknown_province_are_rejected() {
        assert!(matches!(DistrictCode::parse("4205"), Err(DivisionCodeError::WrongLength(..))));
        assert!(matches!(DistrictCode::parse("42050a"), Err(DivisionCodeError::NotDigits(_))));
        assert!(matches!(DistrictCode::parse("990000"), Err(DivisionCodeError::UnknownProvince(_))));
        assert!(matches!(DistrictCode::parse("４２０５０２"), Err(DivisionCodeError::NotDigits(_))));
    }

    #[test]
    fn serde_goes_through_the_same_parser() {
        assert!(serde_json::from_str::<DistrictCode>("\"420502\"").is_ok());
        assert!(serde_json::from_str::<DistrictCode>("\"42\"").is_err());
    }
}
