//! The storage interface of quan: one trait per aggregate, one error type,
//! the migration type both backends use, and a conformance suite that every
//! backend must pass.

pub mod conformance;
mod error;
mod migration;
mod records;
mod traits;

pub use error::StoreError;
pub use migration::{Migration, check_applied};
pub use records::{NewOtp, NewUser, OtpChallenge, PoolStats, Principal, Resident, Session, User};
pub use traits::{HealthStore, OtpStore, ResidentStore, SessionStore, Store, UserStore};
