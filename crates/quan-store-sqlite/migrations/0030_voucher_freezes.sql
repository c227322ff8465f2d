-- Vouchers held back from use (issue 25). Same version and name as
-- PostgreSQL's.
--
-- When an operator resolves an identity conflict for the verified holder,
-- the other account's claims under that ID number are frozen: the voucher
-- stays `claimed` (it still expires, and its face then returns to the
-- budget), but no till takes it. The two columns make the check part of the
-- redemption's guarded update; `voucher_freezes` keeps who, when, why and
-- the person slot the claim gave up, for the record and for a release.
ALTER TABLE vouchers ADD COLUMN frozen_at_ms INTEGER;
ALTER TABLE vouchers ADD COLUMN frozen_reason TEXT;

CREATE TABLE voucher_freezes (
    voucher_id      BLOB NOT NULL,
    resident_id     BLOB NOT NULL,
    face_fen        INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    -- The identity conflict (or, later, the case) that froze it.
    source_id       BLOB NOT NULL,
    -- The person the claim was made under (its per-person slots given up).
    person_hash     BLOB,
    frozen_by       BLOB NOT NULL,
    frozen_at_ms    INTEGER NOT NULL,
    released_by     BLOB,
    released_at_ms  INTEGER,
    PRIMARY KEY (voucher_id, frozen_at_ms)
) STRICT;

CREATE INDEX voucher_freezes_source ON voucher_freezes (source_id);

-- What resolving a conflict did to the other account's claims.
ALTER TABLE identity_conflicts ADD COLUMN frozen_vouchers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identity_conflicts ADD COLUMN frozen_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identity_conflicts ADD COLUMN slots_released INTEGER NOT NULL DEFAULT 0;
