//! Mainland China mobile numbers, the residents' login name.

use std::fmt;

/// An 11-digit mainland mobile number (`1[3-9]` followed by 9 digits).
/// Its `Debug` and `Display` show only the masked form; the full number is
/// available through `expose()` for the SMS gateway and the keyed hash.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a string is not a mobile number. The input is never echoed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("a mobile number has 11 digits")]
    WrongLength,
    #[error("a mobile number has only digits")]
    NotDigits,
    #[error("a mainland mobile number starts with 13 to 19")]
    BadPrefix,
}

impl PhoneNumber {
    /// Accepts `13812345678`, also written `+86 138 1234 5678` or `138-1234-5678`.
    pub fn parse(s: &str) -> Result<PhoneNumber, PhoneError> {
        let trimmed = s.trim();
        let no_cc = trimmed.strip_prefix("+86").or_else(|| trimmed.strip_prefix("0086")).unwrap_or(trimmed);
        let digits: String = no_cc.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::NotDigits);
        }
        if digits.len() != 11 {
            return Err(PhoneError::WrongLength);
        }
        let b = digits.as_bytes();
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(PhoneError::BadPrefix);
        }
        Ok(PhoneNumber(digits))
    }

    /// The full number. Only for the SMS gateway and for keyed hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****5678`: the form shown anywhere a person could read it.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spellings_of_a_mobile_number_parse_to_the_same_number() {
        for s in ["13812345678", "+86 138 1234 5678", "138-1234-5678", "008613812345678"] {
            assert_eq!(PhoneNumber::parse(s).map(|p| p.expose().to_owned()), Ok("13812345678".into()), "{s}");
        }
    }

    #[test]
    fn a_number_is_masked_wherever_it_is_printed() {
        let p = PhoneNumber::parse("13812345678").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.to_string(), "138****5678");
        assert_eq!(format!("{p:?}"), "PhoneNumber(138****5678)");
    }

    #[test]
    fn landlines_short_numbers_and_letters_are_rejected() {
        assert_eq!(PhoneNumber::parse("02787654321"), Err(PhoneError::BadPrefix));
        assert_eq!(PhoneNumber::parse("12812345678"), Err(PhoneError::BadPrefix));
        assert_eq!(PhoneNumber::parse("1381234567"), Err(PhoneError::WrongLength));
        assert_eq!(PhoneNumber::parse("1381234567a"), Err(PhoneError::NotDigits));
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::WrongLength));
    }
}
