//! Black-box tests: the real server on port 0 (through quan-testkit) and
//! the real `quan` binary.

mod api_auth;
mod api_campaigns;
mod api_cashout_holds;
mod api_claims;
mod api_complaints;
mod api_eligibility;
mod api_errors;
mod api_identity_freeze;
mod api_merchant_books;
mod api_merchants;
mod api_ops;
mod api_partner;
mod api_partner_claims;
mod api_partner_refunds;
mod api_partner_sandbox;
mod api_redemptions;
mod api_regions;
mod api_residents;
mod api_risk;
mod api_risk_cases;
mod api_risk_pow;
mod api_webhooks;
mod api_webhooks_tls;
mod cli;
mod cli_import;
mod cli_partner;
mod cli_risk;
mod contract;
mod crash;
mod demo;
mod reports;
mod simulation;
mod till_events;
