//! `quan demo` end to end, small: it completes, the books balance, and the
//! files it promises are there and open; with `--partner` a fake bank claims
//! and checks out vouchers through the partner API and gets its webhooks.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_a_whole_campaign_to_close_out_and_the_audit_is_clean() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("demo");
    let o = quan::commands::demo::DemoOptions {
        data_dir: data.clone(),
        residents: 1_500,
        merchants: 120,
        shops: 6,
        connections: 16,
        seed: 7,
        serve: None,
        progress: false,
        steps: false,
        partner: true,
    };
    let config = quan::config::Config::default();
    let out = quan::commands::demo::run(&config, &o).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert!(out.contains("clean: books balance to the fen"), "{out}");
    assert!(out.contains("returned to the treasury"), "{out}");
    // The fake bank: claims through its app, payments with vouchers, every webhook's signature checked.
    let figure = |label: &str| -> Vec<i64> {
        let line = out.lines().find(|l| l.contains(label)).unwrap_or_else(|| panic!("{label}: {out}"));
        let at = line.find(label).map_or(0, |i| i + label.len());
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .filter(|x| !x.is_empty())
            .filter_map(|x| x.parse().ok())
            .collect()
    };
    let (claims, paid, hooks) =
        (figure("claims through its app"), figure("payments with vouchers"), figure("webhooks received"));
    assert!(claims[0] > 10 && paid[0] > 5, "{out}");
    // Before going live its engineer rehearsed with a test key in the sandbox.
    let rehearsal = out.lines().find(|l| l.contains("rehearsal in the sandbox")).unwrap_or_default();
    assert!(rehearsal.contains("checkout confirmed") && rehearsal.contains("sandbox audit clean"), "{out}");
    assert!(hooks[0] >= claims[0] + paid[0] && hooks[0] == hooks[1], "every webhook arrives signed: {out}");
    let reports: Vec<String> = std::fs::read_dir(data.join("reports"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    // Every day has its report files and its payout file: the hold released
    // on 12-07 is paid through a file the bank gets.
    for d in 5..=13 {
        let day = format!("2026-12-{d:02}");
        assert!(reports.iter().any(|f| f.ends_with(&format!("{day}.xlsx"))), "report of {day}: {reports:?}");
        assert!(data.join("payouts").join(format!("payout-{day}.csv")).exists(), "payout file of {day}");
    }
    let released = std::fs::read_to_string(data.join("payouts/payout-2026-12-07.csv")).unwrap_or_default();
    assert!(released.lines().count() >= 2, "the released hold is in the bank's file: {released}");
    let xlsx = reports
        .iter()
        .find(|f| f.starts_with("report-") && f.ends_with("2026-12-13.xlsx"))
        .cloned()
        .unwrap_or_default();
    let finals = reports.iter().filter(|f| f.starts_with("batch-final-") && f.ends_with("2026-12-13.xlsx")).count();
    assert_eq!(finals, 2, "each batch's final report (批次总结): {reports:?}");
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook(data.join("reports").join(&xlsx)).unwrap_or_else(|e| panic!("{e}"));
        assert!(wb.sheet_names().contains(&"图表".to_owned()), "{:?}", wb.sheet_names());
        let districts = wb.worksheet_range("区县").unwrap_or_else(|e| panic!("{e}"));
        assert!(districts.rows().count() > 3, "redemptions in several districts");
        let channels = wb.worksheet_range("渠道").unwrap_or_else(|e| panic!("{e}"));
        let text: Vec<String> = channels.rows().flat_map(|r| r.iter().map(ToString::to_string)).collect();
        assert!(text.iter().any(|t| t == "宜昌农商银行") && text.iter().any(|t| t == "quan H5"), "{text:?}");
    }
    assert!(reports.iter().any(|f| f.starts_with("close-out-") && f.ends_with(".html")), "{reports:?}");
    assert!(data.join("merchants.errors.csv").exists(), "the refused rows are reported");
    // A second run replaces the folder it made; a folder it did not make is refused.
    let again = quan::commands::demo::run(&config, &DemoOptionsExt::smaller(&o)).await;
    assert!(again.is_ok(), "{again:?}");
    let foreign = dir.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(foreign.join("notes.txt"), "keep").unwrap_or_else(|e| panic!("{e}"));
    let refused = quan::commands::demo::run(
        &config,
        &quan::commands::demo::DemoOptions { data_dir: foreign.clone(), ..o.clone() },
    )
    .await;
    assert!(refused.is_err(), "a folder the demo did not make is left alone");
    assert!(foreign.join("notes.txt").exists());
}

struct DemoOptionsExt;

impl DemoOptionsExt {
    fn smaller(o: &quan::commands::demo::DemoOptions) -> quan::commands::demo::DemoOptions {
        quan::commands::demo::DemoOptions { residents: 300, merchants: 40, shops: 3, partner: false, ..o.clone() }
    }
}
