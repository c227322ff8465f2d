//! SQL shared by both backends. SQLite and PostgreSQL accept the same
//! statements here (`$1` placeholders, `ON CONFLICT`, `RETURNING`), so each
//! aggregate's implementation is written once, as a macro that each backend
//! expands with its own store and row types. Only what truly differs
//! (connection setup, migrations, locking) lives in the backend crates.

pub mod accounts;
pub mod bulk;
pub mod campaign_drafts;
pub mod campaigns;
pub mod channels;
pub mod claims;
pub mod complaints;
pub mod districts;
pub mod eligibility;
pub mod freezes;
pub mod idempotency;
pub mod ledger;
pub mod merchant_alike;
pub mod merchants;
pub mod partner_bindings;
pub mod partner_orders;
pub mod partners;
pub mod redemptions;
pub mod reports;
pub mod risk;
pub mod risk_cases;
pub mod risk_facts;
pub mod risk_holds;
pub mod sessions;
pub mod settlements;
pub mod webhooks;

/// Implements every store trait for a backend's `$store`, whose rows are
/// `$row`: the one entry each backend expands. The order is fixed and is
/// the order of need: the account stores first, then the ledger (its
/// posting is what claims, campaigns and redemptions call), merchants,
/// districts, eligibility, idempotency keys, claims (their voucher reader
/// is what redemptions call), campaigns, redemptions, settlements, reports. A commit of
/// one claim batch runs up to `commits_in_parallel` at once, and the stock
/// pick ends with `stock_pick_lock` (see `impl_claim_store!`).
#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty, $row:ty, commits_in_parallel: $parallel:expr, stock_pick_lock: $lock:expr) => {
        $crate::impl_account_stores!($store, $row);
        $crate::impl_ledger_store!($store, $row);
        $crate::impl_merchant_store!($store, $row);
        $crate::impl_merchant_alike_store!($store, $row);
        $crate::impl_transfer_search_store!($store);
        $crate::impl_district_store!($store, $row);
        $crate::impl_eligibility_store!($store, $row);
        $crate::impl_idempotency_store!($store, $row);
        $crate::impl_claim_store!($store, $row, $parallel, $lock);
        $crate::impl_campaign_store!($store, $row);
        $crate::impl_campaign_draft_store!($store, $row);
        $crate::impl_redemption_store!($store, $row);
        $crate::impl_settlement_store!($store, $row);
        $crate::impl_report_store!($store, $row);
        $crate::impl_complaint_store!($store, $row);
        $crate::impl_freeze_sql!($row);
        $crate::impl_risk_store!($store, $row);
        $crate::impl_risk_hold_store!($store, $row);
        $crate::impl_risk_fact_sql!($row);
        $crate::impl_risk_case_store!($store, $row);
        $crate::impl_webhook_store!($store, $row);
        $crate::impl_partner_store!($store, $row);
        $crate::impl_partner_order_store!($store, $row);
        $crate::impl_binding_store!($store, $row);
        $crate::impl_channel_store!($store, $row);
    };
}

/// A deadlock or serialization failure (PostgreSQL breaking a lock cycle
/// between two transactions): the batch that met it is worth trying again.
pub fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}

/// The one mapping of a driver error: no row is `NotFound`, a deadlock or
/// serialization failure is `Retry` (the batch commits try again), anything
/// else is `Other` (logged by whoever answers, never shown to a client).
pub fn err(e: sqlx::Error) -> crate::StoreError {
    match e {
        sqlx::Error::RowNotFound => crate::StoreError::NotFound,
        e if is_retryable(&e) => crate::StoreError::Retry,
        e => crate::StoreError::other(e),
    }
}

/// [`err`], with a unique violation named: `Conflict { what }`, so the
/// caller can say precisely what already exists.
pub fn unique(what: &'static str) -> impl Fn(sqlx::Error) -> crate::StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => crate::StoreError::Conflict { what },
        _ => err(e),
    }
}

/// One column, decoded; every store of both backends reads through it
/// (`get::<_, String>(row, "name")` where the type is not inferred).
pub fn get<R: sqlx::Row, T>(row: &R, col: &str) -> Result<T, crate::StoreError>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    T: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(col).map_err(crate::StoreError::other)
}

/// A stored business day (`2026-12-05`).
pub fn day(s: &str) -> Result<chrono::NaiveDate, crate::StoreError> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| crate::StoreError::message(format!("bad business day {s:?}: {e}")))
}

/// A stored instant (Unix milliseconds).
pub fn at(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A row's `state` column as its enum, parsed at the store's edge: a value
/// the enum does not know is an error naming it, never a default.
pub fn state<R: sqlx::Row, T>(row: &R, parse: fn(&str) -> Option<T>) -> Result<T, crate::StoreError>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let text: String = get(row, "state")?;
    parse(&text).ok_or_else(|| crate::StoreError::message(format!("stored state `{text}` is unknown")))
}

/// How a backend numbers the bind parameters of the generated multi-row
/// statements below (every parameter of such a statement is generated).
pub trait Placeholders {
    /// `?` for each (SQLite): binding is then linear in the number of
    /// parameters. With `$n` names sqlx looks each name up with
    /// `sqlite3_bind_parameter_name`, itself linear, so a statement of `p`
    /// parameters costs `p²` (a 32-row redemption insert, 704 parameters,
    /// took longer to bind than to run).
    const ANONYMOUS: bool;
}

impl Placeholders for sqlx::sqlite::SqliteRow {
    const ANONYMOUS: bool = true;
}

impl Placeholders for sqlx::postgres::PgRow {
    const ANONYMOUS: bool = false;
}

/// How a backend locks rows it is about to update, so that concurrent
/// transactions take them in one order.
pub trait RowLocks {
    /// ` FOR NO KEY UPDATE` on PostgreSQL (the lock an `UPDATE` of non-key
    /// columns takes: it lets other transactions' foreign-key checks on the
    /// row through, where `FOR UPDATE` would deadlock with them); nothing on
    /// SQLite, whose one writer at a time has no row locks.
    const FOR_UPDATE: &'static str;
}

impl RowLocks for sqlx::sqlite::SqliteRow {
    const FOR_UPDATE: &'static str = "";
}

impl RowLocks for sqlx::postgres::PgRow {
    const FOR_UPDATE: &'static str = " FOR NO KEY UPDATE";
}

fn placeholder<R: Placeholders>(n: usize) -> String {
    if R::ANONYMOUS { "?".to_owned() } else { format!("${n}") }
}

/// `($1, $2, $3), ($4, $5, $6)…` (or `(?, ?, ?), …`): `rows` rows of `cols`
/// placeholders, for backend row type `R`.
pub fn values<R: Placeholders>(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=cols).map(|c| placeholder::<R>(r * cols + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1, $2, …, $n` (or `?, ?, …`), for backend row type `R`.
pub fn list<R: Placeholders>(n: usize) -> String {
    (1..=n).map(placeholder::<R>).collect::<Vec<_>>().join(", ")
}

/// Multi-row statements come in these few sizes only, so each shape is
/// prepared once and then found in the statement cache. (They were once kept
/// at 32 rows or fewer because `$n` names made binding quadratic on SQLite;
/// see [`Placeholders`] for why that no longer applies. The 256-row shape
/// took a batch of 1 024 redemptions on SQLite from 19 644–20 332 to
/// 20 666–27 102 redemptions/s, three runs each; 256 × 22 parameters stays
/// well under both backends' limits.)
pub const SHAPES: [usize; 5] = [256, 32, 8, 2, 1];

/// Splits `items` into slices whose lengths are all in [`SHAPES`].
pub fn shaped<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    while !items.is_empty() {
        let size = SHAPES.iter().copied().find(|s| *s <= items.len()).unwrap_or(1);
        let (head, tail) = items.split_at(size);
        out.push(head);
        items = tail;
    }
    out
}

/// A `LIKE … ESCAPE '\\'` pattern that finds `search` anywhere, case
/// folded (`lower()` on both sides): `%`, `_` and `\\` in it match themselves.
pub fn contains_pattern(search: &str) -> String {
    let mut p = String::with_capacity(search.len() + 2);
    p.push('%');
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_slices_keep_every_item_in_order_in_the_few_prepared_sizes() {
        for n in 0..600usize {
            let items: Vec<usize> = (0..n).collect();
            let parts = shaped(&items);
            assert!(parts.iter().all(|p| SHAPES.contains(&p.len())));
            assert_eq!(parts.concat(), items);
        }
    }

    #[test]
    fn placeholders_are_numbered_row_by_row_on_postgres_and_anonymous_on_sqlite() {
        use sqlx::postgres::PgRow;
        use sqlx::sqlite::SqliteRow;
        assert_eq!(values::<PgRow>(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(list::<PgRow>(3), "$1, $2, $3");
        assert_eq!(values::<SqliteRow>(2, 2), "(?, ?), (?, ?)");
        assert_eq!(list::<SqliteRow>(3), "?, ?, ?");
    }
}
