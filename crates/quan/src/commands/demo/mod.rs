//! `quan demo`: a whole city campaign for Yichang on this machine, on a
//! fresh SQLite file, through the real engine and the real HTTP API on a
//! local port, in compressed time (the demo moves the server's clock).
//!
//! An official funds a ¥10 000 000 campaign with a first-come grab and a
//! trade-in lottery; merchants are imported from a CSV (bad rows reported)
//! and reviewed; shops open tills and cashiers; residents (inside and
//! outside the city, some with invalid ID numbers, bots, retries) grab at
//! the opening second; vouchers are redeemed with dynamic codes in both
//! directions, some refunded; each day closes with its T+1 report and
//! settlement; at the end the campaign closes and the rest returns to the
//! treasury. Every voucher, redemption and ledger entry goes through the
//! production code; residents are enrolled in bulk (a sample logs in by SMS).
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

mod client;
mod days;
mod end;
mod grab;
mod partner;
mod phases;
mod sandbox;
mod try_out;
mod world;

use std::path::PathBuf;

use anyhow::bail;
use chrono::{DateTime, Utc};
use quan_engine::Random;

use super::prose;
use crate::config::Config;
use phases::Demo;

const YICHANG: &str = include_str!("../../../../../data/regions/geojson/420500-yichang.geojson");
const MARKER: &str = ".quan-demo";
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub residents: usize,
    pub merchants: usize,
    pub shops: usize,
    pub connections: usize,
    pub seed: u64,
    /// Keep serving on this address when done.
    pub serve: Option<String>,
    /// Progress bars (on a terminal).
    pub progress: bool,
    /// One line per step on stderr.
    pub steps: bool,
    /// A fake bank against the partner API too (`--partner`).
    pub partner: bool,
}

/// The local time (UTC+8) `s` (`2026-12-05T10:00:00`) as an instant.
fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+08:00")).map(|d| d.to_utc()).unwrap_or_default()
}

fn bar(show: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    let b = if show { indicatif::ProgressBar::new(len) } else { indicatif::ProgressBar::hidden() };
    b.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg:<34} [{bar:30}] {pos}/{len} {per_sec} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(what.to_owned());
    b
}

/// Runs the demo; returns the summary to print.
pub async fn run(base: &Config, o: &DemoOptions) -> anyhow::Result<String> {
    let mut demo = Demo::open(base, o).await?;
    let staff = demo.staff().await?;
    let (official, operator) = (staff["demo.official"].clone(), staff["demo.operator"].clone());
    let camp = demo.campaign(&official).await?;
    let (csv_path, totals) = demo.merchants(&operator).await?;
    let mut shops = demo.shops(&operator).await?;
    let tokens = demo.residents().await?;
    let positions = demo.positions();
    let registrants = demo.lottery_registration(&tokens, &camp.lottery).await?;
    let rehearsal = if o.partner { demo.rehearse().await? } else { String::new() };
    let mut bank = if o.partner { Some(demo.bank(&camp).await?) } else { None };
    let (seen, grab_secs) = demo.grab(&camp, &tokens, &positions).await?;
    let bank_seen = match bank.as_mut() {
        Some(b) => {
            let got: std::collections::HashSet<usize> = seen.vouchers.iter().map(|v| v.0).collect();
            let seen = demo.bank_day(b, &camp, &tokens, &positions, &got, &shops).await?;
            Some(partner::BankSeen { rehearsal, ..seen })
        }
        None => None,
    };

    // Day 1 afternoon and evening: redemptions in both directions, some
    // refunds; a shop under review is suspended in the evening (its
    // settlement is held, residents go elsewhere until it is cleared).
    let mut conns = client::connect_many(demo.addr, 8).await?;
    let day1: Vec<(usize, String, String)> =
        seen.vouchers.iter().filter(|_| demo.rng.below(100) < 25).cloned().collect();
    demo.shift(&mut shops, "2026-12-05T11:55:00").await?;
    let red_started = std::time::Instant::now();
    let (made1, refused1) = demo.redeem("2026-12-05T12:00:00", 8, &mut conns, &tokens, &shops, None, &day1).await?;
    let red_secs = red_started.elapsed().as_secs_f64();
    let refunds1 = demo.refund(&shops, &made1, 40, false).await?;
    demo.clock.set(t("2026-12-05T21:30:00"));
    let suspended = shops[0].id.clone();
    demo.review(&suspended, "suspend", "疑似套现，核查中").await?;
    demo.say(&format!(
        "12-05: {} redemptions (refused: {}), {refunds1} refunds; one shop suspended",
        prose::grouped(made1.len() as u64),
        prose::tally(&refused1)
    ));
    demo.close_day(&camp.cid, "2026-12-05", "2026-12-06T01:00:00").await?;

    // 12-06: the lottery is drawn; more redemptions; winners use theirs;
    // some of yesterday's orders, already paid, come back (the shops owe
    // that subsidy back, netted from tonight's settlement).
    demo.draw(&camp.lottery).await?;
    let mut day2: Vec<(usize, String, String)> = seen
        .vouchers
        .iter()
        .filter(|v| !day1.iter().any(|d| d.1 == v.1))
        .filter(|_| demo.rng.below(100) < 20)
        .cloned()
        .collect();
    day2.extend(demo.winners_vouchers(&tokens, registrants, &camp.lottery).await?);
    demo.shift(&mut shops, "2026-12-06T18:25:00").await?;
    let late_refunds = demo.refund(&shops, &made1, 150, true).await?;
    let (made2, refused2) = demo.redeem("2026-12-06T18:30:00", 5, &mut conns, &tokens, &shops, Some(0), &day2).await?;
    let refunds2 = demo.refund(&shops, &made2, 40, false).await?;
    demo.say(&format!(
        "12-06: {} redemptions (refused: {}), {refunds2} refunds, and {late_refunds} refunds of orders paid yesterday",
        prose::grouped(made2.len() as u64),
        prose::tally(&refused2)
    ));
    demo.close_day(&camp.cid, "2026-12-06", "2026-12-07T01:00:00").await?;

    // The live view, as the dashboard polls it; then the close-out.
    let official = demo.token("demo.official").await?;
    let path = format!("/api/v1/campaigns/{}/live", camp.cid);
    let live = client::expect(&mut demo.c, "GET", &path, Some(&official), None, 200).await?;
    let end = demo.close_out(&camp.cid, &suspended).await?;
    let figures = end::Figures {
        cid: &camp.cid,
        csv_path,
        totals: &totals,
        shops: shops.len(),
        seen: &seen,
        grab_secs,
        day1_redemptions: made1.len(),
        red_secs,
        live,
    };
    let mut out = demo.summary(&figures, &end);
    if let Some(b) = &bank_seen {
        out.push_str(&partner::summary(b));
    }
    if o.serve.is_some() {
        demo.try_out().await?;
        // As `quan serve`: partners' webhooks (live and sandbox) posted every second.
        tokio::spawn(demo.engine.clone().run_webhook_worker(std::time::Duration::from_secs(1)));
        serve_until_ctrl_c(&demo, &out)?;
        let _ = tokio::signal::ctrl_c().await;
        out.clear();
    }
    demo.stop().await;
    if !end.clean {
        bail!("{out}the audit found differences");
    }
    Ok(out)
}

/// With `--serve`: the summary now, then how to reach the server and log in.
fn serve_until_ctrl_c(demo: &Demo<'_>, summary: &str) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let addr = demo.addr;
    let mut out = summary.to_owned();
    let _ = writeln!(
        out,
        "\nserving on http://{addr}/ (API docs: http://{addr}/docs/); the clock stays at {} (UTC+8).",
        try_out::SERVE_AT.replace('T', " ")
    );
    let outbox = demo.o.data_dir.join(phases::SMS_OUTBOX);
    let _ = writeln!(out, "pages, with ready logins:");
    let _ = writeln!(
        out,
        "  residents  http://{addr}/h5/     phone 13900000001 (演示体验券 is open: claim, show the code); tap 获取验证码, the code is the last line of {}",
        outbox.display()
    );
    let _ = writeln!(out, "  tills      http://{addr}/till/   demo.cashier001 / demo cashier password");
    let _ = writeln!(
        out,
        "  shops      http://{addr}/merchant/  demo.shop001 / demo shop password (apply: /merchant/apply)"
    );
    let _ = writeln!(
        out,
        "  console    http://{addr}/console/  (campaigns, grab dashboard, T+1 report with its map, merchants, complaints, settlement, audit)"
    );
    for (name, pw) in &demo.passwords {
        let _ = writeln!(out, "             {name} / {pw}");
    }
    let _ = writeln!(out, "Press Ctrl-C to stop.");
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
