//! The end of the demo: the close-out (validity ends, the campaign closes,
//! the rest returns to the treasury, every report written) and the summary.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use quan_engine::reports::DailyReport;
use serde_json::{Value, json};

use super::client::expect;
use super::grab::{GrabSeen, percentile};
use super::phases::Demo;
use super::t;
use crate::commands::prose::{grouped, tally, yuan};

/// What the close-out left: the figures and files the summary names.
pub(super) struct CloseOut {
    pub(super) report: quan_engine::close_out::CloseOutReport,
    pub(super) final_report: DailyReport,
    pub(super) final_files: Vec<PathBuf>,
    pub(super) batch_finals: Vec<PathBuf>,
    pub(super) xlsx: PathBuf,
    pub(super) html: PathBuf,
    pub(super) audit_text: String,
    pub(super) clean: bool,
}

/// What happened during the run, for the summary.
pub(super) struct Figures<'s> {
    pub(super) cid: &'s str,
    pub(super) csv_path: PathBuf,
    pub(super) totals: &'s quan_engine::merchants::ImportTotals,
    pub(super) shops: usize,
    pub(super) seen: &'s GrabSeen,
    pub(super) grab_secs: f64,
    pub(super) day1_redemptions: usize,
    pub(super) red_secs: f64,
    pub(super) live: Value,
}

impl Demo<'_> {
    /// Close-out: the suspended shop is cleared, validity ends, every day
    /// settled and reported, the campaign closed, its reports written, the
    /// books audited.
    pub(super) async fn close_out(&mut self, cid: &str, suspended: &str) -> anyhow::Result<CloseOut> {
        self.clock.set(t("2026-12-13T09:00:00"));
        self.review(suspended, "reinstate", "核查无误").await?;
        let official = self.token("demo.official").await?;
        let path = format!("/api/v1/campaigns/{cid}/begin-closing");
        expect(&mut self.c, "POST", &path, Some(&official), Some(&json!({})), 200).await?;
        self.clock.set(t("2026-12-14T01:00:00"));
        let id: quan_domain::CampaignId = cid.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let expired = self.engine.expire_campaign(id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let last = NaiveDate::from_ymd_opt(2026, 12, 13).unwrap_or_default();
        self.settle_and_report(id, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default(), last).await?;
        let official = self.token("demo.official").await?;
        let path = format!("/api/v1/campaigns/{cid}/close");
        let closed = expect(&mut self.c, "POST", &path, Some(&official), Some(&json!({})), 200).await?;
        let actor = self.engine.authenticate(Some(&official)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let report = self.engine.close_out_report(&actor, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let xlsx = self.reports.join(format!("close-out-{cid}.xlsx"));
        let html = self.reports.join(format!("close-out-{cid}.html"));
        crate::commands::closeout::write_xlsx(&report, &xlsx)?;
        std::fs::write(&html, crate::commands::closeout::html(&report))?;
        let (final_report, _) =
            self.engine.daily_report_unchecked(id, last).await.map_err(|e| anyhow::anyhow!("report of {last}: {e}"))?;
        let canonical = quan_engine::reports::canonical(&final_report)?;
        let final_files = crate::commands::report::write_files(&final_report, &canonical, &self.reports)?;
        let batch_finals = self.batch_finals(&actor, &final_report, last).await?;
        self.say(&format!(
            "12-14: {} vouchers expired, campaign {}",
            expired.vouchers,
            closed["status"].as_str().unwrap_or("?")
        ));
        let (audit_text, clean) = crate::commands::audit::verify(&self.config, Some(cid)).await?;
        Ok(CloseOut { report, final_report, final_files, batch_finals, xlsx, html, audit_text, clean })
    }

    /// Every day from `from` to `last`: its settlement (and payout file)
    /// and its report's files.
    async fn settle_and_report(
        &self,
        id: quan_domain::CampaignId,
        from: NaiveDate,
        last: NaiveDate,
    ) -> anyhow::Result<()> {
        let mut day = from;
        while day <= last {
            crate::commands::settle::settle_day(&self.engine, day, &self.payouts).await?;
            let (report, snapshot) = self
                .engine
                .daily_report_unchecked(id, day)
                .await
                .map_err(|e| anyhow::anyhow!("report of {day}: {e}"))?;
            crate::commands::report::write_files(&report, &snapshot.content, &self.reports)?;
            day = day.succ_opt().unwrap_or(day);
        }
        Ok(())
    }

    /// Each batch's final report (批次总结) as of the last business day.
    async fn batch_finals(
        &self,
        actor: &quan_engine::Actor,
        final_report: &DailyReport,
        last: NaiveDate,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for b in &final_report.batches {
            let Some(bid) = b.batch_id.as_deref().and_then(|x| x.parse::<quan_domain::BatchId>().ok()) else {
                continue;
            };
            let r = self.engine.batch_final_report(actor, bid, last).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let path = self.reports.join(format!("batch-final-{bid}-{last}.xlsx"));
            let bytes = quan_engine::reports::render::batch_final_xlsx(&r).map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            out.push(path);
        }
        Ok(out)
    }

    /// The summary: the campaign's figures, the server's rates, the files.
    pub(super) fn summary(&self, f: &Figures<'_>, end: &CloseOut) -> String {
        let mut out = String::new();
        let r = &end.final_report;
        let _ =
            writeln!(out, "\nquan demo — {} ({}), business days 2026-12-05 … 2026-12-13", r.campaign_name, r.region);
        let _ = writeln!(out, "{:-<78}", "");
        self.money_rows(&mut out, f, end);
        let _ = writeln!(out, "{:-<78}", "");
        self.rate_rows(&mut out, f, end.clean);
        let _ = writeln!(out, "{:-<78}", "");
        self.file_rows(&mut out, f, end);
        out
    }

    fn money_rows(&self, out: &mut String, f: &Figures<'_>, end: &CloseOut) {
        let (c, co, residents) = (&end.final_report.total.cumulative, &end.report, self.o.residents);
        row(out, "budget / funded (元)", format!("{} / {}", yuan(co.budget_fen), yuan(co.funded_fen)));
        row(
            out,
            "merchants imported / rows refused",
            format!("{} / {}", grouped(f.totals.inserted), grouped(f.totals.errors.len() as u64)),
        );
        row(out, "shops taking vouchers (till + cashier)", f.shops.to_string());
        row(
            out,
            "residents (inside the city / outside)",
            format!("{} / {}", grouped((residents - residents / 10) as u64), grouped((residents / 10) as u64)),
        );
        row(out, "vouchers issued 发券数（张）", grouped(c.issued.unwrap_or(0)));
        row(out, "face value issued 发券面值（元）", yuan(c.issued_face_fen.unwrap_or(0)));
        row(out, "residents who claimed 抢券用户数", grouped(c.claimers.unwrap_or(0)));
        row(out, "residents who redeemed 核销用户数", grouped(c.redeemers));
        row(out, "redemptions 核销笔数", grouped(c.redemptions));
        row(out, "subsidy redeemed 核销金额（元）", yuan(c.subsidy_fen));
        row(out, "order amount 订单金额（元）", yuan(c.order_fen));
        row(
            out,
            "matching: platform / merchants（元）",
            format!("{} / {}", yuan(c.platform_match_fen), yuan(c.merchant_match_fen)),
        );
        row(out, "refunds (count / amount 元)", format!("{} / {}", grouped(c.refunds), yuan(c.refunded_fen)));
        row(out, "net subsidy 净核销金额（元）", yuan(c.net_subsidy_fen));
        row(
            out,
            "leverage 拉动比 / redemption rate 核销率",
            format!(
                "{} / {}",
                c.leverage_x100.map_or_else(|| "-".into(), |x| format!("{}.{:02}", x / 100, x % 100)),
                c.redemption_rate_bp.map_or_else(|| "-".into(), |x| format!("{}.{:02}%", x / 100, x % 100))
            ),
        );
        row(out, "paid to merchants（元）", yuan(co.paid_fen));
        row(out, "returned to the treasury 退回国库（元）", yuan(co.returned_fen));
        row(out, "owed back by merchants（元）", yuan(co.owed_back_fen));
    }

    fn rate_rows(&self, out: &mut String, f: &Figures<'_>, clean: bool) {
        let mut lat = f.seen.latencies.clone();
        lat.sort();
        row(
            out,
            "grab over HTTP: requests/s, p50, p99",
            format!(
                "{:.0}/s, {} ms, {} ms",
                f.seen.latencies.len() as f64 / f.grab_secs,
                percentile(&lat, 0.5).as_millis(),
                percentile(&lat, 0.99).as_millis()
            ),
        );
        let _ = writeln!(out, "  grab answers (one per request; a request is one tap, retries included):");
        let _ = writeln!(out, "    {}", tally(&f.seen.codes));
        let _ = writeln!(
            out,
            "  (\"claimed\" answers count requests granted, retries of a granted claim included; a pack claim gives\n   several vouchers; lottery winners get theirs without a request: the report's 发券数 counts vouchers.)"
        );
        row(
            out,
            "redemptions over HTTP (code + redeem), day 1",
            format!("{:.0}/s", f.day1_redemptions as f64 / f.red_secs.max(0.001)),
        );
        row(
            out,
            "live view 12-06 18:00: vouchers claimed / redeemed",
            format!(
                "{} / {}",
                grouped(f.live["claimed"].as_u64().unwrap_or(0)),
                grouped(f.live["redeemed"].as_u64().unwrap_or(0))
            ),
        );
        let _ = writeln!(
            out,
            "  (the live view is the running count on the evening of 12-06; the report's figures above run to\n   12-13 and count redemptions made, before refunds: 核销笔数 − full refunds = redemptions standing.)"
        );
        row(
            out,
            "audit verify",
            if clean { "clean: books balance to the fen".into() } else { "DIFFERENCES (below)".into() },
        );
        row(out, "elapsed", format!("{:.1} s", self.started.elapsed().as_secs_f64()));
    }

    fn file_rows(&self, out: &mut String, f: &Figures<'_>, end: &CloseOut) {
        let (o, cid) = (self.o, f.cid);
        let _ = writeln!(out, "files:");
        let _ = writeln!(out, "  database        {}", o.data_dir.join("quan.db").display());
        let _ = writeln!(
            out,
            "  merchants CSV   {} (refused rows: {})",
            f.csv_path.display(),
            crate::commands::import::errors_path(&f.csv_path).display()
        );
        let _ = writeln!(
            out,
            "  daily reports   {}/report-{cid}-<day>.xlsx / .csv / .json, one per business day",
            self.reports.display()
        );
        for p in &end.batch_finals {
            let _ = writeln!(out, "  final report    {} (批次总结)", p.display());
        }
        for p in &end.final_files {
            let _ = writeln!(out, "  last daily     {}", p.display());
        }
        let _ = writeln!(out, "  close-out       {}\n                  {}", end.xlsx.display(), end.html.display());
        let _ = writeln!(out, "  payout files    {}", self.payouts.display());
        if !end.clean {
            out.push_str(&end.audit_text);
        }
    }
}

fn row(out: &mut String, k: &str, v: String) {
    let _ = writeln!(out, "  {k:<44} {v:>30}");
}
