//! `quan report daily`: the T+1 report of one business day, as files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use quan_domain::CampaignId;
use quan_engine::reports::{DailyReport, render};

use crate::config::Config;
use crate::setup;

fn yuan(fen: i64) -> String {
    quan_domain::Fen::new(fen).to_string()
}

/// Writes `report-<campaign>-<day>.json`, `.csv` and `.xlsx` into `out`.
pub fn write_files(r: &DailyReport, content: &str, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let base = out.join(format!("report-{}-{}", r.campaign_id, r.business_day));
    let (json, csv, xlsx) = (base.with_extension("json"), base.with_extension("csv"), base.with_extension("xlsx"));
    std::fs::write(&json, content).with_context(|| format!("cannot write {}", json.display()))?;
    std::fs::write(&csv, render::csv(r)).with_context(|| format!("cannot write {}", csv.display()))?;
    let bytes = render::xlsx(r).map_err(|e| anyhow::anyhow!("cannot build the workbook: {e}"))?;
    std::fs::write(&xlsx, bytes).with_context(|| format!("cannot write {}", xlsx.display()))?;
    Ok(vec![json, csv, xlsx])
}

/// A few lines officials read first.
pub fn summary(r: &DailyReport) -> String {
    let (d, c) = (&r.total.day, &r.total.cumulative);
    let mut s = String::new();
    let _ = writeln!(s, "{} ({}) business day {}:", r.campaign_name, r.region, r.business_day);
    let _ = writeln!(
        s,
        "  day: {} vouchers issued to {} residents; {} redemptions by {} residents, subsidy {} yuan on orders of {} yuan; {} refunds",
        d.issued.unwrap_or(0),
        d.claimers.unwrap_or(0),
        d.redemptions,
        d.redeemers,
        yuan(d.subsidy_fen),
        yuan(d.order_fen),
        d.refunds
    );
    let _ = writeln!(
        s,
        "  to date: {} issued, {} redemptions, net subsidy {} yuan, leverage {}, redemption rate {}, {} merchants",
        c.issued.unwrap_or(0),
        c.redemptions,
        yuan(c.net_subsidy_fen),
        c.leverage_x100.map_or_else(|| "-".into(), |x| format!("{}.{:02}", x / 100, x % 100)),
        c.redemption_rate_bp.map_or_else(|| "-".into(), |x| format!("{}.{:02}%", x / 100, x % 100)),
        c.merchants
    );
    s
}

/// Returns the report and whether the check (with `verify`) passed.
pub async fn daily(
    config: &Config,
    campaign: &str,
    date: &str,
    out: &Path,
    verify: bool,
) -> anyhow::Result<(String, bool)> {
    let id: CampaignId = campaign.parse().map_err(|_| anyhow::anyhow!("{campaign:?} is not a campaign id"))?;
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{date:?} is not a business day like 2026-12-05"))?;
    let engine = setup::engine(config).await?;
    let (r, snapshot) = engine.daily_report_unchecked(id, day).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut text = summary(&r);
    for f in write_files(&r, &snapshot.content, out)? {
        let _ = writeln!(text, "  {}", f.display());
    }
    let _ = writeln!(text, "  sha256 {}", snapshot.sha256);
    let mut ok = true;
    if verify {
        match engine.verify_daily_report(id, day).await {
            Ok(_) => text.push_str("  verified: a rebuild from the database gives the same bytes\n"),
            Err(e) => {
                ok = false;
                let _ = writeln!(text, "  DIFFERS: {e}");
            }
        }
    }
    Ok((text, ok))
}

/// `quan report final`: writes `batch-<id>-<day>.json` and `.xlsx` into `out`.
pub async fn batch_final(
    config: &Config,
    batch: &str,
    date: &str,
    as_user: &str,
    out: &Path,
) -> anyhow::Result<String> {
    let id: quan_domain::BatchId = batch.parse().map_err(|_| anyhow::anyhow!("{batch:?} is not a batch id"))?;
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{date:?} is not a business day like 2026-12-05"))?;
    let engine = setup::engine(config).await?;
    let who = crate::setup::actor(&engine, as_user).await?;
    let r = engine.batch_final_report(&who, id, day).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let base = out.join(format!("batch-{id}-{day}"));
    let (json, xlsx) = (base.with_extension("json"), base.with_extension("xlsx"));
    std::fs::write(&json, serde_json::to_string_pretty(&r)?)
        .with_context(|| format!("cannot write {}", json.display()))?;
    let bytes = render::batch_final_xlsx(&r).map_err(|e| anyhow::anyhow!("cannot build the workbook: {e}"))?;
    std::fs::write(&xlsx, bytes).with_context(|| format!("cannot write {}", xlsx.display()))?;
    let f = &r.figures;
    Ok(format!(
        "{} / {} as of {}: {} redemptions, net subsidy {} yuan, leverage {}, unspent face value {} yuan\n  {}\n  {}\n",
        r.campaign_name,
        r.batch_name,
        r.as_of,
        f.redemptions,
        yuan(f.net_subsidy_fen),
        f.leverage_x100.map_or_else(|| "-".into(), |x| format!("{}.{:02}", x / 100, x % 100)),
        yuan(r.unspent_face_fen),
        json.display(),
        xlsx.display()
    ))
}
