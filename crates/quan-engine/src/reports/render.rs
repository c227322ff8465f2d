//! The daily report as CSV and as an XLSX workbook (one sheet per view,
//! Chinese headers with units, yuan formats, frozen headers, charts). Both
//! come from the stored snapshot, so they are the same bytes every time.

use std::fmt::Write as _;

use rust_xlsxwriter::{Chart, ChartType, DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::{DailyReport, Figures, Row};

/// How a column's value is shown.
#[derive(Clone, Copy)]
enum Kind {
    Count,
    Yuan,
    /// Basis points shown as a percentage.
    Rate,
    /// ×100 shown as a ratio.
    Ratio,
}

/// The figure columns, each for the day and cumulative: header (with unit),
/// kind, and the value in its integer unit (none: not applicable).
type Getter = fn(&Figures) -> Option<i64>;
const COLUMNS: [(&str, Kind, Getter); 17] = [
    ("发券数（张）", Kind::Count, |f| f.issued.map(count)),
    ("发券面值（元）", Kind::Yuan, |f| f.issued_face_fen),
    ("抢券用户数（人）", Kind::Count, |f| f.claimers.map(count)),
    ("核销用户数（人）", Kind::Count, |f| Some(count(f.redeemers))),
    ("核销笔数（笔）", Kind::Count, |f| Some(count(f.redemptions))),
    ("订单金额（元）", Kind::Yuan, |f| Some(f.order_fen)),
    ("核销金额（元）", Kind::Yuan, |f| Some(f.subsidy_fen)),
    ("平台配套优惠（元）", Kind::Yuan, |f| Some(f.platform_match_fen)),
    ("商户让利（元）", Kind::Yuan, |f| Some(f.merchant_match_fen)),
    ("退款笔数（笔）", Kind::Count, |f| Some(count(f.refunds))),
    ("退款金额（元）", Kind::Yuan, |f| Some(f.refunded_fen)),
    ("退回补贴（元）", Kind::Yuan, |f| Some(f.subsidy_returned_fen)),
    ("净订单金额（元）", Kind::Yuan, |f| Some(f.net_order_fen)),
    ("净核销金额（元）", Kind::Yuan, |f| Some(f.net_subsidy_fen)),
    ("核销率（%）", Kind::Rate, |f| f.redemption_rate_bp),
    ("拉动比（倍）", Kind::Ratio, |f| f.leverage_x100),
    ("参与商户数（家）", Kind::Count, |f| Some(count(f.merchants))),
];

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn text(kind: Kind, v: Option<i64>) -> String {
    let Some(v) = v else { return String::new() };
    match kind {
        Kind::Count => v.to_string(),
        Kind::Yuan | Kind::Rate | Kind::Ratio => {
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            format!("{sign}{}.{:02}", a / 100, a % 100)
        }
    }
}

/// Scale rows from the largest merchants down (大型, 中型, 小型, 微型), then any other.
fn by_size(rows: &[Row]) -> Vec<&Row> {
    let rank = |r: &Row| ["large", "medium", "small", "micro"].iter().position(|s| r.scale.as_deref() == Some(*s));
    let mut v: Vec<&Row> = rows.iter().collect();
    v.sort_by_key(|r| rank(r).unwrap_or(usize::MAX));
    v
}

/// The views of a report in order: (sheet name, key headers, rows, key cells of a row).
type Keys = fn(&Row) -> Vec<String>;
fn views(r: &DailyReport) -> Vec<(&'static str, &'static [&'static str], Vec<&Row>, Keys)> {
    let mut summary = vec![&r.total];
    summary.extend(r.batches.iter());
    vec![
        ("汇总", &["批次"], summary, |row| vec![row.batch_name.clone().unwrap_or_else(|| "全部批次".into())]),
        ("行业", &["行业"], r.industries.iter().collect(), |row| {
            vec![row.industry_name.clone().unwrap_or_default()]
        }),
        ("区县", &["区县代码", "区县"], r.districts.iter().collect(), |row| {
            vec![row.district.clone().unwrap_or_default(), row.district_name.clone().unwrap_or_default()]
        }),
        ("商户规模", &["规模"], by_size(&r.scales), |row| vec![row.scale_name.clone().unwrap_or_default()]),
        ("明细", &["批次", "行业", "区县代码", "区县"], r.cells.iter().collect(), |row| {
            vec![
                row.batch_name.clone().unwrap_or_default(),
                row.industry_name.clone().unwrap_or_default(),
                row.district.clone().unwrap_or_default(),
                row.district_name.clone().unwrap_or_default(),
            ]
        }),
    ]
}

/// One CSV of every view: `视图` names the view, keys follow, then the
/// day's and the cumulative figures (amounts in yuan).
pub fn csv(r: &DailyReport) -> String {
    let mut out = String::from(crate::csv_cell::BOM);
    let mut head =
        vec!["视图".to_owned(), "批次".into(), "行业".into(), "区县代码".into(), "区县".into(), "规模".into()];
    for prefix in ["当日", "累计"] {
        head.extend(COLUMNS.iter().map(|(h, _, _)| format!("{prefix}{h}")));
    }
    let _ = writeln!(out, "{}", head.join(","));
    for (name, _, rows, _) in views(r) {
        for row in rows {
            let mut cells = vec![
                name.to_owned(),
                row.batch_name.clone().unwrap_or_default(),
                row.industry_name.clone().unwrap_or_default(),
                row.district.clone().unwrap_or_default(),
                row.district_name.clone().unwrap_or_default(),
                row.scale_name.clone().unwrap_or_default(),
            ];
            for f in [&row.day, &row.cumulative] {
                cells.extend(COLUMNS.iter().map(|(_, k, g)| text(*k, g(f))));
            }
            let cells: Vec<String> = cells.into_iter().map(|c| quote(&crate::csv_cell::cell(&c))).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
    }
    // How the figures are attributed, as rows of their own view.
    for note in &r.attribution {
        let _ = writeln!(out, "说明,{}", quote(&crate::csv_cell::cell(note)));
    }
    super::complaints_sheet::csv_rows(&r.complaints, &mut out, quote);
    crate::risk::report::csv_rows(&r.pauses, &mut out, quote);
    crate::risk::figures::csv_rows(&r.risk, &mut out, quote);
    super::channels::csv_rows(&r.channels, &mut out, quote);
    out
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

struct Formats {
    head: Format,
    title: Format,
    yuan: Format,
    rate: Format,
    ratio: Format,
}

#[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    kind: Kind,
    v: Option<i64>,
    f: &Formats,
) -> Result<(), XlsxError> {
    let Some(v) = v else {
        ws.write_string(row, col, "—")?;
        return Ok(());
    };
    // Fen to yuan for display only; the exact fen are in the JSON.
    match kind {
        Kind::Count => ws.write_number(row, col, v as f64)?,
        Kind::Yuan => ws.write_number_with_format(row, col, v as f64 / 100.0, &f.yuan)?,
        Kind::Rate => ws.write_number_with_format(row, col, v as f64 / 10_000.0, &f.rate)?,
        Kind::Ratio => ws.write_number_with_format(row, col, v as f64 / 100.0, &f.ratio)?,
    };
    Ok(())
}

fn title(r: &DailyReport) -> String {
    format!("{}（{}）消费券统计日报 · 业务日 {}（UTC+8）", r.campaign_name, r.region, r.business_day)
}

/// Writes one view: a title row, a header row (当日/累计 × figures), rows.
fn view_sheet(
    ws: &mut Worksheet,
    r: &DailyReport,
    keys: &[&str],
    rows: &[&Row],
    key: Keys,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, title(r), &f.title)?;
    let k = u16::try_from(keys.len()).unwrap_or(0);
    for (i, h) in keys.iter().enumerate() {
        let c = u16::try_from(i).unwrap_or(0);
        ws.write_string_with_format(1, c, *h, &f.head)?;
        ws.set_column_width(c, 16)?;
    }
    let n = u16::try_from(COLUMNS.len()).unwrap_or(0);
    for (p, prefix) in ["当日", "累计"].iter().enumerate() {
        for (i, (h, _, _)) in COLUMNS.iter().enumerate() {
            let c = k + u16::try_from(p).unwrap_or(0) * n + u16::try_from(i).unwrap_or(0);
            ws.write_string_with_format(1, c, format!("{prefix}{h}"), &f.head)?;
            ws.set_column_width(c, 14)?;
        }
    }
    ws.set_freeze_panes(2, k)?;
    for (i, row) in rows.iter().enumerate() {
        let y = u32::try_from(i + 2).unwrap_or(u32::MAX);
        for (j, cell) in key(row).iter().enumerate() {
            ws.write_string(y, u16::try_from(j).unwrap_or(0), cell)?;
        }
        for (p, fig) in [&row.day, &row.cumulative].iter().enumerate() {
            for (i, (_, kind, g)) in COLUMNS.iter().enumerate() {
                let c = k + u16::try_from(p).unwrap_or(0) * n + u16::try_from(i).unwrap_or(0);
                write_value(ws, y, c, *kind, g(fig), f)?;
            }
        }
    }
    Ok(())
}

/// The workbook: 汇总, 行业, 区县, 商户规模, 明细, 趋势, 分析, 投诉, 图表.
#[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
pub fn xlsx(r: &DailyReport) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    // A fixed creation time (the day's end) keeps the bytes the same on every build.
    let end = r.day_ends_at.with_timezone(&quan_domain::UTC8).naive_local();
    let created = ExcelDateTime::parse_from_str(&end.format("%Y-%m-%dT%H:%M:%S").to_string())?;
    wb.set_properties(&DocProperties::new().set_title(title(r)).set_creation_datetime(&created));
    let f = Formats {
        head: Format::new().set_bold().set_text_wrap(),
        title: Format::new().set_bold().set_font_size(13),
        yuan: Format::new().set_num_format("#,##0.00"),
        rate: Format::new().set_num_format("0.00%"),
        ratio: Format::new().set_num_format("0.00"),
    };
    for (name, keys, rows, key) in views(r) {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        view_sheet(ws, r, keys, &rows, key, &f)?;
    }
    // 趋势: redemptions per business day.
    {
        let ws = wb.add_worksheet();
        ws.set_name("趋势")?;
        ws.write_string_with_format(0, 0, title(r), &f.title)?;
        for (c, h) in ["业务日", "核销笔数（笔）", "订单金额（元）", "核销金额（元）"].iter().enumerate()
        {
            ws.write_string_with_format(1, u16::try_from(c).unwrap_or(0), *h, &f.head)?;
            ws.set_column_width(u16::try_from(c).unwrap_or(0), 16)?;
        }
        ws.set_freeze_panes(2, 0)?;
        for (i, p) in r.trend.iter().enumerate() {
            let y = u32::try_from(i + 2).unwrap_or(u32::MAX);
            ws.write_string(y, 0, p.day.to_string())?;
            ws.write_number(y, 1, p.redemptions as f64)?;
            ws.write_number_with_format(y, 2, p.order_fen as f64 / 100.0, &f.yuan)?;
            ws.write_number_with_format(y, 3, p.subsidy_fen as f64 / 100.0, &f.yuan)?;
        }
    }
    // 分析: the figures officials write up.
    {
        let a = &r.analysis;
        let ws = wb.add_worksheet();
        ws.set_name("分析")?;
        ws.write_string_with_format(0, 0, title(r), &f.title)?;
        ws.set_column_width(0, 34)?;
        ws.set_column_width(1, 22)?;
        ws.set_column_width(2, 18)?;
        let mut y = 2u32;
        let mut line = |ws: &mut Worksheet, label: &str, v: Option<i64>, kind: Kind| -> Result<(), XlsxError> {
            ws.write_string(y, 0, label)?;
            write_value(ws, y, 1, kind, v, &f)?;
            y += 1;
            Ok(())
        };
        let t = &r.total.cumulative;
        line(ws, "预算（元）", Some(r.budget_fen), Kind::Yuan)?;
        line(ws, "累计净核销金额（元）", Some(t.net_subsidy_fen), Kind::Yuan)?;
        line(ws, "预算未使用（元，结项时退回国库）", Some(a.budget_unspent_fen), Kind::Yuan)?;
        line(ws, "已发券未核销金额（元）", Some(a.issued_not_spent_fen), Kind::Yuan)?;
        line(ws, "累计拉动比（倍）", a.leverage_x100, Kind::Ratio)?;
        line(ws, "累计核销率（%）", t.redemption_rate_bp, Kind::Rate)?;
        line(ws, "有核销的天数（天）", Some(count(a.days_with_redemptions)), Kind::Count)?;
        y = peak_and_top_five(ws, y, &f, a.peak_day, [&a.top_industries, &a.top_districts])?;
        y += 1;
        ws.write_string_with_format(y, 0, "口径说明", &f.head)?;
        for note in &r.attribution {
            y += 1;
            ws.write_string(y, 0, note)?;
        }
    }
    super::complaints_sheet::sheet(wb.add_worksheet(), &title(r), &r.complaints, &f.head, &f.title)?;
    crate::risk::report::sheet(wb.add_worksheet(), &title(r), &r.pauses, &f.head, &f.title)?;
    crate::risk::figures::sheet(wb.add_worksheet(), &title(r), &r.risk, &f.head, &f.title)?;
    super::channels::sheet(wb.add_worksheet(), &title(r), &r.channels, &f.head, &f.title)?;
    charts(&mut wb, r)?;
    wb.save_to_buffer()
}

/// The peak day's row and the top five industries and districts, from row
/// `y` on; the next free row.
fn peak_and_top_five(
    ws: &mut Worksheet,
    mut y: u32,
    f: &Formats,
    peak_day: Option<(chrono::NaiveDate, i64)>,
    [industries, districts]: [&Vec<(String, String, i64)>; 2],
) -> Result<u32, XlsxError> {
    if let Some((d, s)) = peak_day {
        ws.write_string(y, 0, "核销金额最高日")?;
        ws.write_string(y, 1, d.to_string())?;
        write_value(ws, y, 2, Kind::Yuan, Some(s), f)?;
        y += 1;
    }
    for (label, list) in [("核销金额前五行业", industries), ("核销金额前五区县", districts)] {
        y += 1;
        ws.write_string_with_format(y, 0, label, &f.head)?;
        y += 1;
        for (code, name, fen) in list {
            ws.write_string(y, 0, format!("{name}（{code}）"))?;
            write_value(ws, y, 1, Kind::Yuan, Some(*fen), f)?;
            y += 1;
        }
    }
    Ok(y)
}

/// The column of a view's sheet that holds figure `header`, of the day
/// (`cumulative` false) or cumulative, after `keys` key columns.
fn figure_column(keys: usize, cumulative: bool, header: &str) -> u16 {
    let i = COLUMNS.iter().position(|(h, _, _)| *h == header);
    assert!(i.is_some(), "no report column {header}");
    let i = i.unwrap_or(0) + keys + if cumulative { COLUMNS.len() } else { 0 };
    u16::try_from(i).unwrap_or(0)
}

/// 图表: redemption by day, by industry, by district. A chart is drawn only
/// over rows that exist (an empty range is not a valid chart series); a view
/// without rows says so instead.
fn charts(wb: &mut Workbook, r: &DailyReport) -> Result<(), XlsxError> {
    const NET_SUBSIDY: &str = "净核销金额（元）";
    let ws = wb.add_worksheet();
    ws.set_name("图表")?;
    let rows = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let place = |ws: &mut Worksheet, at: u32, title: &str, chart: Option<Chart>| -> Result<(), XlsxError> {
        match chart {
            Some(mut c) => {
                c.title().set_name(title);
                ws.insert_chart(at, 0, &c)?;
            }
            None => {
                ws.write_string(at, 0, format!("{title}：暂无数据"))?;
            }
        }
        Ok(())
    };
    let by_day = (!r.trend.is_empty()).then(|| {
        let last = rows(r.trend.len()) + 1;
        let mut c = Chart::new(ChartType::Line);
        c.add_series().set_name("核销金额").set_categories(("趋势", 2, 0, last, 0)).set_values(("趋势", 2, 3, last, 3));
        c
    });
    place(ws, 0, "每日核销金额（元）", by_day)?;
    // Categories are the view's name column; values its cumulative net subsidy.
    for (at, sheet, n, keys, name_col, kind, title) in [
        (16, "行业", r.industries.len(), 1, 0, ChartType::Column, "各行业累计净核销金额（元）"),
        (32, "区县", r.districts.len(), 2, 1, ChartType::Bar, "各区县累计净核销金额（元）"),
    ] {
        let chart = (n > 0).then(|| {
            let last = rows(n) + 1;
            let v = figure_column(keys, true, NET_SUBSIDY);
            let mut c = Chart::new(kind);
            c.add_series()
                .set_name("净核销金额")
                .set_categories((sheet, 2, name_col, last, name_col))
                .set_values((sheet, 2, v, last, v));
            c
        });
        place(ws, at, title, chart)?;
    }
    Ok(())
}

/// A batch's final report as a workbook: 总结 (figures, leaders, what is
/// left) and 趋势 (redemptions by day), with a chart.
#[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
pub fn batch_final_xlsx(r: &super::BatchFinal) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::parse_from_str(&format!("{}T23:59:59", r.as_of))?;
    let title = format!("{} · {} 批次总结（截至 {}）", r.campaign_name, r.batch_name, r.as_of);
    wb.set_properties(&DocProperties::new().set_title(&title).set_creation_datetime(&created));
    let f = Formats {
        head: Format::new().set_bold().set_text_wrap(),
        title: Format::new().set_bold().set_font_size(13),
        yuan: Format::new().set_num_format("#,##0.00"),
        rate: Format::new().set_num_format("0.00%"),
        ratio: Format::new().set_num_format("0.00"),
    };
    {
        let ws = wb.add_worksheet();
        ws.set_name("总结")?;
        ws.write_string_with_format(0, 0, &title, &f.title)?;
        ws.set_column_width(0, 34)?;
        ws.set_column_width(1, 22)?;
        ws.set_column_width(2, 18)?;
        let mut y = 2u32;
        for (h, kind, g) in &COLUMNS {
            ws.write_string(y, 0, format!("累计{h}"))?;
            write_value(ws, y, 1, *kind, g(&r.figures), &f)?;
            y += 1;
        }
        ws.write_string(y, 0, "未使用面值（元，结项时退回国库）")?;
        write_value(ws, y, 1, Kind::Yuan, Some(r.unspent_face_fen), &f)?;
        y += 1;
        y = peak_and_top_five(ws, y, &f, r.peak_day, [&r.top_industries, &r.top_districts])?;
        ws.write_string(y + 1, 0, format!("数据来源：{} 日报，SHA-256 {}", r.as_of, r.source_sha256))?;
    }
    let n = u32::try_from(r.trend.len()).unwrap_or(0);
    {
        let ws = wb.add_worksheet();
        ws.set_name("趋势")?;
        for (c, h) in ["业务日", "核销笔数（笔）", "订单金额（元）", "核销金额（元）"].iter().enumerate()
        {
            ws.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &f.head)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (i, p) in r.trend.iter().enumerate() {
            let y = u32::try_from(i + 1).unwrap_or(u32::MAX);
            ws.write_string(y, 0, p.day.to_string())?;
            ws.write_number(y, 1, p.redemptions as f64)?;
            ws.write_number_with_format(y, 2, p.order_fen as f64 / 100.0, &f.yuan)?;
            ws.write_number_with_format(y, 3, p.subsidy_fen as f64 / 100.0, &f.yuan)?;
        }
        if n > 0 {
            let mut chart = Chart::new(ChartType::Column);
            chart.title().set_name("每日核销金额（元）");
            chart
                .add_series()
                .set_name("核销金额")
                .set_categories(("趋势", 1, 0, n, 0))
                .set_values(("趋势", 1, 3, n, 3));
            ws.insert_chart(1, 5, &chart)?;
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
