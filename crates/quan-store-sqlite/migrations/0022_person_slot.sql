-- A per-person claim is one row too (issue 5). Same version and name as
-- PostgreSQL's.
--
-- A batch that counts claims per natural person (by the keyed hash of the
-- ID number) kept each claim's slot of that limit as a `claim_slots` row,
-- whose key sits at a random place. Now the claim's first voucher carries
-- the person's hash with its slot, under a unique index of its own (only
-- such vouchers are in it). A batch counting per account and per person
-- keeps the person's slot as a row, as before.
ALTER TABLE vouchers ADD COLUMN person_hash BLOB
    CHECK (person_hash IS NULL OR (length(person_hash) = 32 AND tier = 0 AND slot IS NOT NULL));

-- Claims of per-person batches (their first voucher has no account slot):
-- their slot moves from `claim_slots` onto the voucher.
UPDATE vouchers
SET slot = (SELECT s.slot FROM claim_slots s WHERE s.claim_id = vouchers.claim_id AND s.scope LIKE 'b:%:p:%'),
    person_hash = (SELECT unhex(substr(s.scope, 42, 64)) FROM claim_slots s
                   WHERE s.claim_id = vouchers.claim_id AND s.scope LIKE 'b:%:p:%')
WHERE tier = 0 AND slot IS NULL
  AND EXISTS (SELECT 1 FROM claim_slots s WHERE s.claim_id = vouchers.claim_id AND s.scope LIKE 'b:%:p:%');

DELETE FROM claim_slots
WHERE scope LIKE 'b:%:p:%'
  AND claim_id IN (SELECT claim_id FROM vouchers WHERE person_hash IS NOT NULL);

CREATE UNIQUE INDEX vouchers_person_slot ON vouchers (person_hash, batch_id, slot) WHERE person_hash IS NOT NULL;
