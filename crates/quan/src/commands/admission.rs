//! `quan admission verify`: anyone re-checks a grab's fair admission
//! window from its published record, as `quan lottery verify` does a draw.

use std::path::Path;

use anyhow::{Context, bail};
use quan_domain::admission::{DrawnEntry, check_draw};
use quan_http::routes::risk::AdmissionView;

use super::campaign::unhex32;

/// Checks the seed against its commitment, every published ticket against
/// the seed, and each node's order against the tickets; an error names the
/// first difference.
pub fn verify(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let rec: AdmissionView =
        serde_json::from_str(&text).context("not an admission record (GET /api/v1/batches/{id}/admission)")?;
    let Some(seed_hex) = &rec.seed else { bail!("the window is not over yet: no seed is published") };
    let seed = unhex32(seed_hex, "seed")?;
    let commitment = unhex32(&rec.commitment, "commitment")?;
    let (mut claims, mut granted) = (0usize, 0usize);
    for d in &rec.draws {
        let mut entries = Vec::with_capacity(d.claims.len());
        for c in &d.claims {
            let ticket = quan_domain::lottery::ticket(&seed, c.resident_id.as_bytes());
            let hex: String = ticket.iter().map(|b| format!("{b:02x}")).collect();
            if c.in_window && c.ticket.as_deref() != Some(hex.as_str()) {
                bail!("draw {}: rank {} publishes a ticket the seed does not give", d.draw_id, c.rank);
            }
            granted += usize::from(c.outcome == "claimed");
            entries.push(DrawnEntry { rank: c.rank, resident: *c.resident_id.as_bytes(), in_window: c.in_window });
        }
        claims += entries.len();
        check_draw(&seed, &commitment, &entries).map_err(|e| anyhow::anyhow!("draw {}: {e}", d.draw_id))?;
    }
    Ok(format!(
        "verified: the seed matches its commitment, and {} draw(s) of {claims} claims ({granted} granted) offered the window's claims in ticket order, then the late ones\n",
        rec.draws.len()
    ))
}
