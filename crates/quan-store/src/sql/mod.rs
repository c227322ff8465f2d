//! SQL shared by both backends. SQLite and PostgreSQL accept the same
//! statements here (`$1` placeholders, `ON CONFLICT`, `RETURNING`), so each
//! aggregate's implementation is written once, as a macro that each backend
//! expands with its own store and row types. Only what truly differs
//! (connection setup, migrations, locking) lives in the backend crates.

pub mod accounts;
pub mod campaigns;
pub mod claims;
pub mod districts;
pub mod eligibility;
pub mod idempotency;
pub mod ledger;
pub mod merchants;
pub mod redemptions;
pub mod reports;
