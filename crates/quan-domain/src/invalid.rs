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

/// A control character (NUL, line breaks, tabs, DEL, C1) is refused in
/// every one-line text: PostgreSQL cannot store NUL, and nobody types one.
pub fn no_control(field: &str, value: &str) -> Result<(), Invalid> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(Invalid::new(
            field,
            "control_character",
            format!("must not contain control characters (found U+{:04X})", u32::from(c)),
        )),
        None => Ok(()),
    }
}

/// A trimmed, non-empty text of at most `max_chars` characters.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, Invalid> {
    let t = value.trim();
    ensure(!t.is_empty(), field, "required", || "must not be empty".into())?;
    no_control(field, t)?;
    ensure(t.chars().count() <= max_chars, field, "too_long", || format!("must have at most {max_chars} characters"))?;
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_with_a_control_character_is_refused_by_its_field_and_rule() {
        for bad in ["a\0b", "a\nb", "a\tb", "a\u{7f}", "a\u{85}b"] {
            let e = text("legal_name", bad, 50).err();
            assert_eq!(e.map(|e| (e.field, e.rule)), Some(("legal_name".to_owned(), "control_character")), "{bad:?}");
        }
        assert_eq!(text("name", " 宜昌 ", 50), Ok("宜昌".to_owned()));
    }
}
