//! Positions and district boundaries: coordinate systems, and the
//! point-in-district index eligibility and merchant registration use.
//!
//! Coordinates are degrees (`f64`); they are never money, so float
//! arithmetic is allowed here and nowhere near `Fen`.
#![allow(clippy::float_arithmetic)]

pub mod crs;
pub mod index;

pub use crs::Crs;
pub use index::{DistrictIndex, DistrictShape, Lookup, Ring};
