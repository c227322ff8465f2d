//! The complaint figures of a daily report in its CSV and its workbook.

use std::fmt::Write as _;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use crate::complaints::figures::{ComplaintFigures, CountRow};

/// The totals: label and value.
fn totals(f: &ComplaintFigures) -> [(&'static str, u64); 9] {
    [
        ("当日受理投诉（件）", f.filed_day),
        ("累计受理投诉（件）", f.filed_total),
        ("累计办结（件）", f.closed_total),
        ("日终未办结（件）", f.open_at_day_end),
        ("日终超时未办（件）", f.overdue_at_day_end),
        ("按时首次答复（件）", f.answered_in_time),
        ("超时首次答复（件）", f.answered_late),
        ("按时办结（件）", f.closed_in_time),
        ("超时办结（件）", f.closed_late),
    ]
}

fn groups(f: &ComplaintFigures) -> [(&'static str, &[CountRow]); 3] {
    [("按类型", &f.by_kind), ("按区县", &f.by_district), ("按商户", &f.by_merchant)]
}

/// Rows of the `投诉` view: `投诉,<group>,<code>,<name>,<day>,<total>`.
pub fn csv_rows(f: &ComplaintFigures, out: &mut String, quote: fn(&str) -> String) {
    let cell = |s: &str| quote(&crate::csv_cell::cell(s));
    let _ = writeln!(out, "投诉,分组,代码,名称,当日（件）,累计（件）");
    for (label, v) in totals(f) {
        let _ = writeln!(out, "投诉,合计,,{},,{v}", cell(label));
    }
    for (group, rows) in groups(f) {
        for r in rows {
            let _ = writeln!(out, "投诉,{group},{},{},{},{}", cell(&r.code), cell(&r.name), r.day, r.total);
        }
    }
}

/// The `投诉` sheet: the totals, then each group with its day and total.
#[allow(clippy::cast_precision_loss)]
pub fn sheet(
    ws: &mut Worksheet,
    title: &str,
    f: &ComplaintFigures,
    head: &Format,
    bold: &Format,
) -> Result<(), XlsxError> {
    ws.set_name("投诉")?;
    ws.write_string_with_format(0, 0, title, bold)?;
    ws.set_column_width(0, 26)?;
    ws.set_column_width(1, 30)?;
    ws.set_column_width(2, 14)?;
    ws.set_column_width(3, 14)?;
    let mut y = 2u32;
    for (label, v) in totals(f) {
        ws.write_string(y, 0, label)?;
        ws.write_number(y, 1, v as f64)?;
        y += 1;
    }
    for (group, rows) in groups(f) {
        y += 1;
        for (c, h) in [group, "名称", "当日（件）", "累计（件）"].iter().enumerate() {
            ws.write_string_with_format(y, u16::try_from(c).unwrap_or(0), *h, head)?;
        }
        for r in rows {
            y += 1;
            ws.write_string(y, 0, &r.code)?;
            ws.write_string(y, 1, &r.name)?;
            ws.write_number(y, 2, r.day as f64)?;
            ws.write_number(y, 3, r.total as f64)?;
        }
        y += 1;
    }
    Ok(())
}
