//! Control characters in request bodies: refused at the edge, by the path
//! of the field that holds one. A body is scanned as bytes first (a JSON
//! string holds a control character only as an escape, or as DEL or C1 in
//! UTF-8), so the usual body costs one pass and no second parse.

use serde_json::Value;

/// Fields that may hold line breaks and tabs (free text people write).
pub(crate) const MULTI_LINE_FIELDS: &[&str] = &["reason", "note", "notes", "description", "text", "comment", "message"];

/// Whether the raw JSON may hold a control character in a string.
fn may_hold_control(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => match bytes.get(i + 1) {
                Some(b'u') => {
                    let hex = bytes.get(i + 2..i + 6).and_then(|h| std::str::from_utf8(h).ok());
                    let cp = hex.and_then(|h| u32::from_str_radix(h, 16).ok());
                    if cp.and_then(char::from_u32).is_some_and(char::is_control) {
                        return true;
                    }
                    i += 6;
                }
                Some(b'b' | b'f' | b'n' | b'r' | b't') => return true,
                _ => i += 2,
            },
            0x7f => return true,
            // C1 controls U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8.
            0xc2 if bytes.get(i + 1).is_some_and(|b| (0x80..=0x9f).contains(b)) => return true,
            _ => i += 1,
        }
    }
    false
}

/// The path of the first string (or key) holding a control character it
/// may not hold, as `serde_path_to_error` writes paths (`items[2].sku`).
fn first_control(v: &Value, path: &str, key: &str) -> Option<String> {
    match v {
        Value::String(s) => {
            let multi = MULTI_LINE_FIELDS.contains(&key);
            s.chars().any(|c| c.is_control() && !(multi && matches!(c, '\n' | '\r' | '\t'))).then(|| path.to_owned())
        }
        Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| first_control(x, &format!("{path}[{i}]"), key)),
        Value::Object(o) => o.iter().find_map(|(k, x)| {
            // A key is echoed in the answer: its control characters as escapes.
            let shown: String = k
                .chars()
                .map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() })
                .collect();
            let p = if path.is_empty() { shown } else { format!("{path}.{shown}") };
            if k.chars().any(char::is_control) {
                return Some(p);
            }
            first_control(x, &p, k)
        }),
        _ => None,
    }
}

/// The path of a field holding a control character, if the body has one.
pub fn control_character_field(bytes: &[u8]) -> Option<String> {
    if !may_hold_control(bytes) {
        return None;
    }
    let v: Value = serde_json::from_slice(bytes).ok()?;
    first_control(&v, "", "").map(|p| if p.is_empty() { ".".to_owned() } else { p })
}

/// Whether a percent-encoded path or query decodes to a control character
/// (`%00`, `%0A`, `%7F`, or a C1 control as `%C2%80`..`%C2%9F`).
pub fn percent_encoded_control(raw: &str) -> bool {
    let b = raw.as_bytes();
    let hex = |i: usize| {
        b.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    (0..b.len()).filter(|&i| b[i] == b'%').any(|i| match hex(i + 1) {
        Some(x) if x < 0x20 || x == 0x7f => true,
        Some(0xc2) => b.get(i + 3) == Some(&b'%') && hex(i + 4).is_some_and(|y| (0x80..=0x9f).contains(&y)),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_controls_are_found_and_other_escapes_pass() {
        assert!(percent_encoded_control("q=a%00b"));
        assert!(percent_encoded_control("q=%0a"));
        assert!(percent_encoded_control("q=%C2%85"));
        assert!(!percent_encoded_control("q=%E5%AE%9C%E6%98%8C&limit=5"));
        assert!(!percent_encoded_control("q=100%"));
    }

    #[test]
    fn a_nul_anywhere_is_found_by_its_path() {
        let body = br#"{"application": {"legal_name": "a\u0000b"}, "items": [{"sku": "x"}, {"sku": "\u0001"}]}"#;
        assert_eq!(control_character_field(body).as_deref(), Some("application.legal_name"));
        assert_eq!(
            control_character_field(br#"{"items": [{"sku": "x"}, {"sku": "\u001f"}]}"#).as_deref(),
            Some("items[1].sku")
        );
        assert_eq!(control_character_field("{\"name\": \"a\u{7f}\"}".as_bytes()).as_deref(), Some("name"));
        assert_eq!(control_character_field("{\"name\": \"a\u{85}\"}".as_bytes()).as_deref(), Some("name"));
        assert_eq!(control_character_field(br#"{"a\u0001b": 1}"#).as_deref(), Some("a\\u{1}b"), "echoed escaped");
    }

    #[test]
    fn ordinary_text_and_line_breaks_in_free_text_pass() {
        assert_eq!(control_character_field(r#"{"name": "宜昌\\u0000 \"x\""}"#.as_bytes()), None);
        assert_eq!(control_character_field(br#"{"reason": "line one\nline two"}"#), None);
        assert_eq!(control_character_field(br#"{"name": "line one\nline two"}"#).as_deref(), Some("name"));
    }
}
