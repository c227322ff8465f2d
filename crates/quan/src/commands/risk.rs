//! `quan risk …`: the nightly analysis, cases, and their evidence packages.

use std::fmt::Write as _;
use std::path::Path;

use quan_engine::risk::evidence;

use crate::cli::RiskCmd;
use crate::config::Config;
use crate::setup;

/// Runs one `quan risk` command: what it prints, and whether it passed.
pub async fn dispatch(config: &Config, c: RiskCmd) -> anyhow::Result<(String, bool)> {
    let engine = setup::engine(config).await?;
    let e = |x: quan_engine::risk::RiskError| anyhow::anyhow!("{x}");
    match c {
        RiskCmd::Analyse => {
            let r = engine.analyse().await.map_err(e)?;
            Ok((
                format!(
                    "analysed {} campaigns ({} redemptions): {} rings, {} merchants hugging thresholds, {} hoarding cohorts, {} prices raised; {} cases opened, {} found again\n",
                    r.campaigns,
                    r.redemptions,
                    r.rings,
                    r.hugging_merchants,
                    r.hoarding_cohorts,
                    r.raised_prices,
                    r.cases_opened,
                    r.found_again
                ),
                true,
            ))
        }
        RiskCmd::Cases { open } => {
            let mut out = String::new();
            for c in engine.risk_cases_unchecked(open).await.map_err(e)? {
                let _ = writeln!(
                    out,
                    "{:>5}  {:<8} {:<18} {:<6} {:>12} fen  {}",
                    c.number,
                    c.kind,
                    c.source,
                    c.status,
                    c.amount.as_i64(),
                    c.summary
                );
            }
            Ok((out, true))
        }
        RiskCmd::Export { case, out } => {
            let p = engine.case_package_unchecked(&case).await.map_err(e)?;
            write_package(&out, &p)?;
            let mut text = format!("wrote case {case}'s evidence package to {}:\n", out.display());
            for (name, bytes) in &p.files {
                let _ = writeln!(text, "  {name} ({} bytes)", bytes.len());
            }
            Ok((text, true))
        }
        RiskCmd::Verify { dir } => {
            let read = |name: &str| std::fs::read(dir.join(name)).ok();
            let problems = evidence::verify(&read, &engine.platform_key().public_hex());
            if problems.is_empty() {
                Ok((
                    format!(
                        "ok: {} verifies: every file matches the manifest, signed by this deployment's key\n",
                        dir.display()
                    ),
                    true,
                ))
            } else {
                Ok((problems.iter().map(|p| format!("DIFFERENCE: {p}\n")).collect(), false))
            }
        }
        RiskCmd::PublicKey => Ok((format!("{}\n", engine.platform_key().public_hex()), true)),
    }
}

/// Creates `dir` (it must not exist: a package is never written over) and its files.
fn write_package(dir: &Path, p: &evidence::Package) -> anyhow::Result<()> {
    std::fs::create_dir(dir)
        .map_err(|x| anyhow::anyhow!("cannot create {}: {x} (the directory must not exist yet)", dir.display()))?;
    for (name, bytes) in &p.files {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
