-- A per-person claim is one row too (issue 5). Same version and name as
-- SQLite's.
--
-- A batch that counts claims per natural person (by the keyed hash of the
-- ID number) kept each claim's slot of that limit as a `claim_slots` row,
-- whose key sits at a random place. Now the claim's first voucher carries
-- the person's hash with its slot, under a unique index of its own (only
-- such vouchers are in it). A batch counting per account and per person
-- keeps the person's slot as a row, as before.
ALTER TABLE vouchers ADD COLUMN person_hash BYTEA;
ALTER TABLE vouchers ADD CONSTRAINT vouchers_person_on_first_tier
    CHECK (person_hash IS NULL OR (length(person_hash) = 32 AND tier = 0 AND slot IS NOT NULL));

-- Claims of per-person batches (their first voucher has no account slot):
-- their slot moves from `claim_slots` onto the voucher.
UPDATE vouchers v
SET slot = s.slot, person_hash = decode(substr(s.scope, 42, 64), 'hex')
FROM claim_slots s
WHERE s.claim_id = v.claim_id AND v.tier = 0 AND v.slot IS NULL AND s.scope LIKE 'b:%:p:%';

DELETE FROM claim_slots s
USING vouchers v
WHERE s.claim_id = v.claim_id AND v.person_hash IS NOT NULL AND s.scope LIKE 'b:%:p:%';

CREATE UNIQUE INDEX vouchers_person_slot ON vouchers (person_hash, batch_id, slot) WHERE person_hash IS NOT NULL;
