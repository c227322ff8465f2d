-- The till's write path (issue 6). Same version and name as PostgreSQL's.

-- A commit of many redemptions posts one ledger transfer per pair of
-- accounts (e.g. one per merchant's payable account), not one per
-- redemption; each redemption keeps that posting's reference. NULL for
-- redemptions recorded before: their transfers carry `redemption:<id>`.
ALTER TABLE redemptions ADD COLUMN ledger_ref TEXT;

-- Every `claimed → redeemed` update rewrote this index's entry; lookups by
-- campaign use `vouchers_campaign_created`. (PostgreSQL also drops six of a
-- redemption's seven foreign keys, all but its voucher's; SQLite keeps them:
-- rebuilding the table is not worth the few microseconds they cost here,
-- where there are no row locks. The audit checks the same facts on both.)
DROP INDEX vouchers_campaign_state;
