-- A claim is its vouchers (issue 5). Same version and name as SQLite's.
--
-- A claim used to write three rows and nine index entries, three of them at
-- random places (by resident): a `claims` row, a `claim_slots` row for the
-- batch's per-account limit, and its voucher. Now the voucher is the claim's
-- only row: the claim's first voucher (tier 0) carries its slot of the
-- batch's per-account limit, and one unique index (resident, batch, slot,
-- tier) both makes "at most N per account per batch" hold across nodes and
-- finds a resident's vouchers (it replaces `vouchers_resident`). Other
-- limits (per person, kind, campaign, day) keep their `claim_slots` rows.
-- The foreign keys to `claims` went in 0017.

ALTER TABLE vouchers ADD COLUMN slot INTEGER;
ALTER TABLE vouchers ADD CONSTRAINT vouchers_slot_on_first_tier CHECK (slot IS NULL OR (slot >= 0 AND tier = 0));

UPDATE vouchers v SET slot = s.slot
FROM claim_slots s
WHERE s.claim_id = v.claim_id AND v.tier = 0 AND s.scope LIKE 'b:%:r:%';

DELETE FROM claim_slots WHERE scope LIKE 'b:%:r:%';

CREATE UNIQUE INDEX vouchers_resident_slot ON vouchers (resident_id, batch_id, slot, tier);
DROP INDEX vouchers_resident;

DROP TABLE claims;
