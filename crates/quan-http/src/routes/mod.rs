//! One router per area of the API.

pub mod auth;
pub mod ops;
pub mod users;
