//! Ledger rows.

use chrono::{DateTime, Utc};
use quan_domain::Fen;
use quan_domain::ledger::{Account, Reason};

/// One movement of money. Never updated or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: uuid::Uuid,
    pub debit: Account,
    pub credit: Account,
    /// More than zero.
    pub amount: Fen,
    pub reason: Reason,
    /// What it belongs to, e.g. `campaign_event:<id>`, `batch:<id>`.
    pub reference: String,
    pub at: DateTime<Utc>,
}

/// An account's running totals, and the same totals summed from its
/// transfers (the audit compares the two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTotals {
    pub account: Account,
    pub debits: i128,
    pub credits: i128,
    pub transfer_debits: i128,
    pub transfer_credits: i128,
}
