//! The files settlement reads: the bank's confirmation of a payout
//! (`settlement_id,paid_fen,bank_ref`) and a payment channel's bill
//! (`order_id,amount,discount,time`, amounts in yuan, time in RFC 3339).
//! Read the same way by `quan settle` and the console; every unreadable
//! line is named, never skipped silently.

use quan_domain::Fen;

use crate::settlement::{BillLine, PayoutLine};

/// The payout file's columns, for the bank.
pub const PAYOUT_HEADER: [&str; 10] = [
    "settlement_id",
    "business_day",
    "campaign_id",
    "credit_code",
    "legal_name",
    "bank_name",
    "account_name",
    "account_number",
    "amount_fen",
    "amount_yuan",
];

/// The payout file's rows: the paid settlements (held ones are not sent).
pub fn payout_rows(all: &[(quan_store::Settlement, Option<PayoutLine>)]) -> Vec<[String; 10]> {
    all.iter()
        .filter_map(|(s, line)| {
            line.as_ref().map(|l| {
                [
                    s.id.to_string(),
                    s.business_day.to_string(),
                    s.campaign_id.to_string(),
                    l.credit_code.clone(),
                    l.legal_name.clone(),
                    l.bank_name.clone(),
                    l.account_name.clone(),
                    l.account_number.clone(),
                    s.amount.as_i64().to_string(),
                    s.amount.to_string(),
                ]
            })
        })
        .collect()
}

/// An unreadable line of a file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// The columns' positions by name, or which one is missing.
fn columns<const N: usize>(r: &mut csv::Reader<&[u8]>, names: [&str; N]) -> Result<[usize; N], String> {
    let headers = r.headers().map_err(|e| format!("the header does not read: {e}"))?.clone();
    let mut out = [0; N];
    for (i, name) in names.iter().enumerate() {
        out[i] = headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == *name)
            .ok_or_else(|| format!("there is no `{name}` column (expected {})", names.join(",")))?;
    }
    Ok(out)
}

/// One confirmed payout: settlement id, amount paid, the bank's reference.
pub type Paid = (uuid::Uuid, Fen, String);

/// The bank's confirmation: one [`Paid`] per readable line.
pub fn read_confirmation(text: &str) -> Result<(Vec<Paid>, Vec<LineError>), String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let [id_col, paid_col, ref_col] = columns(&mut r, ["settlement_id", "paid_fen", "bank_ref"])?;
    let (mut lines, mut bad) = (Vec::new(), Vec::new());
    for (n, rec) in r.records().enumerate() {
        let line = n + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                bad.push(LineError { line, message: e.to_string() });
                continue;
            }
        };
        let id = rec.get(id_col).unwrap_or_default().trim();
        let paid = rec.get(paid_col).unwrap_or_default().trim();
        match (id.parse::<uuid::Uuid>(), paid.parse::<i64>()) {
            (Ok(id), Ok(paid)) if paid >= 0 => {
                lines.push((id, Fen::new(paid), rec.get(ref_col).unwrap_or_default().trim().to_owned()));
            }
            (Ok(_), Ok(paid)) => bad.push(LineError { line, message: format!("a negative amount paid: {paid}") }),
            _ => bad.push(LineError {
                line,
                message: format!("not a settlement id and an amount in fen: `{id}`, `{paid}`"),
            }),
        }
    }
    Ok((lines, bad))
}

/// A payment channel's bill.
pub fn read_bill(text: &str) -> Result<(Vec<BillLine>, Vec<LineError>), String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let [o, a, d, t] = columns(&mut r, ["order_id", "amount", "discount", "time"])?;
    let (mut bill, mut bad) = (Vec::new(), Vec::new());
    for (n, rec) in r.records().enumerate() {
        let line = n + 2;
        let parsed = rec.map_err(|e| e.to_string()).and_then(|rec| {
            let get = |i: usize| rec.get(i).unwrap_or_default().trim().to_owned();
            let order_id = get(o);
            if order_id.is_empty() {
                return Err("order_id is empty".to_owned());
            }
            Ok(BillLine {
                line,
                order_id,
                amount: get(a).parse().map_err(|e| format!("amount `{}`: {e}", get(a)))?,
                discount: get(d).parse().map_err(|e| format!("discount `{}`: {e}", get(d)))?,
                at: chrono::DateTime::parse_from_rfc3339(&get(t))
                    .map_err(|e| format!("time `{}`: {e}", get(t)))?
                    .to_utc(),
            })
        });
        match parsed {
            Ok(b) => bill.push(b),
            Err(message) => bad.push(LineError { line, message }),
        }
    }
    Ok((bill, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_names_each_unreadable_line_and_keeps_the_rest() {
        let id = uuid::Uuid::from_u128(7);
        let text = format!("\u{feff}settlement_id,paid_fen,bank_ref\n{id},1200,B1\nnope,12,B2\n{id},-5,B3\n");
        let (lines, bad) = read_confirmation(&text).unwrap_or_default();
        assert_eq!(lines, vec![(id, Fen::new(1200), "B1".to_owned())]);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![3, 4]);
        assert!(read_confirmation("id,paid\n").is_err_and(|e| e.contains("settlement_id")));
    }

    #[test]
    fn a_bill_reads_yuan_and_times_and_names_bad_lines() {
        let text = "order_id,amount,discount,time\nA1,128.00,20.00,2026-12-05T10:00:00+08:00\n,1,1,2026-12-05T10:00:00+08:00\nA3,x,1,2026-12-05T10:00:00+08:00\n";
        let (bill, bad) = read_bill(text).unwrap_or_default();
        assert_eq!((bill.len(), bill[0].amount, bill[0].discount), (1, Fen::new(12_800), Fen::new(2_000)));
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![3, 4]);
    }
}
