//! `quan settle --date D` and `quan settle confirm FILE`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use quan_domain::Fen;
use quan_engine::settlement::{Confirmation, SettlementRun};

use crate::config::Config;
use crate::setup;

/// Settles business day `date`, writes the payout file for the bank into
/// `out` and returns the summary.
pub async fn run(config: &Config, date: &str, out: &Path) -> anyhow::Result<String> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .with_context(|| format!("--date must be a day like 2026-12-05, not `{date}`"))?;
    let engine = setup::engine(config).await?;
    let run = engine.settle(day).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (csv_path, xlsx_path) = write_payout(&run, out)?;
    let (mut paid, mut held, mut total_paid, mut total_held) = (0usize, 0usize, Fen::ZERO, Fen::ZERO);
    let mut text = String::new();
    for (s, line) in &run.all {
        if line.is_some() {
            paid += 1;
            total_paid = total_paid.checked_add(s.amount).context("total overflows")?;
        } else {
            held += 1;
            total_held = total_held.checked_add(s.amount).context("total overflows")?;
            let _ = writeln!(text, "  held: merchant {} {} yuan ({})", s.merchant_id, s.amount, s.hold_reason);
        }
    }
    Ok(format!(
        "business day {day}: {} settlement rows new in this run ({} already recorded before)\n  paid: {paid} merchants, {total_paid} yuan -> {} and {}\n{text}  held: {held} merchants, {total_held} yuan\n",
        run.new.len(),
        run.all.len() - run.new.len(),
        csv_path.display(),
        xlsx_path.display()
    ))
}

const PAYOUT_HEADER: [&str; 10] = [
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

/// Writes the payout file for the bank, `payout-D.csv` and `payout-D.xlsx`
/// (paid rows only; held ones are not sent), and returns their paths.
pub fn write_payout(run: &SettlementRun, out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let day = run.day;
    let rows: Vec<[String; 10]> = run
        .all
        .iter()
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
        .collect();
    let csv_path = out.join(format!("payout-{day}.csv"));
    let mut w = csv::Writer::from_path(&csv_path).with_context(|| format!("cannot write {}", csv_path.display()))?;
    w.write_record(PAYOUT_HEADER)?;
    for r in &rows {
        w.write_record(r)?;
    }
    w.flush()?;
    let xlsx_path = out.join(format!("payout-{day}.xlsx"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let head = rust_xlsxwriter::Format::new().set_bold();
    // Account numbers and ids stay text (a spreadsheet would round long digits).
    let ws = wb.add_worksheet();
    ws.set_name("付款")?;
    for (c, h) in PAYOUT_HEADER.iter().enumerate() {
        ws.write_string_with_format(0, u16::try_from(c)?, *h, &head)?;
    }
    ws.set_freeze_panes(1, 0)?;
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1)?;
        for (c, v) in r.iter().enumerate() {
            let col = u16::try_from(c)?;
            if c == 8 {
                #[allow(clippy::cast_precision_loss)]
                ws.write_number(row, col, v.parse::<i64>().unwrap_or(0) as f64)?;
            } else {
                ws.write_string(row, col, v)?;
            }
        }
    }
    wb.save(&xlsx_path).with_context(|| format!("cannot write {}", xlsx_path.display()))?;
    Ok((csv_path, xlsx_path))
}

/// Reads the bank's confirmation (CSV with `settlement_id,paid_fen,bank_ref`)
/// and reports every line; returns whether everything matched.
pub async fn confirm(config: &Config, file: &Path) -> anyhow::Result<(String, bool)> {
    let mut r = csv::Reader::from_path(file).with_context(|| format!("cannot read {}", file.display()))?;
    let headers = r.headers()?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h.trim() == name).with_context(|| {
            format!("{} has no `{name}` column (expected settlement_id,paid_fen,bank_ref)", file.display())
        })
    };
    let (id_col, paid_col, ref_col) = (col("settlement_id")?, col("paid_fen")?, col("bank_ref")?);
    let mut lines = Vec::new();
    let mut out = String::new();
    let mut ok = true;
    for (n, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("line {}", n + 2))?;
        let line = n + 2;
        let id = rec.get(id_col).unwrap_or_default().trim();
        let paid = rec.get(paid_col).unwrap_or_default().trim();
        let (Ok(id), Ok(paid)) = (id.parse::<uuid::Uuid>(), paid.parse::<i64>()) else {
            ok = false;
            let _ = writeln!(out, "line {line}: not a settlement id and an amount in fen: `{id}`, `{paid}`");
            continue;
        };
        if paid < 0 {
            ok = false;
            let _ = writeln!(out, "line {line}: a negative amount paid: {paid}");
            continue;
        }
        lines.push((id, Fen::new(paid), rec.get(ref_col).unwrap_or_default().trim().to_owned()));
    }
    if lines.is_empty() && ok {
        bail!("{} holds no confirmation lines", file.display());
    }
    let engine = setup::engine(config).await?;
    for c in engine.confirm_payouts(&lines).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        match c {
            Confirmation::Matched { id, amount } => {
                let _ = writeln!(out, "{id}: confirmed, {amount} yuan");
            }
            Confirmation::AmountDiffers { id, instructed, paid } => {
                ok = false;
                let _ = writeln!(out, "{id}: MISMATCH: instructed {instructed} yuan, the bank paid {paid}");
            }
            Confirmation::UnknownSettlement { id } => {
                ok = false;
                let _ = writeln!(out, "{id}: MISMATCH: no such settlement");
            }
            Confirmation::NotAwaitingPayment { id, status } => {
                ok = false;
                let _ = writeln!(out, "{id}: MISMATCH: not awaiting payment (it is {status})");
            }
        }
    }
    Ok((out, ok))
}
