//! Why a partner's registration, request or checkout was refused, and how
//! each refusal is answered.

use quan_domain::Invalid;
use quan_domain::partner::Scope;
use quan_domain::partner_auth::Refusal;
use quan_store::StoreError;

use crate::redemptions::RedemptionError;
use crate::rejection::{Rejection, Status};

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("a partner of this name is registered already")]
    NameTaken,
    #[error("the partner has a key with this serial number already")]
    SerialTaken,
    #[error("the partner has no key with this serial number that is not revoked")]
    KeyNotFound,
    #[error("this is the partner's last key: add its successor first, or suspend the partner")]
    LastKey,
    #[error("no such partner")]
    NotFound,
    #[error("only an official registers and manages partners; officials, operators and auditors read them")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PartnerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PartnerError::NotFound,
            e => PartnerError::Store(e),
        }
    }
}

impl Rejection for PartnerError {
    fn status(&self) -> Status {
        match self {
            PartnerError::Invalid(_) => Status::Unprocessable,
            PartnerError::NameTaken | PartnerError::SerialTaken | PartnerError::LastKey => Status::Conflict,
            PartnerError::KeyNotFound | PartnerError::NotFound => Status::NotFound,
            PartnerError::Forbidden => Status::Forbidden,
            PartnerError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            PartnerError::Invalid(i) => i.rule,
            PartnerError::NameTaken => "name_taken",
            PartnerError::SerialTaken => "serial_taken",
            PartnerError::KeyNotFound => "key_not_found",
            PartnerError::LastKey => "last_key",
            PartnerError::NotFound => "not_found",
            PartnerError::Forbidden => "forbidden",
            PartnerError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            PartnerError::Invalid(i) => Some(&i.field),
            _ => None,
        }
    }
}

/// Why a signed request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PartnerAuthError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("this nonce_str was used by this partner within the last 10 minutes")]
    NonceReused,
    #[error("this partner is cut off (熔断): {0}")]
    Suspended(String),
    #[error("this partner may not call this: it lacks the scope `{}`", .0.as_str())]
    ScopeMissing(Scope),
    #[error("the test partners' sandbox is not ready: {0}")]
    Sandbox(String),
    #[error(transparent)]
    Store(StoreError),
}

impl Rejection for PartnerAuthError {
    fn status(&self) -> Status {
        match self {
            PartnerAuthError::Refused(_) | PartnerAuthError::NonceReused => Status::Unauthorized,
            PartnerAuthError::Suspended(_) | PartnerAuthError::ScopeMissing(_) => Status::Forbidden,
            PartnerAuthError::Sandbox(_) => Status::Unavailable,
            PartnerAuthError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            PartnerAuthError::Refused(r) => r.code(),
            PartnerAuthError::NonceReused => "nonce_reused",
            PartnerAuthError::Suspended(_) => "partner_suspended",
            PartnerAuthError::ScopeMissing(_) => "scope_missing",
            PartnerAuthError::Sandbox(_) => "sandbox_unavailable",
            PartnerAuthError::Store(_) => "internal",
        }
    }
}

/// Why a checkout step was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("{0}")]
    Invalid(Invalid),
    /// The voucher cannot be used: the redemption path's refusal, as a till would get it.
    #[error("{0}")]
    Redemption(RedemptionError),
    #[error("no order of this partner has this out_trade_no")]
    OrderNotFound,
    #[error("this out_trade_no is this partner's order for another voucher, merchant or amount")]
    OrderNoReused,
    #[error("the order was confirmed with another transaction_id")]
    AlreadyConfirmed,
    #[error("the order was reversed; it cannot be confirmed")]
    Reversed,
    #[error("the lock ended and the voucher was used or locked elsewhere since; reverse the payment's discount")]
    LockLost,
    #[error("the voucher now takes {now} off this order, not the {locked} it was locked with; reverse and quote again")]
    QuoteChanged { locked: quan_domain::Fen, now: quan_domain::Fen },
    #[error("a test partner sees test data only: its calls go to the sandbox, which this server does not run")]
    TestMode,
    #[error("no active partner of this id")]
    PartnerNotFound,
    #[error("the binding code is wrong, used or expired: ask the resident for a new one")]
    BindingCodeInvalid,
    #[error("no resident is bound to this partner under this resident_openid (the binding may have been ended)")]
    ResidentNotBound,
    #[error("the till is not the merchant's")]
    TillNotOfMerchant,
    #[error("this out_refund_no is this partner's refund of another order or amount")]
    RefundNoReused,
    #[error("no refund of this partner has this out_refund_no")]
    RefundNotFound,
    #[error("the order is not confirmed: only a confirmed payment is refunded (reverse a locked one)")]
    OrderNotConfirmed,
}

impl From<StoreError> for CheckoutError {
    fn from(e: StoreError) -> Self {
        CheckoutError::Redemption(RedemptionError::from(e))
    }
}

impl From<RedemptionError> for CheckoutError {
    fn from(e: RedemptionError) -> Self {
        CheckoutError::Redemption(e)
    }
}

impl Rejection for CheckoutError {
    fn status(&self) -> Status {
        match self {
            CheckoutError::Invalid(_) | CheckoutError::TillNotOfMerchant => Status::Unprocessable,
            CheckoutError::Redemption(e) => e.status(),
            CheckoutError::OrderNotFound
            | CheckoutError::PartnerNotFound
            | CheckoutError::ResidentNotBound
            | CheckoutError::RefundNotFound => Status::NotFound,
            CheckoutError::BindingCodeInvalid => Status::Unprocessable,
            CheckoutError::TestMode => Status::Forbidden,
            CheckoutError::OrderNoReused
            | CheckoutError::AlreadyConfirmed
            | CheckoutError::Reversed
            | CheckoutError::LockLost
            | CheckoutError::QuoteChanged { .. }
            | CheckoutError::RefundNoReused
            | CheckoutError::OrderNotConfirmed => Status::Conflict,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            CheckoutError::Invalid(i) => i.rule,
            CheckoutError::Redemption(e) => e.code(),
            CheckoutError::OrderNotFound => "order_not_found",
            CheckoutError::PartnerNotFound => "partner_not_found",
            CheckoutError::BindingCodeInvalid => "binding_code_invalid",
            CheckoutError::ResidentNotBound => "resident_not_bound",
            CheckoutError::TestMode => "test_mode",
            CheckoutError::OrderNoReused => "out_trade_no_reused",
            CheckoutError::AlreadyConfirmed => "order_confirmed",
            CheckoutError::Reversed => "order_reversed",
            CheckoutError::LockLost => "lock_lost",
            CheckoutError::QuoteChanged { .. } => "quote_changed",
            CheckoutError::TillNotOfMerchant => "till_not_of_merchant",
            CheckoutError::RefundNoReused => "out_refund_no_reused",
            CheckoutError::RefundNotFound => "refund_not_found",
            CheckoutError::OrderNotConfirmed => "order_not_confirmed",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            CheckoutError::Invalid(i) => Some(&i.field),
            CheckoutError::Redemption(e) => e.field(),
            _ => None,
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            CheckoutError::Redemption(e) => e.details(),
            _ => None,
        }
    }
}

/// Why a claim through a partner was refused: the partner's request (its
/// binding, its number) or the claim itself, as quan's own H5 would be told.
#[derive(Debug, thiserror::Error)]
pub enum PartnerClaimError {
    #[error("{0}")]
    Checkout(CheckoutError),
    #[error("{0}")]
    Claim(crate::claims::ClaimRejection),
    #[error("this out_request_no is this partner's claim for another resident, batch or kind")]
    RequestNoReused,
}

impl Rejection for PartnerClaimError {
    fn status(&self) -> Status {
        match self {
            PartnerClaimError::Checkout(e) => e.status(),
            PartnerClaimError::Claim(e) => e.status(),
            PartnerClaimError::RequestNoReused => Status::Conflict,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            PartnerClaimError::Checkout(e) => e.code(),
            PartnerClaimError::Claim(e) => e.code(),
            PartnerClaimError::RequestNoReused => "out_request_no_reused",
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            PartnerClaimError::Claim(e) => e.retry_after_s(),
            _ => None,
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            PartnerClaimError::Checkout(e) => e.field(),
            PartnerClaimError::Claim(e) => e.field(),
            PartnerClaimError::RequestNoReused => Some("out_request_no"),
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            PartnerClaimError::Checkout(e) => e.details(),
            PartnerClaimError::Claim(e) => e.details(),
            PartnerClaimError::RequestNoReused => None,
        }
    }
}
