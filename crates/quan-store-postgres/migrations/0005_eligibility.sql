-- Verified identities of residents (keyed hash and masked form only, plus
-- the household region and birth date eligibility rules need), and imported
-- lists of people, stored as keyed hashes.

CREATE TABLE resident_identities (
    resident_id     UUID PRIMARY KEY REFERENCES residents (id),
    id_hash         BYTEA NOT NULL CHECK (length(id_hash) = 32),
    id_masked       TEXT NOT NULL,
    household_region TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    verified_at_ms  BIGINT NOT NULL
);
CREATE INDEX resident_identities_hash ON resident_identities (id_hash);

CREATE TABLE eligibility_lists (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    region          TEXT NOT NULL,
    created_by      UUID NOT NULL,
    created_at_ms   BIGINT NOT NULL
);

CREATE TABLE list_members (
    list_id         UUID NOT NULL REFERENCES eligibility_lists (id),
    kind            TEXT NOT NULL CHECK (kind IN ('id', 'phone')),
    member_hash     BYTEA NOT NULL CHECK (length(member_hash) = 32),
    added_at_ms     BIGINT NOT NULL,
    PRIMARY KEY (list_id, kind, member_hash)
);
CREATE INDEX list_members_hash ON list_members (member_hash);
