-- Verified identities of residents (keyed hash and masked form only, plus
-- the household region and birth date eligibility rules need), and imported
-- lists of people, stored as keyed hashes.

CREATE TABLE resident_identities (
    resident_id     BLOB PRIMARY KEY NOT NULL REFERENCES residents (id),
    id_hash         BLOB NOT NULL CHECK (length(id_hash) = 32),
    id_masked       TEXT NOT NULL,
    household_region TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    verified_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX resident_identities_hash ON resident_identities (id_hash);

CREATE TABLE eligibility_lists (
    id              BLOB PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL UNIQUE,
    region          TEXT NOT NULL,
    created_by      BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE list_members (
    list_id         BLOB NOT NULL REFERENCES eligibility_lists (id),
    kind            TEXT NOT NULL CHECK (kind IN ('id', 'phone')),
    member_hash     BLOB NOT NULL CHECK (length(member_hash) = 32),
    added_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (list_id, kind, member_hash)
) STRICT;
CREATE INDEX list_members_hash ON list_members (member_hash);
