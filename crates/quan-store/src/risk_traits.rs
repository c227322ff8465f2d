//! What risk control at the grab adds to the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::BatchId;

use crate::{AdmissionEntry, PauseRecord, Resumption, RiskSignal, StoreError};

/// The admission window's published draws and the kill switch's pauses.
#[async_trait]
pub trait RiskStore: Send + Sync {
    /// Records a node's draw (a rewrite of the same rank of the same draw
    /// replaces it).
    async fn put_admission_entries(&self, entries: &[AdmissionEntry]) -> Result<(), StoreError>;
    /// Every draw of a batch, by draw and rank.
    async fn admission_entries(&self, batch: BatchId) -> Result<Vec<AdmissionEntry>, StoreError>;
    async fn insert_pause(&self, p: &PauseRecord) -> Result<(), StoreError>;
    /// Ends a pause; `NotFound` for no such pause, `Conflict { what:
    /// "resumed" }` when it already ended.
    async fn resume_pause(&self, id: uuid::Uuid, r: &Resumption) -> Result<(), StoreError>;
    async fn pause_by_id(&self, id: uuid::Uuid) -> Result<PauseRecord, StoreError>;
    /// The pauses on now, oldest first.
    async fn active_pauses(&self) -> Result<Vec<PauseRecord>, StoreError>;
    /// The pauses that were on at some instant in `[from, to)`, oldest first.
    async fn pauses_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<PauseRecord>, StoreError>;
    /// Records signals; one already recorded (same batch, resident and
    /// signal, from any node) keeps its first instant.
    async fn put_risk_signals(&self, rows: &[RiskSignal]) -> Result<(), StoreError>;
    /// A batch's signals, by resident and signal.
    async fn risk_signals(&self, batch: BatchId) -> Result<Vec<RiskSignal>, StoreError>;
}
