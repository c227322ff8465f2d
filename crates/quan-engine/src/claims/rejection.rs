//! Why a claim was refused, and how each refusal is answered.

use chrono::{DateTime, Utc};
use quan_domain::eligibility::Failure;
use quan_store::StoreError;

use crate::committer::CommitError;
use crate::rejection::{Rejection, Status};

#[derive(Debug, thiserror::Error)]
pub enum ClaimRejection {
    #[error("the batch opens at {}", quan_domain::beijing(*opens_at))]
    NotOpen { opens_at: DateTime<Utc>, server_time: DateTime<Utc> },
    #[error("the batch has closed")]
    Closed,
    #[error("this batch is sold out")]
    SoldOut,
    #[error("you have reached your limit for this batch")]
    LimitReached,
    #[error("you are not eligible for this batch")]
    NotEligible(Vec<Failure>),
    #[error("this lottery batch is only for its winners")]
    NotAWinner,
    #[error("this batch has several voucher kinds: say which (`kind`)")]
    KindRequired,
    #[error("this batch has no voucher kind `{0}`")]
    UnknownKind(String),
    #[error("too many claims are waiting; try again in a second")]
    Busy,
    /// Another request with the same `Idempotency-Key` holds the claim;
    /// its stored answer is this one's.
    #[error("a request with this Idempotency-Key has claimed already")]
    KeyTaken,
    #[error("{0}")]
    Paused(Box<crate::risk::pauses::PausedBy>),
    #[error("too many requests ({rule}); try again in {retry_after_s} s")]
    RateLimited { rule: &'static str, retry_after_s: u64 },
    #[error("this batch asks for proof of work: fetch a challenge and solve it ({bits} bits)")]
    ChallengeRequired { bits: u8 },
    #[error("{0}")]
    Challenge(quan_domain::pow::PowError),
    #[error("signals ask for more proof of work ({bits} bits): fetch a new challenge")]
    ChallengeTooEasy { bits: u8, signals: Vec<quan_domain::signals::Signal> },
    #[error("this batch asks for no proof of work")]
    NoChallengeNeeded,
    #[error("challenges are handed out from {}", quan_domain::beijing(*from))]
    ChallengeTooEarly { from: DateTime<Utc> },
    #[error("no such batch")]
    NotFound,
    #[error("only residents claim vouchers")]
    Forbidden,
    #[error("{0}")]
    Position(crate::districts::PositionRejection),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Commit(CommitError),
}

impl From<StoreError> for ClaimRejection {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ClaimRejection::NotFound,
            e => ClaimRejection::Store(e),
        }
    }
}

impl Rejection for ClaimRejection {
    fn status(&self) -> Status {
        use ClaimRejection as C;
        match self {
            C::NotOpen { .. }
            | C::Closed
            | C::SoldOut
            | C::LimitReached
            | C::KeyTaken
            | C::Paused(_)
            | C::ChallengeTooEarly { .. } => Status::Conflict,
            C::ChallengeRequired { .. } | C::Challenge(_) | C::ChallengeTooEasy { .. } => Status::Forbidden,
            C::RateLimited { .. } => Status::TooManyRequests,
            C::NoChallengeNeeded => Status::Unprocessable,
            C::NotEligible(_) | C::NotAWinner | C::Forbidden => Status::Forbidden,
            C::KindRequired | C::UnknownKind(_) | C::Position(_) => Status::Unprocessable,
            C::Busy => Status::TooManyRequests,
            C::NotFound => Status::NotFound,
            C::Store(_) | C::Commit(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        use ClaimRejection as C;
        match self {
            C::NotOpen { .. } => "not_open",
            C::Closed => "closed",
            C::SoldOut => "sold_out",
            C::LimitReached => "limit_reached",
            C::NotEligible(_) => "not_eligible",
            C::NotAWinner => "not_a_winner",
            C::KindRequired => "kind_required",
            C::UnknownKind(_) => "unknown_kind",
            C::Busy => "busy",
            C::KeyTaken => "idempotency_key_in_flight",
            C::Paused(_) => "paused",
            C::RateLimited { .. } => "rate_limited",
            C::ChallengeRequired { .. } => "challenge_required",
            C::Challenge(e) => e.code(),
            C::ChallengeTooEasy { .. } => "challenge_too_easy",
            C::NoChallengeNeeded => "no_challenge_needed",
            C::ChallengeTooEarly { .. } => "challenge_too_early",
            C::NotFound => "not_found",
            C::Forbidden => "forbidden",
            C::Position(p) => p.code(),
            C::Store(_) | C::Commit(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            ClaimRejection::Busy => Some(1),
            ClaimRejection::RateLimited { retry_after_s, .. } => Some(*retry_after_s),
            _ => None,
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            ClaimRejection::NotOpen { opens_at, server_time } => {
                Some(serde_json::json!({ "opens_at": opens_at, "server_time": server_time }))
            }
            ClaimRejection::NotEligible(f) => Some(serde_json::json!({ "failures": f })),
            ClaimRejection::Paused(p) => Some(p.details()),
            ClaimRejection::RateLimited { rule, .. } => Some(serde_json::json!({ "rule": rule })),
            ClaimRejection::ChallengeRequired { bits } => Some(serde_json::json!({ "bits": bits })),
            ClaimRejection::ChallengeTooEasy { bits, signals } => {
                Some(serde_json::json!({ "bits": bits, "signals": signals }))
            }
            ClaimRejection::ChallengeTooEarly { from } => Some(serde_json::json!({ "from": from })),
            _ => None,
        }
    }
}
