-- Claims. Stock is split into buckets (rows) so several nodes do not all
-- update one row; every per-resident limit is a set of numbered slots whose
-- primary key makes "at most N" hold even across nodes; a claim hands out
-- one voucher, or one per tier of a pack.

CREATE TABLE batch_stock (
    batch_id        UUID NOT NULL REFERENCES batches (id),
    kind_code       TEXT NOT NULL,
    bucket          BIGINT NOT NULL,
    remaining       BIGINT NOT NULL CHECK (remaining >= 0),
    PRIMARY KEY (batch_id, kind_code, bucket)
);

CREATE TABLE claims (
    id              UUID PRIMARY KEY,
    batch_id        UUID NOT NULL REFERENCES batches (id),
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    kind_code       TEXT NOT NULL,
    resident_id     UUID NOT NULL REFERENCES residents (id),
    face_fen        BIGINT NOT NULL CHECK (face_fen > 0),
    business_day    TEXT NOT NULL,
    claimed_at_ms   BIGINT NOT NULL
);
CREATE INDEX claims_batch ON claims (batch_id);
CREATE INDEX claims_resident ON claims (resident_id);

CREATE TABLE claim_slots (
    scope           TEXT NOT NULL,
    slot            BIGINT NOT NULL,
    claim_id        UUID NOT NULL REFERENCES claims (id),
    PRIMARY KEY (scope, slot)
);

-- Refused claims give their slots back by claim id.
CREATE INDEX claim_slots_claim ON claim_slots (claim_id);

CREATE TABLE vouchers (
    id              UUID PRIMARY KEY,
    claim_id        UUID NOT NULL REFERENCES claims (id),
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    batch_id        UUID NOT NULL REFERENCES batches (id),
    kind_code       TEXT NOT NULL,
    tier            BIGINT NOT NULL,
    resident_id     UUID NOT NULL REFERENCES residents (id),
    face_fen        BIGINT NOT NULL CHECK (face_fen > 0),
    state           TEXT NOT NULL CHECK (state IN ('claimed', 'redeemed', 'expired')),
    created_at_ms   BIGINT NOT NULL
);
CREATE INDEX vouchers_resident ON vouchers (resident_id);
CREATE INDEX vouchers_campaign_state ON vouchers (campaign_id, state);
