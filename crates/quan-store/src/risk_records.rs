//! Rows of risk control at the grab: the admission window's draws and the
//! kill switch's pauses.

use chrono::{DateTime, Utc};
use quan_domain::{BatchId, ResidentId, UserId};

/// One claim of a node's admission draw, with the rank it was offered to
/// the stock at and what it got. Published after the window, so anyone can
/// check the order against the revealed seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionEntry {
    pub batch_id: BatchId,
    /// One node's one draw.
    pub draw_id: uuid::Uuid,
    pub rank: u32,
    pub resident_id: ResidentId,
    pub kind_code: String,
    /// Arrived inside the window (else after it, before the draw).
    pub in_window: bool,
    /// `claimed`, `sold_out`, `limit_reached`, `busy` or `failed`.
    pub outcome: String,
    /// When the draw was made.
    pub at: DateTime<Utc>,
}

/// A risk signal an account showed at a batch's grab (its first time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskSignal {
    pub batch_id: BatchId,
    pub resident_id: ResidentId,
    /// `quan_domain::signals::Signal`'s code.
    pub signal: String,
    pub at: DateTime<Utc>,
}

/// An ID number recorded by a second account after a real-name check
/// matched it to another (the holder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConflict {
    pub id: uuid::Uuid,
    pub id_hash: quan_domain::KeyedHash,
    pub id_masked: String,
    pub holder: ResidentId,
    pub other: ResidentId,
    pub opened_at: DateTime<Utc>,
    /// Who resolved it, when, and the operator's note.
    pub resolved: Option<(UserId, DateTime<Utc>, String)>,
    /// What resolving it did to the other account's claims under the number.
    pub outcome: ConflictOutcome,
}

/// The other account's claims under the person, once a conflict is resolved:
/// its unused vouchers frozen (count and face), and the per-person slots
/// its claims held given back to the verified holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConflictOutcome {
    pub frozen_vouchers: u32,
    pub frozen_fen: quan_domain::Fen,
    pub slots_released: u32,
}

/// A pause (熔断) and, once it is over, its resumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseRecord {
    pub id: uuid::Uuid,
    /// `batch`, `campaign`, `merchant`, `channel` or `region`, and its id.
    pub target_kind: String,
    pub target_id: String,
    /// `claims`, `redemptions` or `both`.
    pub stops: String,
    pub reason: String,
    pub by: UserId,
    /// The official's display name then (a refusal names them).
    pub by_name: String,
    pub at: DateTime<Utc>,
    pub resumed: Option<Resumption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumption {
    pub by: UserId,
    pub by_name: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}
