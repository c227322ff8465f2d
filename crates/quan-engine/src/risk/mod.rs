//! Risk control at the grab: the admission window's public record
//! (`admission.rs`) and the bureau's kill switch (`pauses.rs`).

pub mod admission;
pub mod analysis;
pub mod cases;
pub mod cashout;
pub mod config;
pub mod evidence;
pub mod figures;
mod findings;
pub mod gate;
pub mod holds;
pub mod pauses;
pub mod real_name;
pub mod report;

use quan_domain::Invalid;
use quan_store::StoreError;

use crate::rejection::{Rejection, Status};

#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("not found")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error("this batch has no admission window")]
    NoWindow,
    #[error("this pause has already been lifted")]
    AlreadyResumed,
    #[error("this hold was released or recovered already")]
    HoldDecided,
    #[error("this hold changed (a refund) while it was decided; look again")]
    HoldChanged,
    #[error("this case is closed")]
    CaseClosed,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RiskError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RiskError::NotFound,
            StoreError::Conflict { what: "resumed" } => RiskError::AlreadyResumed,
            e => RiskError::Store(e),
        }
    }
}

impl From<Invalid> for RiskError {
    fn from(e: Invalid) -> Self {
        RiskError::Invalid(e)
    }
}

impl Rejection for RiskError {
    fn status(&self) -> Status {
        match self {
            RiskError::Invalid(_) | RiskError::NoWindow => Status::Unprocessable,
            RiskError::NotFound => Status::NotFound,
            RiskError::Forbidden => Status::Forbidden,
            RiskError::AlreadyResumed | RiskError::HoldDecided | RiskError::HoldChanged | RiskError::CaseClosed => {
                Status::Conflict
            }
            RiskError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            RiskError::Invalid(i) => i.rule,
            RiskError::NotFound => "not_found",
            RiskError::Forbidden => "forbidden",
            RiskError::NoWindow => "no_admission_window",
            RiskError::AlreadyResumed => "already_resumed",
            RiskError::HoldDecided => "hold_decided",
            RiskError::HoldChanged => "hold_changed",
            RiskError::CaseClosed => "case_closed",
            RiskError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            RiskError::Invalid(i) => Some(&i.field),
            _ => None,
        }
    }
}
