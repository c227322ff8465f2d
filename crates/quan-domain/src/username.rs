//! Staff usernames.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A staff login name: 3–32 characters of lowercase ASCII letters, digits,
/// `.`, `_` or `-`, starting with a letter. Lowercase only, so `Alice` and
/// `alice` cannot be two different accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a string is not a username.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("a username has 3 to 32 characters")]
    Length,
    #[error("a username starts with a letter a-z")]
    Start,
    #[error("a username has only lowercase letters a-z, digits, '.', '_' and '-'")]
    Characters,
}

impl Username {
    pub const LEN_MIN: usize = 3;
    pub const LEN_MAX: usize = 32;

    pub fn parse(s: &str) -> Result<Username, UsernameError> {
        if s.len() < Self::LEN_MIN || s.len() > Self::LEN_MAX {
            return Err(UsernameError::Length);
        }
        if !s.as_bytes()[0].is_ascii_lowercase() {
            return Err(UsernameError::Start);
        }
        let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-');
        if !s.bytes().all(ok) {
            return Err(UsernameError::Characters);
        }
        Ok(Username(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Username::parse(&s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lowercase_names_are_usernames() {
        assert!(Username::parse("yichang.official-1").is_ok());
    }

    #[test]
    fn names_with_capitals_spaces_or_a_leading_digit_are_rejected() {
        assert_eq!(Username::parse("Alice"), Err(UsernameError::Start));
        assert_eq!(Username::parse("al ice"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("1alice"), Err(UsernameError::Start));
        assert_eq!(Username::parse("al"), Err(UsernameError::Length));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::Length));
    }
}
