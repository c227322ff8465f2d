//! The rows the store reads and writes, already in domain types.

use chrono::{DateTime, Utc};
use quan_domain::{KeyedHash, MerchantId, Region, ResidentId, Role, SessionId, TillId, UserId, Username};

/// A staff, merchant or partner account (everyone but residents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub role: Role,
    pub region: Region,
    pub display_name: String,
    /// The argon2id PHC string. Never serialised to a client.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    /// For merchant owners and cashiers: their merchant.
    pub merchant: Option<MerchantId>,
    /// For cashiers: their till.
    pub till: Option<TillId>,
}

pub type NewUser = User;

/// A resident, known by the keyed hash of a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub id: ResidentId,
    pub phone_hash: KeyedHash,
    /// e.g. `138****5678`.
    pub phone_masked: String,
    pub created_at: DateTime<Utc>,
}

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    User(UserId),
    Resident(ResidentId),
}

/// A login session. The bearer token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: [u8; 32],
    pub principal: Principal,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// How long the record of a session ended before its expiry is kept: the
/// nodes read the last seconds of it, and a node that could not read it for
/// longer stops trusting its memory of tokens long before this.
pub const SESSION_ENDS_KEPT_MS: i64 = 24 * 3_600_000;

/// A one-time login code waiting to be entered. At most one per phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    pub id: uuid::Uuid,
    pub phone_hash: KeyedHash,
    pub code_hash: [u8; 32],
    /// Tries used so far, including the one that returned this row.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub type NewOtp = OtpChallenge;

/// The send limits a new code must pass, checked in the same transaction
/// that stores it (under the phone's challenge row lock), so parallel
/// requests for one number cannot all pass a limit read before any wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpSendLimits {
    /// No code may have been sent at or after this instant (one a minute).
    pub resend_since: chrono::DateTime<chrono::Utc>,
    /// At most `per_hour_max` codes at or after `hour_since`.
    pub hour_since: chrono::DateTime<chrono::Utc>,
    pub per_hour_max: u32,
}

/// What became of a new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpSend {
    Stored,
    /// A code went out since `resend_since`: nothing stored.
    TooSoon,
    /// `per_hour_max` codes went out within the hour: nothing stored.
    TooMany,
}

/// Connection pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// What a request with an idempotency key finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First time: do the work, then complete (or abandon) the key.
    New,
    /// Done before: send this answer again.
    Replay { status: u16, body: String },
    /// The same key is being worked on right now.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}
