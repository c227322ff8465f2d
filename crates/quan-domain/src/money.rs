//! Money is an integer count of fen (1/100 yuan). There are no floats anywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of money in fen. May be negative (a balance change), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(i64);

/// Why a yuan string could not become fen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FenParseError {
    #[error("amount is empty")]
    Empty,
    #[error("amount `{0}` is not a number of yuan like 12.34")]
    NotANumber(String),
    #[error("amount `{0}` has more than two decimals (the smallest unit is one fen)")]
    TooPrecise(String),
    #[error("amount `{0}` is too large")]
    TooLarge(String),
}

impl Fen {
    pub const ZERO: Fen = Fen(0);
    /// The largest amount quan accepts anywhere: 10^15 fen, ten trillion yuan.
    /// Keeping amounts far from `i64::MAX` means sums of many amounts still fit.
    pub const AMOUNT_MAX: Fen = Fen(1_000_000_000_000_000);

    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Option<Fen> {
        match yuan.checked_mul(100) {
            Some(f) => Some(Fen(f)),
            None => None,
        }
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, times: i64) -> Option<Fen> {
        self.0.checked_mul(times).map(Fen)
    }

    pub fn checked_neg(self) -> Option<Fen> {
        self.0.checked_neg().map(Fen)
    }

    /// `self * numerator / denominator`, rounded toward zero, computed in i128
    /// so that the intermediate product cannot overflow. `None` when the
    /// denominator is zero or the result does not fit.
    pub fn checked_mul_div(self, numerator: i64, denominator: i64) -> Option<Fen> {
        if denominator == 0 {
            return None;
        }
        let r = i128::from(self.0) * i128::from(numerator) / i128::from(denominator);
        i64::try_from(r).ok().map(Fen)
    }

    /// Sum of many amounts; `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(items: I) -> Option<Fen> {
        items.into_iter().try_fold(Fen::ZERO, Fen::checked_add)
    }
}

impl fmt::Display for Fen {
    /// Yuan with exactly two decimals: `1234` fen is `12.34`, `-5` is `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Fen {
    type Err = FenParseError;

    /// Parses yuan: `12`, `12.3`, `12.34`, `-0.05`, `+1.00`. Rejects
    /// `12.345`, `1e3`, `12.`, `.5`, spaces, and amounts beyond `AMOUNT_MAX`.
    fn from_str(s: &str) -> Result<Fen, FenParseError> {
        if s.is_empty() {
            return Err(FenParseError::Empty);
        }
        let bad = || FenParseError::NotANumber(s.to_owned());
        let (negative, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (whole, frac) = match body.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (body, None),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) {
            return Err(bad());
        }
        let frac_fen: i64 = match frac {
            None => 0,
            Some(f) if !digits(f) => return Err(bad()),
            Some(f) if f.len() > 2 => return Err(FenParseError::TooPrecise(s.to_owned())),
            Some(f) if f.len() == 1 => i64::from(f.as_bytes()[0] - b'0') * 10,
            Some(f) => i64::from(f.as_bytes()[0] - b'0') * 10 + i64::from(f.as_bytes()[1] - b'0'),
        };
        let too_large = || FenParseError::TooLarge(s.to_owned());
        let whole_yuan: i64 = whole.parse().map_err(|_| too_large())?;
        let abs = whole_yuan.checked_mul(100).and_then(|w| w.checked_add(frac_fen)).ok_or_else(too_large)?;
        if abs > Fen::AMOUNT_MAX.0 {
            return Err(too_large());
        }
        Ok(Fen(if negative { -abs } else { abs }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_fen_as_yuan_with_two_decimals() {
        assert_eq!(Fen::new(1234).to_string(), "12.34");
        assert_eq!(Fen::new(5).to_string(), "0.05");
        assert_eq!(Fen::new(-5).to_string(), "-0.05");
        assert_eq!(Fen::new(100).to_string(), "1.00");
        assert_eq!(Fen::new(i64::MIN).to_string(), "-92233720368547758.08");
    }

    #[test]
    fn parses_yuan_with_zero_one_or_two_decimals() {
        assert_eq!("12.34".parse(), Ok(Fen::new(1234)));
        assert_eq!("12.3".parse(), Ok(Fen::new(1230)));
        assert_eq!("12".parse(), Ok(Fen::new(1200)));
        assert_eq!("-0.05".parse(), Ok(Fen::new(-5)));
        assert_eq!("+1.00".parse(), Ok(Fen::new(100)));
        assert_eq!("0".parse(), Ok(Fen::ZERO));
    }

    #[test]
    fn rejects_amounts_that_are_not_plain_yuan() {
        for bad in ["", "abc", "12.", ".5", "1e3", " 12", "12 ", "1,000", "--1", "12.3.4", "¥12"] {
            assert!(bad.parse::<Fen>().is_err(), "{bad:?} should be rejected");
        }
        assert_eq!("12.345".parse::<Fen>(), Err(FenParseError::TooPrecise("12.345".into())));
        assert!(matches!("99999999999999999999".parse::<Fen>(), Err(FenParseError::TooLarge(_))));
        assert!(matches!("10000000000000.01".parse::<Fen>(), Err(FenParseError::TooLarge(_))));
    }

    #[test]
    fn checked_arithmetic_reports_overflow_instead_of_wrapping() {
        assert_eq!(Fen::new(i64::MAX).checked_add(Fen::new(1)), None);
        assert_eq!(Fen::new(i64::MIN).checked_sub(Fen::new(1)), None);
        assert_eq!(Fen::new(i64::MAX).checked_mul(2), None);
        assert_eq!(Fen::new(i64::MIN).checked_neg(), None);
        assert_eq!(Fen::new(100).checked_add(Fen::new(-30)), Some(Fen::new(70)));
    }

    #[test]
    fn mul_div_rounds_toward_zero_without_intermediate_overflow() {
        assert_eq!(Fen::new(i64::MAX).checked_mul_div(3, 3), Some(Fen::new(i64::MAX)));
        assert_eq!(Fen::new(10_000).checked_mul_div(15, 100), Some(Fen::new(1500)));
        assert_eq!(Fen::new(999).checked_mul_div(15, 100), Some(Fen::new(149)));
        assert_eq!(Fen::new(1).checked_mul_div(1, 0), None);
    }

    #[test]
    fn serializes_as_an_integer_number_of_fen() {
        assert_eq!(serde_json::to_string(&Fen::new(1234)).ok(), Some("1234".into()));
        assert_eq!(serde_json::from_str::<Fen>("-7").ok(), Some(Fen::new(-7)));
    }

    proptest! {
        #[test]
        fn display_then_parse_gives_back_the_same_amount(f in -Fen::AMOUNT_MAX.0..=Fen::AMOUNT_MAX.0) {
            prop_assert_eq!(Fen::new(f).to_string().parse::<Fen>(), Ok(Fen::new(f)));
        }

        #[test]
        fn addition_then_subtraction_is_identity_when_it_fits(a in any::<i64>(), b in any::<i64>()) {
            if let Some(s) = Fen::new(a).checked_add(Fen::new(b)) {
                prop_assert_eq!(s.checked_sub(Fen::new(b)), Some(Fen::new(a)));
            } else {
                prop_assert!(i128::from(a) + i128::from(b) > i128::from(i64::MAX)
                    || i128::from(a) + i128::from(b) < i128::from(i64::MIN));
            }
        }

        #[test]
        fn sum_matches_wide_integer_sum_or_reports_overflow(xs in proptest::collection::vec(any::<i64>(), 0..20)) {
            let wide: i128 = xs.iter().map(|&x| i128::from(x)).sum();
            let got = Fen::checked_sum(xs.iter().map(|&x| Fen::new(x)));
            // Partial sums may overflow even if the total fits; then None is right too.
            if let Some(g) = got {
                prop_assert_eq!(i128::from(g.as_i64()), wide);
            }
        }
    }
}
