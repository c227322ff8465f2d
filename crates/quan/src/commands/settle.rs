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
    let (run, (csv_path, xlsx_path)) = settle_day(&engine, day, out).await?;
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

use quan_engine::settlement_files::PAYOUT_HEADER;

/// Settles business day `day` and writes its payout file and statements
/// into `out`: the one way every caller settles (`quan settle`, the serve
/// job, the demo), so no settlement that pays is left without its file.
pub async fn settle_day(
    engine: &quan_engine::Engine,
    day: chrono::NaiveDate,
    out: &Path,
) -> anyhow::Result<(SettlementRun, (PathBuf, PathBuf))> {
    let run = engine.settle(day).await.map_err(|e| anyhow::anyhow!("settling {day}: {e}"))?;
    let files = write_payout(&run, out).with_context(|| {
        format!("{day} is settled, but its payout file could not be written; run `quan settle --date {day}` again")
    })?;
    Ok((run, files))
}

/// Writes the payout file for the bank, `payout-D.csv` and `payout-D.xlsx`
/// (paid rows only; held ones are not sent), and the merchants' statements
/// `statement-D.csv`; returns the payout files' paths.
pub fn write_payout(run: &SettlementRun, out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let day = run.day;
    let rows = quan_engine::settlement_files::payout_rows(&run.all);
    let csv_path = out.join(format!("payout-{day}.csv"));
    let mut w = crate::files::CsvOut::create(&csv_path)?;
    w.record(PAYOUT_HEADER)?;
    for r in &rows {
        w.record(r)?;
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
    // The merchants' statements of the day (对账单), held ones included.
    let st_path = out.join(format!("statement-{day}.csv"));
    let mut w = crate::files::CsvOut::create(&st_path)?;
    w.record([
        "campaign_id",
        "merchant_id",
        "legal_name",
        "redemptions",
        "discount_fen",
        "refunds",
        "subsidy_returned_fen",
        "settled_fen",
        "status",
        "hold_reason",
    ])?;
    for s in &run.statements {
        w.record([
            s.campaign_id.to_string(),
            s.merchant_id.to_string(),
            s.legal_name.clone(),
            s.redemptions.to_string(),
            s.discount.to_string(),
            s.refunds.to_string(),
            s.subsidy_returned.to_string(),
            s.settled.as_i64().to_string(),
            s.status.clone(),
            s.hold_reason.clone(),
        ])?;
    }
    w.flush()?;
    Ok((csv_path, xlsx_path))
}

/// Reads the bank's confirmation (CSV with `settlement_id,paid_fen,bank_ref`)
/// and reports every line; returns whether everything matched.
pub async fn confirm(config: &Config, file: &Path) -> anyhow::Result<(String, bool)> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (lines, bad) = quan_engine::settlement_files::read_confirmation(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut out = String::new();
    let mut ok = bad.is_empty();
    for b in &bad {
        let _ = writeln!(out, "line {}: {}", b.line, b.message);
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

/// Reads a payment channel's bill (CSV with `order_id,amount,discount,time`;
/// amounts in yuan like `128.00`, time in RFC 3339), reconciles it with the
/// redemptions, writes every difference to `FILE.mismatches.csv` and
/// returns the report and whether everything matched.
pub async fn reconcile(config: &Config, file: &Path) -> anyhow::Result<(String, bool)> {
    use quan_engine::settlement::Mismatch;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (bill, unreadable) =
        quan_engine::settlement_files::read_bill(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut out = String::new();
    let bad = unreadable.len();
    for b in &unreadable {
        let _ = writeln!(out, "line {}: unreadable: {}", b.line, b.message);
    }
    let engine = setup::engine(config).await?;
    let (matched, diffs) = engine.reconcile(&bill).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = PathBuf::from(format!("{}.mismatches.csv", file.display()));
    let mut w = crate::files::CsvOut::create(&report)?;
    w.record(["line", "order_id", "difference", "bill", "quan"])?;
    for m in &diffs {
        let (line, order, what, bill_v, quan_v) = match m {
            Mismatch::NotInQuan { line, order_id } => {
                (line.to_string(), order_id.clone(), "not_in_quan", String::new(), String::new())
            }
            Mismatch::NotInBill { redemption, order_id } => {
                (String::new(), order_id.clone(), "not_in_bill", String::new(), redemption.to_string())
            }
            Mismatch::AmountDiffers { line, order_id, bill, quan } => {
                (line.to_string(), order_id.clone(), "amount_differs", bill.to_string(), quan.to_string())
            }
            Mismatch::DiscountDiffers { line, order_id, bill, quan } => {
                (line.to_string(), order_id.clone(), "discount_differs", bill.to_string(), quan.to_string())
            }
            Mismatch::Ambiguous { line, order_id, redemptions } => {
                (line.to_string(), order_id.clone(), "ambiguous", String::new(), format!("{redemptions} redemptions"))
            }
        };
        let _ = writeln!(out, "{what}: order {order} (line {line}) bill {bill_v} quan {quan_v}");
        w.record([line, order, what.to_owned(), bill_v, quan_v])?;
    }
    w.flush()?;
    let ok = diffs.is_empty() && bad == 0;
    let summary = format!(
        "{} bill lines: {matched} matched, {} differences, {bad} unreadable -> {}\n",
        bill.len() + bad,
        diffs.len(),
        report.display()
    );
    Ok((summary + &out, ok))
}
