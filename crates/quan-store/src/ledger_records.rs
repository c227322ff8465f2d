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

/// Transfers merged for posting: those with the same debit and credit
/// account, reason and reference become one transfer of their summed amount
/// (the id and time of the first of them), in order of first appearance.
/// A commit of many redemptions posts one transfer per merchant instead of
/// one per redemption; every account ends with the same totals either way.
pub fn merge_transfers<'a>(
    transfers: impl IntoIterator<Item = &'a Transfer>,
) -> Result<Vec<Transfer>, crate::StoreError> {
    let mut merged: Vec<Transfer> = Vec::new();
    let mut at: std::collections::HashMap<(Account, Account, Reason, &str), usize> = std::collections::HashMap::new();
    for t in transfers {
        match at.get(&(t.debit, t.credit, t.reason, t.reference.as_str())) {
            Some(&i) => {
                let m = &mut merged[i];
                m.amount = m
                    .amount
                    .checked_add(t.amount)
                    .ok_or_else(|| crate::StoreError::message("transfer sum overflows"))?;
            }
            None => {
                at.insert((t.debit, t.credit, t.reason, t.reference.as_str()), merged.len());
                merged.push(t.clone());
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quan_domain::CampaignId;
    use quan_domain::ledger::AccountKind;

    fn transfer(n: u128, credit: Account, amount: i64, reference: &str) -> Transfer {
        let c = credit.campaign;
        Transfer {
            id: uuid::Uuid::from_u128(n),
            debit: Account::campaign(c, AccountKind::Reserved),
            credit,
            amount: Fen::new(amount),
            reason: Reason::Redemption,
            reference: reference.into(),
            at: DateTime::from_timestamp_millis(n as i64).unwrap_or_default(),
        }
    }

    #[test]
    fn transfers_between_the_same_accounts_for_the_same_reference_merge_into_one_keeping_the_first_id() {
        let c = CampaignId::from_uuid(uuid::Uuid::from_u128(7));
        let a = Account::campaign(c, AccountKind::Available);
        let p = Account::campaign(c, AccountKind::Returned);
        let ts =
            [transfer(1, a, 5, "r:1"), transfer(2, p, 3, "r:1"), transfer(3, a, 7, "r:1"), transfer(4, a, 1, "r:2")];
        let m = merge_transfers(&ts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].id, m[0].credit, m[0].amount), (uuid::Uuid::from_u128(1), a, Fen::new(12)));
        assert_eq!((m[1].id, m[1].amount), (uuid::Uuid::from_u128(2), Fen::new(3)));
        assert_eq!((m[2].id, m[2].amount, m[2].reference.as_str()), (uuid::Uuid::from_u128(4), Fen::new(1), "r:2"));
        let total = |ts: &[Transfer]| ts.iter().map(|t| t.amount.as_i64()).sum::<i64>();
        assert_eq!(total(&m), total(&ts));
    }
}
