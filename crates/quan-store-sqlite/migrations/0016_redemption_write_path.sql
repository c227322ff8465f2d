-- The till's write path (issue 6). Same version and name as PostgreSQL's.

-- A commit of many redemptions posts one ledger transfer per pair of
-- accounts (e.g. one per merchant's payable account), not one per
-- redemption; each redemption keeps that posting's reference. NULL for
-- redemptions recorded before: their transfers carry `redemption:<id>`.
ALTER TABLE redemptions ADD COLUMN ledger_ref TEXT;

-- Every `claimed → redeemed` update rewrote this index's entry; lookups by
-- campaign use `vouchers_campaign_created`. (PostgreSQL also drops the
-- foreign keys of a redemption's copies of its voucher's campaign, batch and
-- resident; SQLite keeps them: rebuilding the table is not worth the few
-- microseconds they cost here. The audit checks the copies on both.)
DROP INDEX vouchers_campaign_state;
