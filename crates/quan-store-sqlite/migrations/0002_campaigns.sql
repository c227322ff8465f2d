-- Campaigns, their audit trail, batches (the spec as JSON plus the columns
-- queries need), stock per voucher kind, lottery registrations and winners.

CREATE TABLE campaigns (
    id              BLOB PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    region          TEXT NOT NULL,
    spec_json       TEXT NOT NULL,
    budget_fen      INTEGER NOT NULL CHECK (budget_fen > 0),
    funded_fen      INTEGER NOT NULL DEFAULT 0 CHECK (funded_fen >= 0 AND funded_fen <= budget_fen),
    committed_fen   INTEGER NOT NULL DEFAULT 0 CHECK (committed_fen >= 0 AND committed_fen <= budget_fen),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'funded', 'running', 'closing', 'closed')),
    created_by      BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX campaigns_region ON campaigns (region, id);

CREATE TABLE campaign_events (
    id              BLOB PRIMARY KEY NOT NULL,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    kind            TEXT NOT NULL,
    amount_fen      INTEGER,
    batch_id        BLOB,
    note            TEXT NOT NULL,
    actor           BLOB,
    at_ms           INTEGER NOT NULL
) STRICT;
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, at_ms);

CREATE TABLE batches (
    id              BLOB PRIMARY KEY NOT NULL,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    name            TEXT NOT NULL,
    opening_at_ms   INTEGER NOT NULL,
    closing_at_ms   INTEGER NOT NULL CHECK (closing_at_ms > opening_at_ms),
    spec_json       TEXT NOT NULL,
    face_total_fen  INTEGER NOT NULL CHECK (face_total_fen >= 0),
    version         INTEGER NOT NULL,
    lottery_seed    BLOB,
    lottery_commitment BLOB,
    drawn_at_ms     INTEGER,
    created_by      BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX batches_campaign ON batches (campaign_id, opening_at_ms);

CREATE TABLE batch_kinds (
    batch_id        BLOB NOT NULL REFERENCES batches (id),
    code            TEXT NOT NULL,
    face_fen        INTEGER NOT NULL CHECK (face_fen > 0),
    stock           INTEGER NOT NULL CHECK (stock > 0),
    PRIMARY KEY (batch_id, code)
) STRICT;

CREATE TABLE lottery_registrations (
    batch_id        BLOB NOT NULL REFERENCES batches (id),
    resident_id     BLOB NOT NULL REFERENCES residents (id),
    at_ms           INTEGER NOT NULL,
    PRIMARY KEY (batch_id, resident_id)
) STRICT;

CREATE TABLE lottery_winners (
    batch_id        BLOB NOT NULL REFERENCES batches (id),
    rank            INTEGER NOT NULL,
    resident_id     BLOB NOT NULL REFERENCES residents (id),
    PRIMARY KEY (batch_id, rank),
    UNIQUE (batch_id, resident_id)
) STRICT;
