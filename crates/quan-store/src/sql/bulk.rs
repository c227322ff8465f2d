//! The statements of a claim or redemption commit that write one row per
//! voucher or redemption, written per backend: the one place the two
//! differ beyond locking. SQLite takes multi-row `VALUES` statements in a few fixed
//! shapes ([`super::shaped`]); PostgreSQL takes one statement per commit
//! whose parameters are arrays (`UNNEST`), so a commit of any size is one
//! prepared statement with one generic plan, and PostgreSQL sets up no
//! expression per row and parameter.

use std::future::Future;
use std::pin::Pin;

use crate::Redemption;

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;
type Conn<R> = <<R as sqlx::Row>::Database as sqlx::Database>::Connection;

/// Bulk writes of the redemption committer.
pub trait BulkRedemptions: sqlx::Row + Sized {
    /// Marks those of `ids` (sorted, so concurrent commits lock vouchers in
    /// one order) that are `claimed`, not frozen and not locked for a
    /// partner's payment at `now_ms`, as `redeemed`; returns the ids marked.
    fn mark_redeemed<'a>(conn: &'a mut Conn<Self>, ids: &'a [uuid::Uuid], now_ms: i64) -> Fut<'a, Vec<uuid::Uuid>>;
    /// Inserts the redemption rows.
    fn insert_redemptions<'a>(conn: &'a mut Conn<Self>, rows: &'a [&'a Redemption]) -> Fut<'a, ()>;
}

/// The columns of `redemptions`, in the order both backends bind them.
pub const REDEMPTION_COLUMNS: &str = "id, voucher_id, campaign_id, batch_id, kind_code, resident_id, merchant_id, till_id, cashier_id, direction, order_ref, order_fen, basis_fen, discount_fen, face_fen, subsidy_fen, refunded_fen, state, business_day, redeemed_at_ms, platform_match_fen, merchant_match_fen, ledger_ref";

/// The columns a read selects: the redemption's, then its risk hold's
/// (`risk_holds`, joined: NULL when it was not held).
pub const REDEMPTION_READ_COLUMNS: &str = "id, voucher_id, campaign_id, batch_id, kind_code, resident_id, merchant_id, till_id, cashier_id, direction, order_ref, order_fen, basis_fen, discount_fen, face_fen, subsidy_fen, refunded_fen, state, business_day, redeemed_at_ms, platform_match_fen, merchant_match_fen, ledger_ref, held_fen, amount_fen, rules, score, outcome";

/// One column of `rows`, as the array PostgreSQL's `UNNEST` takes.
fn column<T>(rows: &[&Redemption], f: impl Fn(&Redemption) -> T) -> Vec<T> {
    rows.iter().map(|r| f(r)).collect()
}

fn day(r: &Redemption) -> String {
    r.business_day.format("%Y-%m-%d").to_string()
}

impl BulkRedemptions for sqlx::sqlite::SqliteRow {
    fn mark_redeemed<'a>(
        conn: &'a mut sqlx::SqliteConnection,
        ids: &'a [uuid::Uuid],
        now_ms: i64,
    ) -> Fut<'a, Vec<uuid::Uuid>> {
        Box::pin(async move {
            let mut marked = Vec::with_capacity(ids.len());
            for chunk in super::shaped(ids) {
                let sql = format!(
                    "UPDATE vouchers SET state = 'redeemed', lock_id = NULL, locked_until_ms = NULL
                     WHERE id IN ({}) AND state = 'claimed' AND frozen_at_ms IS NULL
                       AND (locked_until_ms IS NULL OR locked_until_ms <= ?) RETURNING id",
                    super::list::<Self>(chunk.len())
                );
                let mut q = sqlx::query_scalar::<_, uuid::Uuid>(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q = q.bind(now_ms);
                marked.extend(q.fetch_all(&mut *conn).await?);
            }
            Ok(marked)
        })
    }

    fn insert_redemptions<'a>(conn: &'a mut sqlx::SqliteConnection, rows: &'a [&'a Redemption]) -> Fut<'a, ()> {
        Box::pin(async move {
            for chunk in super::shaped(rows) {
                let sql = format!(
                    "INSERT INTO redemptions ({REDEMPTION_COLUMNS}) VALUES {}",
                    super::values::<Self>(chunk.len(), 23)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q
                        .bind(r.id)
                        .bind(r.voucher_id)
                        .bind(r.campaign_id.as_uuid())
                        .bind(r.batch_id.as_uuid())
                        .bind(r.kind_code.clone())
                        .bind(r.resident_id.as_uuid())
                        .bind(r.merchant_id.as_uuid())
                        .bind(r.till_id.map(|t| t.as_uuid()))
                        .bind(r.cashier_id.map(|u| u.as_uuid()))
                        .bind(r.direction.as_str())
                        .bind(r.order_ref.clone())
                        .bind(r.order.as_i64())
                        .bind(r.basis.as_i64())
                        .bind(r.discount.as_i64())
                        .bind(r.face.as_i64())
                        .bind(r.subsidy.as_i64())
                        .bind(r.refunded.as_i64())
                        .bind(r.state.as_str())
                        .bind(day(r))
                        .bind(r.redeemed_at.timestamp_millis())
                        .bind(r.platform_match.as_i64())
                        .bind(r.merchant_match.as_i64())
                        .bind(r.ledger_ref.clone());
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        })
    }
}

impl BulkRedemptions for sqlx::postgres::PgRow {
    fn mark_redeemed<'a>(
        conn: &'a mut sqlx::PgConnection,
        ids: &'a [uuid::Uuid],
        now_ms: i64,
    ) -> Fut<'a, Vec<uuid::Uuid>> {
        Box::pin(async move {
            // A nested loop over the array in its (sorted) order, each id
            // one primary-key lookup, whatever the table's statistics say.
            sqlx::query_scalar::<_, uuid::Uuid>(
                "UPDATE vouchers SET state = 'redeemed', lock_id = NULL, locked_until_ms = NULL FROM UNNEST($1::uuid[]) AS u(id)
                 WHERE vouchers.id = u.id AND vouchers.state = 'claimed' AND vouchers.frozen_at_ms IS NULL
                   AND (vouchers.locked_until_ms IS NULL OR vouchers.locked_until_ms <= $2) RETURNING vouchers.id",
            )
            .bind(ids)
            .bind(now_ms)
            .fetch_all(&mut *conn)
            .await
        })
    }

    fn insert_redemptions<'a>(conn: &'a mut sqlx::PgConnection, rows: &'a [&'a Redemption]) -> Fut<'a, ()> {
        Box::pin(async move {
            if rows.is_empty() {
                return Ok(());
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO redemptions ({REDEMPTION_COLUMNS})
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::uuid[],
                                      $8::uuid[], $9::uuid[], $10::text[], $11::text[], $12::int8[], $13::int8[], $14::int8[],
                                      $15::int8[], $16::int8[], $17::int8[], $18::text[], $19::text[], $20::int8[], $21::int8[],
                                      $22::int8[], $23::text[])"
            )))
            .bind(column(rows, |r| r.id))
            .bind(column(rows, |r| r.voucher_id))
            .bind(column(rows, |r| r.campaign_id.as_uuid()))
            .bind(column(rows, |r| r.batch_id.as_uuid()))
            .bind(column(rows, |r| r.kind_code.clone()))
            .bind(column(rows, |r| r.resident_id.as_uuid()))
            .bind(column(rows, |r| r.merchant_id.as_uuid()))
            .bind(column(rows, |r| r.till_id.map(|t| t.as_uuid())))
            .bind(column(rows, |r| r.cashier_id.map(|u| u.as_uuid())))
            .bind(column(rows, |r| r.direction.as_str().to_string()))
            .bind(column(rows, |r| r.order_ref.clone()))
            .bind(column(rows, |r| r.order.as_i64()))
            .bind(column(rows, |r| r.basis.as_i64()))
            .bind(column(rows, |r| r.discount.as_i64()))
            .bind(column(rows, |r| r.face.as_i64()))
            .bind(column(rows, |r| r.subsidy.as_i64()))
            .bind(column(rows, |r| r.refunded.as_i64()))
            .bind(column(rows, |r| r.state.as_str().to_owned()))
            .bind(column(rows, day))
            .bind(column(rows, |r| r.redeemed_at.timestamp_millis()))
            .bind(column(rows, |r| r.platform_match.as_i64()))
            .bind(column(rows, |r| r.merchant_match.as_i64()))
            .bind(column(rows, |r| r.ledger_ref.clone()))
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }
}

/// One voucher row of a claim commit: a claim's first voucher carries its
/// slot of the batch's limit (and, when the batch counts only per person,
/// the person's ID hash); a pack's other vouchers carry neither.
#[derive(Debug, Clone, Copy)]
pub struct VoucherRow<'a> {
    pub id: uuid::Uuid,
    pub claim_id: uuid::Uuid,
    pub kind_code: &'a str,
    pub tier: u32,
    pub resident_id: uuid::Uuid,
    pub face_fen: i64,
    pub slot: Option<u32>,
    pub person_hash: Option<&'a [u8; 32]>,
    pub claim_district: Option<&'a str>,
}

/// The columns of `vouchers` a claim commit writes, in the order both
/// backends bind them.
pub const CLAIMED_VOUCHER_COLUMNS: &str = "id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms, slot, person_hash, claim_district, channel";

/// Bulk writes of the claim committer.
pub trait BulkClaims: sqlx::Row + Sized {
    /// Inserts `rows` as `claimed` vouchers of `campaign`'s `batch` made at
    /// `at_ms` through `channel`, in their order, skipping a row whose slot is taken (by the
    /// account, or by the person through any account); returns the claim id
    /// of each row stored.
    fn insert_vouchers<'a>(
        conn: &'a mut Conn<Self>,
        campaign: uuid::Uuid,
        batch: uuid::Uuid,
        at_ms: i64,
        channel: &'a str,
        rows: &'a [VoucherRow<'a>],
    ) -> Fut<'a, Vec<uuid::Uuid>>;
}

impl BulkClaims for sqlx::sqlite::SqliteRow {
    /// Per chunk (shaped, or padded for a large commit): one `INSERT …
    /// SELECT` over a `VALUES` list of the nine columns that differ by
    /// row, with the campaign, batch and time bound once, and no
    /// `RETURNING`: the number of rows stored says
    /// whether every row went in (nearly always, as this node's memory
    /// refuses a claim over the limit before it is queued); only when some
    /// did not are the chunk's rows read back by their ids, which are new
    /// for this commit. Against the earlier 12-parameter rows with
    /// `RETURNING claim_id` this took the step from 11–15 to 9–10.5 µs a
    /// claim (docs/PERFORMANCE.md, tenth session).
    fn insert_vouchers<'a>(
        conn: &'a mut sqlx::SqliteConnection,
        campaign: uuid::Uuid,
        batch: uuid::Uuid,
        at_ms: i64,
        channel: &'a str,
        rows: &'a [VoucherRow<'a>],
    ) -> Fut<'a, Vec<uuid::Uuid>> {
        Box::pin(async move {
            let mut got = Vec::with_capacity(rows.len());
            // A large commit goes in statements of `PADDED_ROWS` rows, the
            // last one filled up with rows of NULLs that the `WHERE` drops:
            // one prepared statement and one round trip for a whole commit.
            let pad = rows.len() >= PADDED_FROM;
            let chunks: Vec<&[VoucherRow<'_>]> =
                if pad { rows.chunks(PADDED_ROWS).collect() } else { super::shaped(rows) };
            for chunk in chunks {
                let shape = if pad { PADDED_ROWS } else { chunk.len() };
                let mut q = match sqlite_voucher_insert(shape) {
                    Some(sql) => sqlx::query(sqlx::AssertSqlSafe(sql)),
                    None => sqlx::query(sqlx::AssertSqlSafe(sqlite_voucher_insert_text(shape))),
                };
                for _ in chunk.len()..shape {
                    q = q
                        .bind(None::<uuid::Uuid>)
                        .bind(None::<uuid::Uuid>)
                        .bind(None::<&str>)
                        .bind(None::<i64>)
                        .bind(None::<uuid::Uuid>)
                        .bind(None::<i64>)
                        .bind(None::<i64>)
                        .bind(None::<&[u8]>)
                        .bind(None::<&str>);
                }
                for r in chunk {
                    q = q
                        .bind(r.id)
                        .bind(r.claim_id)
                        .bind(r.kind_code)
                        .bind(i64::from(r.tier))
                        .bind(r.resident_id)
                        .bind(r.face_fen)
                        .bind(r.slot.map(i64::from))
                        .bind(r.person_hash.map(|p| p.as_slice()))
                        .bind(r.claim_district);
                }
                let stored =
                    q.bind(campaign).bind(batch).bind(at_ms).bind(channel).execute(&mut *conn).await?.rows_affected();
                if usize::try_from(stored).ok() == Some(chunk.len()) {
                    got.extend(chunk.iter().map(|r| r.claim_id));
                    continue;
                }
                let sql = format!("SELECT claim_id FROM vouchers WHERE id IN ({})", super::list::<Self>(chunk.len()));
                let mut q = sqlx::query_scalar::<_, uuid::Uuid>(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.id);
                }
                got.extend(q.fetch_all(&mut *conn).await?);
            }
            Ok(got)
        })
    }
}

/// Parameters of one row in SQLite's claim insert (id, claim id, kind,
/// tier, resident, face value, slot, person).
const VOUCHER_ROW_PARAMETERS: usize = 9;
/// Rows of SQLite's padded claim insert (8 192 parameters of the 32 766
/// SQLite allows), used from `PADDED_FROM` rows on: against the shaped
/// statements (256, 32, 8, …: eleven for 1 000 claims) the rows of a grab
/// alone went from 37 000–48 000 to 48 000–58 000 a second
/// (docs/PERFORMANCE.md, eleventh session).
const PADDED_ROWS: usize = 1024;
const PADDED_FROM: usize = 512;

/// The text of SQLite's claim insert for `rows` rows. The row values come
/// first, so their anonymous `?`s are parameters 1 to 8 × rows; the four
/// shared ones (campaign, batch, time, channel) are numbered after them.
fn sqlite_voucher_insert_text(rows: usize) -> String {
    let shared = rows * VOUCHER_ROW_PARAMETERS;
    format!(
        "WITH v AS (VALUES {}) INSERT INTO vouchers ({CLAIMED_VOUCHER_COLUMNS})
         SELECT column1, column2, ?{}, ?{}, column3, column4, column5, column6, 'claimed', ?{}, column7, column8, column9, ?{}
         FROM v WHERE column1 IS NOT NULL ON CONFLICT DO NOTHING",
        super::values::<sqlx::sqlite::SqliteRow>(rows, VOUCHER_ROW_PARAMETERS),
        shared + 1,
        shared + 2,
        shared + 3,
        shared + 4
    )
}

/// The claim insert's text for each size a commit uses (the shapes and
/// the padded statement), built once per process rather than per commit
/// (the padded one alone has 8 192 placeholders).
fn sqlite_voucher_insert(rows: usize) -> Option<&'static str> {
    static BUILT: std::sync::OnceLock<Vec<(usize, String)>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        super::SHAPES.iter().copied().chain([PADDED_ROWS]).map(|n| (n, sqlite_voucher_insert_text(n))).collect()
    });
    built.iter().find(|(n, _)| *n == rows).map(|(_, sql)| sql.as_str())
}

impl BulkClaims for sqlx::postgres::PgRow {
    fn insert_vouchers<'a>(
        conn: &'a mut sqlx::PgConnection,
        campaign: uuid::Uuid,
        batch: uuid::Uuid,
        at_ms: i64,
        channel: &'a str,
        rows: &'a [VoucherRow<'a>],
    ) -> Fut<'a, Vec<uuid::Uuid>> {
        Box::pin(async move {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            // One statement whatever the number of rows: the arrays'
            // elements are inserted in their order (which the commit chose
            // so that commits meeting on a resident or person cannot wait
            // for each other in a cycle).
            sqlx::query_scalar::<_, uuid::Uuid>(sqlx::AssertSqlSafe(format!(
                "INSERT INTO vouchers ({CLAIMED_VOUCHER_COLUMNS})
                 SELECT u.id, u.claim_id, $1, $2, u.kind_code, u.tier, u.resident_id, u.face_fen, 'claimed', $3, u.slot, u.person_hash, u.claim_district, $13
                 FROM UNNEST($4::uuid[], $5::uuid[], $6::text[], $7::int8[], $8::uuid[], $9::int8[], $10::int8[], $11::bytea[], $12::text[])
                      AS u(id, claim_id, kind_code, tier, resident_id, face_fen, slot, person_hash, claim_district)
                 ON CONFLICT DO NOTHING RETURNING claim_id"
            )))
            .bind(campaign)
            .bind(batch)
            .bind(at_ms)
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.claim_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.kind_code).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| i64::from(r.tier)).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.resident_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.face_fen).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.slot.map(i64::from)).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.person_hash.map(|p| p.to_vec())).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.claim_district).collect::<Vec<_>>())
            .bind(channel)
            .fetch_all(&mut *conn)
            .await
        })
    }
}
