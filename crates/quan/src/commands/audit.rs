//! `quan audit verify`.

use std::fmt::Write as _;

use quan_domain::CampaignId;

use crate::config::Config;
use crate::setup;

/// Returns the report and whether every campaign was clean.
pub async fn verify(config: &Config, campaign: Option<&str>) -> anyhow::Result<(String, bool)> {
    let engine = setup::engine(config).await?;
    let ids: Vec<CampaignId> = match campaign {
        Some(c) => vec![c.parse()?],
        None => engine.all_campaign_ids().await.map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let mut out = String::new();
    let mut clean = true;
    for id in &ids {
        let r = engine.audit_campaign_unchecked(*id).await.map_err(|e| anyhow::anyhow!("campaign {id}: {e}"))?;
        let b = r.balances;
        let _ = writeln!(
            out,
            "campaign {id}: funded {} = {} (fen); memo: matching platform {} merchants {}",
            b.funded(),
            b.accounted_terms(),
            b.platform_matching,
            b.merchant_matching
        );
        if r.is_clean() {
            let _ = writeln!(
                out,
                "  ok: {} accounts, debits = credits, floors kept, totals equal the transfers",
                r.accounts.len()
            );
        }
        for f in &r.findings {
            clean = false;
            let _ = writeln!(out, "  DIFFERENCE {}: {}", f.check, f.detail);
        }
        for n in &r.not_checked {
            let _ = writeln!(out, "  not checked here: {n}");
        }
    }
    let _ = writeln!(
        out,
        "{} campaigns audited, {}",
        ids.len(),
        if clean { "no differences" } else { "DIFFERENCES FOUND" }
    );
    Ok((out, clean))
}
