pub mod admin;
pub mod audit;
pub mod bench;
pub mod campaign;
pub mod import;
pub mod serve;
