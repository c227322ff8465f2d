pub mod admin;
pub mod campaign;
pub mod serve;
