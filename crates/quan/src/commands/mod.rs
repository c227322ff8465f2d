pub mod admin;
pub mod audit;
pub mod bench;
pub mod bench_claim;
pub mod bench_http;
pub mod campaign;
pub mod import;
pub mod serve;
