//! What risk control at the grab adds to the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::BatchId;

use crate::{AdmissionEntry, IdentityConflict, PauseRecord, Resumption, RiskSignal, StoreError};

/// The admission window's published draws and the kill switch's pauses.
#[async_trait]
pub trait RiskStore: Send + Sync {
    /// Records a node's draw (a rewrite of the same rank of the same draw
    /// replaces it).
    async fn put_admission_entries(&self, entries: &[AdmissionEntry]) -> Result<(), StoreError>;
    /// Every draw of a batch, by draw and rank.
    async fn admission_entries(&self, batch: BatchId) -> Result<Vec<AdmissionEntry>, StoreError>;
    /// Records a pause with the partners' webhook events telling of it, in one transaction.
    async fn insert_pause(&self, p: &PauseRecord, events: &[crate::NewEvent]) -> Result<(), StoreError>;
    /// Ends a pause, with the partners' events telling of it; `NotFound` for
    /// no such pause, `Conflict { what: "resumed" }` when it already ended
    /// (no event is written then).
    async fn resume_pause(&self, id: uuid::Uuid, r: &Resumption, events: &[crate::NewEvent]) -> Result<(), StoreError>;
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
    /// Marks a resident's recorded number as matched by a real-name check
    /// (and as changed, so every node reads it again); `NotFound` unless the
    /// resident has exactly that number recorded.
    async fn mark_real_name_checked(
        &self,
        resident: quan_domain::ResidentId,
        id_hash: &quan_domain::KeyedHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The residents that recorded this number.
    async fn residents_with_id(
        &self,
        id_hash: &quan_domain::KeyedHash,
    ) -> Result<Vec<quan_domain::ResidentId>, StoreError>;
    /// Opens a conflict (one per holder and other account; again is nothing).
    async fn open_identity_conflict(&self, c: &IdentityConflict) -> Result<(), StoreError>;
    /// Conflicts, open ones only or all, newest first.
    async fn identity_conflicts(&self, open_only: bool) -> Result<Vec<IdentityConflict>, StoreError>;
    /// Conflicts resolved at or after `since`, oldest first (what each node
    /// applies to its memory).
    async fn conflicts_resolved_since(&self, since: DateTime<Utc>) -> Result<Vec<IdentityConflict>, StoreError>;
    /// Resolves an open conflict for its holder, in one transaction: the
    /// other account's record of the number is removed; its claims made
    /// under the number give up their per-person slots (the batch's on the
    /// voucher, the others' `claim_slots`), and their unused vouchers are
    /// frozen (`identity_conflict`, one `voucher_freezes` row each). `NotFound`, or
    /// `Conflict { what: "resolved" }` when it was resolved already.
    async fn resolve_identity_conflict(
        &self,
        id: uuid::Uuid,
        by: quan_domain::UserId,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<IdentityConflict, StoreError>;
}
