//! `quan campaign …`, `quan batch …`, `quan lottery verify`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use quan_domain::{BatchId, CampaignId};
use quan_engine::campaigns::{CampaignFile, check_campaign_file};
use quan_http::routes::batches::{BatchView, LotteryView};
use quan_http::routes::campaigns::CampaignView;

use crate::config::Config;
use crate::{files, setup};

fn pretty<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// Runs one `quan campaign …` command and returns what to print.
pub async fn dispatch(config: &Config, c: crate::cli::CampaignCmd) -> anyhow::Result<String> {
    use crate::cli::CampaignCmd;
    use quan_domain::campaign::CampaignCommand;
    match c {
        CampaignCmd::Check { file } => check(config, &file).await,
        CampaignCmd::Create { file, as_user } => create(config, &file, &as_user).await,
        CampaignCmd::Show { id, as_user } => show(config, &id, &as_user).await,
        CampaignCmd::List { as_user } => list(config, &as_user).await,
        CampaignCmd::Report { id, as_user, out } => super::closeout::report(config, &id, &as_user, &out).await,
        CampaignCmd::Fund { id, amount_fen, note, as_user } => {
            let cmd = CampaignCommand::Fund { amount: quan_domain::Fen::new(amount_fen) };
            change(config, &id, cmd, &note, &as_user).await
        }
        CampaignCmd::Start { id, as_user } => change(config, &id, CampaignCommand::Start, "", &as_user).await,
        CampaignCmd::BeginClosing { id, as_user } => {
            change(config, &id, CampaignCommand::BeginClosing, "", &as_user).await
        }
        CampaignCmd::Close { id, as_user } => change(config, &id, CampaignCommand::Close, "", &as_user).await,
    }
}

pub async fn check(config: &Config, file: &Path) -> anyhow::Result<String> {
    let f: CampaignFile = files::read(file)?;
    let committed = check_campaign_file(&f, chrono::Utc::now()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = format!("{}: valid\n", file.display());
    let _ = writeln!(out, "  campaign   {} (region {})", f.campaign.name, f.campaign.region);
    let _ = writeln!(out, "  budget     {} yuan", f.campaign.budget_fen);
    let _ = writeln!(out, "  batches    {} with a face value of {} yuan", f.batches.len(), committed);
    let named: std::collections::BTreeSet<String> =
        f.batches.iter().flat_map(|b| b.eligibility.gps_districts.iter().map(ToString::to_string)).collect();
    if named.is_empty() {
        return Ok(out);
    }
    // Boundaries decide who is inside a GPS rule's districts: without them
    // nobody can be located there, so nobody could claim.
    let sqlite_missing = config.database.url.is_empty() && !config.data_dir.join("quan.db").exists();
    let store = if sqlite_missing {
        Err(anyhow::anyhow!("no database at {}", config.data_dir.join("quan.db").display()))
    } else {
        setup::open_store(config).await
    };
    match store {
        Ok(store) => {
            let imported: std::collections::BTreeSet<String> =
                store.districts().await?.iter().map(|d| d.code.to_string()).collect();
            for d in named.difference(&imported) {
                let _ = writeln!(
                    out,
                    "  warning    no boundary of district {d} is imported: nobody can be located in it, so nobody can claim; run `quan import districts FILE`"
                );
            }
        }
        Err(e) => {
            let list = named.iter().cloned().collect::<Vec<_>>().join(", ");
            let _ = writeln!(
                out,
                "  warning    no imported boundaries to check districts {list} against ({e}): import them with `quan import districts FILE` before the batch opens"
            );
        }
    }
    Ok(out)
}

/// One step of a campaign's life cycle from the shell, as the API does it.
pub async fn change(
    config: &Config,
    id: &str,
    cmd: quan_domain::campaign::CampaignCommand,
    note: &str,
    as_user: &str,
) -> anyhow::Result<String> {
    let id: CampaignId = id.parse().context("the campaign id")?;
    let engine = setup::engine(config).await?;
    let who = setup::actor(&engine, as_user).await?;
    let name = cmd.name();
    let c = engine.change_campaign(&who, id, cmd, note).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!(
        "{name}: campaign {} `{}` is now {} (funded {} of {} yuan)\n",
        c.id,
        c.spec.name,
        c.status.as_str(),
        c.funded,
        c.spec.budget_fen
    ))
}

pub async fn create(config: &Config, file: &Path, as_user: &str) -> anyhow::Result<String> {
    let f: CampaignFile = files::read(file)?;
    let engine = setup::engine(config).await?;
    let who = setup::actor(&engine, as_user).await?;
    let (c, batches) = engine.create_campaign(&who, f).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = format!("created campaign {} `{}` with {} batches\n", c.id, c.spec.name, batches.len());
    for b in &batches {
        let _ = writeln!(
            out,
            "  batch {} `{}` opens {}",
            b.id,
            b.spec.name,
            b.spec.opening_at.with_timezone(&quan_domain::UTC8)
        );
    }
    Ok(out)
}

pub async fn show(config: &Config, id: &str, as_user: &str) -> anyhow::Result<String> {
    let id: CampaignId = id.parse()?;
    let engine = setup::engine(config).await?;
    let who = setup::actor(&engine, as_user).await?;
    let c = engine.get_campaign(&who, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let batches = engine.list_batches(&who, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = engine.now();
    let view = serde_json::json!({
        "campaign": CampaignView::from(&c),
        "batches": batches.iter().map(|b| BatchView::new(b, now)).collect::<Vec<_>>(),
    });
    pretty(&view)
}

pub async fn list(config: &Config, as_user: &str) -> anyhow::Result<String> {
    let engine = setup::engine(config).await?;
    let who = setup::actor(&engine, as_user).await?;
    let mut out = String::new();
    let mut after = None;
    loop {
        let page = engine.list_campaigns(&who, after, 500, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for c in &page {
            let _ = writeln!(
                out,
                "{}  {:<8} {:>16} yuan  {}  {}",
                c.id,
                c.status.as_str(),
                c.spec.budget_fen,
                c.spec.region,
                c.spec.name
            );
        }
        if page.len() < 500 {
            break;
        }
        after = page.last().map(|c| c.id);
    }
    Ok(out)
}

pub async fn draw(config: &Config, id: &str, as_user: &str) -> anyhow::Result<String> {
    let id: BatchId = id.parse()?;
    let engine = setup::engine(config).await?;
    let who = setup::actor(&engine, as_user).await?;
    let record = engine.draw_lottery(&who, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    pretty(&LotteryView::from(&record))
}

pub(crate) fn unhex32(s: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{what} must be 64 hex digits");
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)?;
    }
    Ok(out)
}

/// Re-runs a published draw; an error names the first difference.
pub fn verify(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let rec: LotteryView =
        serde_json::from_str(&text).context("not a lottery record (GET /api/v1/batches/{id}/lottery)")?;
    let Some(seed_hex) = &rec.seed else { bail!("the draw has not happened yet: no seed is published") };
    let seed = unhex32(seed_hex, "seed")?;
    let commitment = unhex32(&rec.commitment, "commitment")?;
    if quan_domain::lottery::commitment(&seed) != commitment {
        bail!("the seed does not match the commitment published before registration: the draw is not valid");
    }
    let tickets: Vec<[u8; 16]> = rec.registrants.iter().map(|u| *u.as_bytes()).collect();
    let expected: Vec<uuid::Uuid> =
        quan_domain::lottery::draw(&seed, &tickets, rec.winners_max).into_iter().map(uuid::Uuid::from_bytes).collect();
    if expected != rec.winners {
        bail!(
            "the published winners differ from the draw re-run from the seed ({} expected, {} published)",
            expected.len(),
            rec.winners.len()
        );
    }
    Ok(format!(
        "verified: the seed matches its commitment, and re-running the draw over {} registrants gives the same {} winners\n",
        rec.registrants.len(),
        rec.winners.len()
    ))
}
