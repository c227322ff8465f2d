//! Why a redemption or refund was refused, and how each refusal is answered.

use quan_domain::code::CodeError;
use quan_domain::redemption::{RefundRefusal, Refusal};
use quan_store::StoreError;

use crate::committer::CommitError;
use crate::rejection::{Rejection, Status};

#[derive(Debug, thiserror::Error)]
pub enum RedemptionError {
    #[error("{0}")]
    Code(CodeError),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Refund(RefundRefusal),
    #[error("the order needs `{0}`")]
    Missing(&'static str),
    #[error("{field}: {message}")]
    BadInput { field: &'static str, message: String },
    #[error("another refund of this redemption was recorded at the same moment; read it again and retry")]
    RefundRaced,
    #[error("this redemption was reversed by a full refund")]
    Reversed,
    #[error("this redemption's subsidy was recovered as a confirmed fraud; it cannot be refunded")]
    Recovered,
    #[error("{0}")]
    Paused(Box<crate::risk::pauses::PausedBy>),
    #[error("too many redemptions are waiting; try again in a second")]
    Busy,
    #[error("no such voucher, till or redemption")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Commit(CommitError),
    #[error(
        "no answer from the redemption committer within {0} s: the redemption may still be recorded; look at the till's redemptions before scanning again"
    )]
    NoAnswer(u64),
}

impl From<StoreError> for RedemptionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RedemptionError::NotFound,
            e => RedemptionError::Store(e),
        }
    }
}

impl Rejection for RedemptionError {
    fn status(&self) -> Status {
        use RedemptionError as E;
        match self {
            E::Code(CodeError::Expired) => Status::Conflict,
            E::Code(_) | E::Missing(_) | E::BadInput { .. } | E::Refund(_) => Status::Unprocessable,
            E::Refused(r) => match r {
                Refusal::AlreadyRedeemed
                | Refusal::Expired
                | Refusal::PastValidity(_)
                | Refusal::Frozen(_)
                | Refusal::Locked => Status::Conflict,
                Refusal::MerchantNotApproved | Refusal::MerchantSuspended | Refusal::RiskRule(_) => Status::Forbidden,
                _ => Status::Unprocessable,
            },
            E::RefundRaced | E::Reversed | E::Recovered | E::Paused(_) => Status::Conflict,
            E::Busy => Status::TooManyRequests,
            E::NotFound => Status::NotFound,
            E::Forbidden => Status::Forbidden,
            E::Store(_) | E::Commit(_) | E::NoAnswer(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        use RedemptionError as E;
        match self {
            E::Code(c) => c.code(),
            E::Refused(r) => r.code(),
            E::Refund(r) => r.code(),
            E::Missing(_) => "missing_field",
            E::BadInput { .. } => "bad_input",
            E::RefundRaced => "refund_raced",
            E::Reversed => "redemption_reversed",
            E::Recovered => "redemption_recovered",
            E::Paused(_) => "paused",
            E::Busy => "busy",
            E::NotFound => "not_found",
            E::Forbidden => "forbidden",
            E::Store(_) | E::Commit(_) | E::NoAnswer(_) => "internal",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        matches!(self, RedemptionError::Busy).then_some(1)
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            RedemptionError::Paused(p) => Some(p.details()),
            _ => None,
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            RedemptionError::Missing(f) | RedemptionError::BadInput { field: f, .. } => Some(f),
            RedemptionError::Code(_) => Some("code"),
            RedemptionError::Refund(_) => Some("amount_fen"),
            _ => None,
        }
    }
}
