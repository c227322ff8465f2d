-- Campaigns, their audit trail, batches (the spec as JSON plus the columns
-- queries need), stock per voucher kind, lottery registrations and winners.

CREATE TABLE campaigns (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    region          TEXT NOT NULL,
    spec_json       TEXT NOT NULL,
    budget_fen      BIGINT NOT NULL CHECK (budget_fen > 0),
    funded_fen      BIGINT NOT NULL DEFAULT 0 CHECK (funded_fen >= 0 AND funded_fen <= budget_fen),
    committed_fen   BIGINT NOT NULL DEFAULT 0 CHECK (committed_fen >= 0 AND committed_fen <= budget_fen),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'funded', 'running', 'closing', 'closed')),
    created_by      UUID NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);
CREATE INDEX campaigns_region ON campaigns (region, id);

CREATE TABLE campaign_events (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    kind            TEXT NOT NULL,
    amount_fen      BIGINT,
    batch_id        UUID,
    note            TEXT NOT NULL,
    actor           UUID,
    at_ms           BIGINT NOT NULL
);
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, at_ms);

CREATE TABLE batches (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    name            TEXT NOT NULL,
    opening_at_ms   BIGINT NOT NULL,
    closing_at_ms   BIGINT NOT NULL CHECK (closing_at_ms > opening_at_ms),
    spec_json       TEXT NOT NULL,
    face_total_fen  BIGINT NOT NULL CHECK (face_total_fen >= 0),
    version         BIGINT NOT NULL,
    lottery_seed    BYTEA,
    lottery_commitment BYTEA,
    drawn_at_ms     BIGINT,
    created_by      UUID NOT NULL,
    created_at_ms   BIGINT NOT NULL
);
CREATE INDEX batches_campaign ON batches (campaign_id, opening_at_ms);

CREATE TABLE batch_kinds (
    batch_id        UUID NOT NULL REFERENCES batches (id),
    code            TEXT NOT NULL,
    face_fen        BIGINT NOT NULL CHECK (face_fen > 0),
    stock           BIGINT NOT NULL CHECK (stock > 0),
    PRIMARY KEY (batch_id, code)
);

CREATE TABLE lottery_registrations (
    batch_id        UUID NOT NULL REFERENCES batches (id),
    resident_id     UUID NOT NULL REFERENCES residents (id),
    at_ms           BIGINT NOT NULL,
    PRIMARY KEY (batch_id, resident_id)
);

CREATE TABLE lottery_winners (
    batch_id        UUID NOT NULL REFERENCES batches (id),
    rank            BIGINT NOT NULL,
    resident_id     UUID NOT NULL REFERENCES residents (id),
    PRIMARY KEY (batch_id, rank),
    UNIQUE (batch_id, resident_id)
);
