//! The workbook read back with a real XLSX reader (calamine for cells, the
//! chart parts straight from the archive): every chart's series points at
//! the column whose header it claims, and a day without redemptions renders.

use std::io::Read as _;

use calamine::Reader as _;
use chrono::{NaiveDate, TimeZone, Utc};

use super::super::{Analysis, DailyReport, Figures, ReportState, Row, TrendPoint};
use super::xlsx;

fn figures(net_order_fen: i64, net_subsidy_fen: i64) -> Figures {
    Figures {
        net_order_fen,
        net_subsidy_fen,
        order_fen: net_order_fen,
        subsidy_fen: net_subsidy_fen,
        ..Figures::default()
    }
}

fn row(f: impl FnOnce(&mut Row), order: i64, subsidy: i64) -> Row {
    let mut r = Row { day: figures(order, subsidy), cumulative: figures(order, subsidy), ..Row::default() };
    f(&mut r);
    r
}

fn report(with_redemptions: bool) -> DailyReport {
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let mut r = DailyReport {
        format: super::super::FORMAT.into(),
        campaign_id: "c".into(),
        campaign_name: "宜昌消费券".into(),
        region: "4205".into(),
        budget_fen: 1_000_000,
        business_day: day,
        day_starts_at: Utc.timestamp_opt(1_764_864_000, 0).single().unwrap_or_default(),
        day_ends_at: Utc.timestamp_opt(1_764_950_400, 0).single().unwrap_or_default(),
        total: Row::default(),
        batches: vec![],
        industries: vec![],
        districts: vec![],
        scales: vec![],
        cells: vec![],
        trend: vec![],
        batch_trend: vec![],
        analysis: Analysis::default(),
        attribution: vec!["说明".into()],
        complaints: crate::complaints::figures::ComplaintFigures::default(),
        pauses: Vec::new(),
        risk: Default::default(),
        channels: vec![crate::reports::channels::ChannelLine {
            channel: "h5".into(),
            channel_name: "quan H5".into(),
            claims_day: 3,
            claims: 5,
            issued_face_fen: 10_000,
            redemptions_day: 1,
            subsidy_day_fen: 2_000,
            ..Default::default()
        }],
        state: ReportState::default(),
    };
    if with_redemptions {
        r.industries = vec![
            row(|r| r.industry_name = Some("家电".into()), 3_022_106_598, 202_140_000),
            row(|r| r.industry_name = Some("餐饮".into()), 50_000, 10_000),
        ];
        r.districts = vec![row(
            |r| {
                r.district = Some("420502".into());
                r.district_name = Some("西陵区".into());
            },
            3_022_156_598,
            202_150_000,
        )];
        r.trend = vec![TrendPoint { day, redemptions: 2, order_fen: 3_022_156_598, subsidy_fen: 202_150_000 }];
    }
    r
}

/// Column letters (`AF`) to a zero-based index.
fn column_index(letters: &str) -> usize {
    letters.bytes().fold(0, |n, b| n * 26 + usize::from(b - b'A') + 1) - 1
}

/// (sheet, first row, column) of every `<c:val>` series reference, from
/// each chart part of the archive.
fn series_values(bytes: &[u8]) -> Vec<(String, u32, usize)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let mut out = vec![];
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).unwrap_or_else(|e| panic!("{e}"));
        if !part.name().is_ok_and(|n| n.starts_with("xl/charts/chart")) {
            continue;
        }
        let mut xml = String::new();
        part.read_to_string(&mut xml).unwrap_or_else(|e| panic!("{e}"));
        for val in xml.split("<c:val>").skip(1) {
            let f = val.split("<c:f>").nth(1).and_then(|s| s.split("</c:f>").next()).unwrap_or_default();
            let (sheet, range) = f.split_once('!').unwrap_or_else(|| panic!("{f}"));
            let first = range.split(':').next().unwrap_or_default().replace('$', "");
            let letters: String = first.chars().take_while(char::is_ascii_uppercase).collect();
            let row: u32 = first[letters.len()..].parse().unwrap_or_else(|e| panic!("{first}: {e}"));
            out.push((sheet.trim_matches('\'').to_owned(), row, column_index(&letters)));
        }
    }
    out
}

#[test]
fn every_chart_series_points_at_the_column_its_title_names() {
    let bytes = xlsx(&report(true)).unwrap_or_else(|e| panic!("{e}"));
    let series = series_values(&bytes);
    assert_eq!(series.len(), 3, "{series:?}");
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    for (sheet, first_row, col) in series {
        let range = wb.worksheet_range(&sheet).unwrap_or_else(|e| panic!("{e}"));
        let header = range.get_value((1, u32::try_from(col).unwrap_or(0))).map(ToString::to_string);
        let want = if sheet == "趋势" { "核销金额（元）" } else { "累计净核销金额（元）" };
        assert_eq!(header.as_deref(), Some(want), "{sheet} column {col}");
        assert_eq!(first_row, 3, "the series starts below the title and header rows");
        let first = range.get_value((2, u32::try_from(col).unwrap_or(0))).map(ToString::to_string);
        if sheet == "行业" {
            assert_eq!(first.as_deref(), Some("2021400"), "家电's net subsidy in yuan");
        }
    }
}

#[test]
fn a_day_without_redemptions_renders_a_workbook_that_says_there_is_no_data() {
    let bytes = xlsx(&report(false)).unwrap_or_else(|e| panic!("{e}"));
    assert!(series_values(&bytes).is_empty());
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let charts = wb.worksheet_range("图表").unwrap_or_else(|e| panic!("{e}"));
    let text: Vec<String> = charts.rows().flat_map(|r| r.iter().map(ToString::to_string)).collect();
    assert!(text.iter().any(|t| t == "每日核销金额（元）：暂无数据"), "{text:?}");
}

#[test]
fn the_csv_opens_in_a_chinese_excel_lists_scales_largest_first_and_runs_no_formula() {
    let mut r = report(true);
    let scale =
        |code: &str, name: &str| row(|r| (r.scale, r.scale_name) = (Some(code.into()), Some(name.into())), 100, 10);
    r.scales = vec![scale("medium", "中型"), scale("micro", "微型"), scale("large", "大型"), scale("small", "小型")];
    r.batches = vec![row(|r| r.batch_name = Some("=HYPERLINK(\"http://evil.example\",\"x\")".into()), -150, -20)];
    let csv = super::csv(&r);
    assert!(csv.starts_with("\u{feff}视图,"), "a UTF-8 BOM first");
    let order: Vec<&str> = csv.lines().filter_map(|l| l.strip_prefix("商户规模,,,,,")).map(|l| &l[..6]).collect();
    assert_eq!(order, ["大型", "中型", "小型", "微型"]);
    let batch = csv.lines().find(|l| l.starts_with("汇总,\"'=HYPERLINK")).unwrap_or_else(|| panic!("{csv}"));
    assert!(batch.contains(",-1.50,"), "amounts stay numbers: {batch}");
}

#[test]
fn the_report_by_channel_reads_back_from_the_workbook_and_the_csv() {
    let r = report(true);
    let csv = super::csv(&r);
    let line = csv.lines().find(|l| l.starts_with("渠道,quan H5")).unwrap_or_else(|| panic!("{csv}"));
    assert_eq!(line, "渠道,quan H5,h5,3,5,100.00,1,20.00,0,0.00");
    let bytes = xlsx(&r).unwrap_or_else(|e| panic!("{e}"));
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let sheet = wb.worksheet_range("渠道").unwrap_or_else(|e| panic!("{e}"));
    let row: Vec<String> = sheet.rows().nth(3).map(|r| r.iter().map(ToString::to_string).collect()).unwrap_or_default();
    assert_eq!(
        row,
        ["quan H5", "h5", "3", "5", "100.00", "1", "20.00", "0", "0.00"],
        "a spreadsheet reads what the CSV says"
    );
}
