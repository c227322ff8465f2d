//! Figures as people read them in the CLI's prose: amounts in yuan and
//! counts with thousands separators, answers by kind in words.

use std::collections::BTreeMap;

/// Yuan with thousands separators, as officials read amounts: `12,360.00`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", grouped(a / 100), a % 100)
}

/// A count with thousands separators: `200,000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Answers by kind, in words: `claimed 1,234 · sold_out 56`, or `none`.
pub fn tally(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter().map(|(k, n)| format!("{k} {}", grouped(*n as u64))).collect::<Vec<_>>().join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_counts_read_with_thousands_separators_and_answers_in_words() {
        assert_eq!(yuan(1_000_000_000), "10,000,000.00");
        assert_eq!(yuan(-123_456), "-1,234.56");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(grouped(200_000), "200,000");
        assert_eq!(grouped(999), "999");
        let m: BTreeMap<String, usize> = [("claimed".to_owned(), 1_234), ("sold_out".to_owned(), 5)].into();
        assert_eq!(tally(&m), "claimed 1,234 · sold_out 5");
        assert_eq!(tally(&BTreeMap::new()), "none");
    }
}
