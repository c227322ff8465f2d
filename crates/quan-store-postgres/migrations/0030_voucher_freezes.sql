-- Vouchers held back from use (issue 25). Same version and name as
-- SQLite's.
--
-- When an operator resolves an identity conflict for the verified holder,
-- the other account's claims under that ID number are frozen: the voucher
-- stays `claimed` (it still expires, and its face then returns to the
-- budget), but no till takes it. The two columns make the check part of the
-- redemption's guarded update; `voucher_freezes` keeps who, when, why and
-- the person slot the claim gave up, for the record and for a release.
ALTER TABLE vouchers ADD COLUMN frozen_at_ms BIGINT;
ALTER TABLE vouchers ADD COLUMN frozen_reason TEXT;

CREATE TABLE voucher_freezes (
    voucher_id      UUID NOT NULL,
    resident_id     UUID NOT NULL,
    face_fen        BIGINT NOT NULL,
    reason          TEXT NOT NULL,
    -- The identity conflict (or, later, the case) that froze it.
    source_id       UUID NOT NULL,
    -- The person the claim was made under (its per-person slots given up).
    person_hash     BYTEA,
    frozen_by       UUID NOT NULL,
    frozen_at_ms    BIGINT NOT NULL,
    released_by     UUID,
    released_at_ms  BIGINT,
    PRIMARY KEY (voucher_id, frozen_at_ms)
);

CREATE INDEX voucher_freezes_source ON voucher_freezes (source_id);

-- 0029 gave the conflict's ID-number hash a UUID column; it is 32 bytes, as
-- in `resident_identities` (no row could have been written).
ALTER TABLE identity_conflicts ALTER COLUMN id_hash TYPE BYTEA USING decode(replace(id_hash::text, '-', ''), 'hex');

-- What resolving a conflict did to the other account's claims.
ALTER TABLE identity_conflicts ADD COLUMN frozen_vouchers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE identity_conflicts ADD COLUMN frozen_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE identity_conflicts ADD COLUMN slots_released BIGINT NOT NULL DEFAULT 0;
