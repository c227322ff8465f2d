-- quan: foreign keys off
-- A claim is its vouchers (issue 5). Same version and name as PostgreSQL's.
--
-- A claim used to write three rows and nine index entries, three of them at
-- random places (by resident): a `claims` row, a `claim_slots` row for the
-- batch's per-account limit, and its voucher. Every commit of a grab then
-- dirtied a page per claim in each random index and wrote them all to the
-- WAL. Now the voucher is the claim's only row: the claim's first voucher
-- (tier 0) carries its slot of the batch's per-account limit, and one unique
-- index (resident, batch, slot, tier) both makes "at most N per account per
-- batch" hold across nodes and finds a resident's vouchers. Other limits
-- (per person, kind, campaign, day) keep their `claim_slots` rows.
--
-- SQLite cannot drop a foreign key in place, so `vouchers` and `claim_slots`
-- (whose rows referenced `claims`) are rebuilt, with foreign keys off for
-- this migration; the runner checks them all before it commits. The
-- rebuilt `vouchers` also drops its foreign keys to campaigns, batches and
-- residents, as PostgreSQL did in 0017: three B-tree lookups per claim
-- (14 % of a grab's claims per second on SQLite, measured); the audit
-- checks the same facts on both backends (`claims_unlike_records`).
-- Redemptions still reference their voucher.

CREATE TABLE vouchers_rebuilt (
    id              BLOB PRIMARY KEY NOT NULL,
    claim_id        BLOB NOT NULL,
    campaign_id     BLOB NOT NULL,
    batch_id        BLOB NOT NULL,
    kind_code       TEXT NOT NULL,
    tier            INTEGER NOT NULL,
    resident_id     BLOB NOT NULL,
    face_fen        INTEGER NOT NULL CHECK (face_fen > 0),
    state           TEXT NOT NULL CHECK (state IN ('claimed', 'redeemed', 'expired')),
    created_at_ms   INTEGER NOT NULL,
    -- The claim's slot of its batch's per-account limit (tier 0 only).
    slot            INTEGER CHECK (slot IS NULL OR (slot >= 0 AND tier = 0))
) STRICT;

INSERT INTO vouchers_rebuilt
    (id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms, slot)
SELECT v.id, v.claim_id, v.campaign_id, v.batch_id, v.kind_code, v.tier, v.resident_id, v.face_fen, v.state,
       v.created_at_ms,
       CASE WHEN v.tier = 0 THEN
           (SELECT s.slot FROM claim_slots s WHERE s.claim_id = v.claim_id AND s.scope LIKE 'b:%:r:%')
       END
FROM vouchers v;

CREATE TABLE claim_slots_rebuilt (
    scope           TEXT NOT NULL,
    slot            INTEGER NOT NULL,
    claim_id        BLOB NOT NULL,
    PRIMARY KEY (scope, slot)
) STRICT;

INSERT INTO claim_slots_rebuilt (scope, slot, claim_id)
SELECT scope, slot, claim_id FROM claim_slots WHERE scope NOT LIKE 'b:%:r:%';

DROP TABLE claim_slots;
ALTER TABLE claim_slots_rebuilt RENAME TO claim_slots;
CREATE INDEX claim_slots_claim ON claim_slots (claim_id);

DROP TABLE vouchers;
ALTER TABLE vouchers_rebuilt RENAME TO vouchers;
CREATE UNIQUE INDEX vouchers_resident_slot ON vouchers (resident_id, batch_id, slot, tier);
CREATE INDEX vouchers_campaign_created ON vouchers (campaign_id, created_at_ms);
CREATE INDEX vouchers_claim ON vouchers (claim_id);

DROP TABLE claims;
