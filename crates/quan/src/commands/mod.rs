pub mod admin;
pub mod campaign;
pub mod import;
pub mod serve;
