//! The public record of a grab batch's admission window: its commitment
//! from creation on, and once the window is over the seed and every node's
//! draw with each claim's outcome, so anyone can recompute the tickets and
//! check the order (`quan_domain::admission::check_draw`).

use chrono::{DateTime, Utc};
use quan_domain::BatchId;
use quan_store::AdmissionEntry;

use super::RiskError;
use crate::Engine;

#[derive(Debug, Clone)]
pub struct AdmissionRecord {
    pub batch_id: BatchId,
    pub window_s: u32,
    pub opening_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub commitment: [u8; 32],
    /// Revealed once the window is over.
    pub seed: Option<[u8; 32]>,
    /// Every node's draw, by draw and rank (empty before the window is over).
    pub entries: Vec<AdmissionEntry>,
}

impl Engine {
    /// A windowed grab batch's record; `NoWindow` for any other batch.
    pub async fn admission_record(&self, id: BatchId) -> Result<AdmissionRecord, RiskError> {
        let b = self.store().batch_by_id(id).await?;
        let (Some(ends_at), Some(state)) = (b.spec.admission_window_ends_at(), b.lottery.as_ref()) else {
            return Err(RiskError::NoWindow);
        };
        let over = self.now() >= ends_at;
        let entries = if over { self.store().admission_entries(id).await? } else { Vec::new() };
        Ok(AdmissionRecord {
            batch_id: id,
            window_s: b.spec.admission_window_s,
            opening_at: b.spec.opening_at,
            ends_at,
            commitment: state.commitment,
            seed: over.then_some(state.seed),
            entries,
        })
    }
}
