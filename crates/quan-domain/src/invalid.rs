//! A rejection of an official's input that names the field and the rule.

use std::fmt;

/// `field` is a path into the submitted document (`batches[1].kinds[0].discount.off_fen`);
/// `rule` is a stable snake_case code (`budget_exceeded`, `opening_time_in_past`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub rule: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Invalid {
        Invalid { field: field.into(), rule, message: message.into() }
    }

    /// The same error, one level deeper: `kinds[0]` + `off_fen` → `kinds[0].off_fen`.
    pub fn under(mut self, prefix: &str) -> Invalid {
        self.field = if self.field.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", self.field) };
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.rule)
    }
}

impl std::error::Error for Invalid {}

/// Shorthand for checks: `ensure(cond, field, rule, message)`.
pub fn ensure(ok: bool, field: &str, rule: &'static str, message: impl FnOnce() -> String) -> Result<(), Invalid> {
    if ok { Ok(()) } else { Err(Invalid::new(field, rule, message())) }
}

/// A trimmed, non-empty text of at most `max_chars` characters.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, Invalid> {
    let t = value.trim();
    ensure(!t.is_empty(), field, "required", || "must not be empty".into())?;
    ensure(t.chars().count() <= max_chars, field, "too_long", || format!("must have at most {max_chars} characters"))?;
    Ok(t.to_owned())
}
