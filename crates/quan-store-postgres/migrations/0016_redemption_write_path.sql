-- The till's write path (issue 6: durable redemptions per second on
-- PostgreSQL). Measured with `quan bench redeem` (docs/PERFORMANCE.md).

-- A commit of many redemptions posts one ledger transfer per pair of
-- accounts (e.g. one per merchant's payable account), not one per
-- redemption; each redemption keeps that posting's reference. NULL for
-- redemptions recorded before: their transfers carry `redemption:<id>`.
ALTER TABLE redemptions ADD COLUMN ledger_ref TEXT;

-- Each foreign key is a query PostgreSQL runs for every inserted row, and
-- it locks the referenced row (FOR KEY SHARE), so parallel commits share
-- locks on the same campaign, batch, merchant and till rows through
-- multixacts: the seven keys of a redemption took a third of the machine's
-- CPU at the till. A redemption keeps one, its voucher. Its campaign, batch
-- and resident are copies of the voucher's; its merchant, till and cashier
-- come from the cashier's session and the till (rows quan never deletes).
-- The audit checks all six (`redemption_differs_from_records`), and checks
-- more than the keys did: that the till belongs to the merchant.
ALTER TABLE redemptions DROP CONSTRAINT redemptions_campaign_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_batch_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_resident_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_merchant_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_till_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_cashier_id_fkey;

-- `vouchers (campaign_id, state)` made every `claimed → redeemed` update
-- write a new entry into all five of the table's indexes (an update of an
-- indexed column is never HOT). Lookups by campaign use
-- `vouchers_campaign_created`. Pages filled to 80 % leave room for the
-- updated row on its own page, so the update stays heap-only.
DROP INDEX vouchers_campaign_state;
ALTER TABLE vouchers SET (fillfactor = 80);
