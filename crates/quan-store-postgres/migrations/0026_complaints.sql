-- Complaints (issue 24): a resident's ticket, what it names (voucher,
-- redemption, merchant, campaign), its region (for the staff who see it),
-- its state and time limits; the photo apart (read only when shown); every
-- action on it with who read it (the resident, the merchant).

CREATE TABLE complaints (
    id                  UUID PRIMARY KEY,
    ticket              TEXT NOT NULL UNIQUE,
    resident_id         UUID NOT NULL REFERENCES residents (id),
    kind                TEXT NOT NULL,
    body                TEXT NOT NULL,
    region              TEXT NOT NULL,
    voucher_id          UUID,
    redemption_id       UUID,
    merchant_id         UUID REFERENCES merchants (id),
    campaign_id         UUID,
    photo_type          TEXT,
    state               TEXT NOT NULL CHECK (state IN ('open', 'in_progress', 'awaiting_merchant', 'escalated', 'closed')),
    outcome             TEXT CHECK (outcome IN ('resolved', 'rejected', 'referred')),
    assignee            UUID,
    merchant_asked      BIGINT NOT NULL DEFAULT 0,
    filed_at_ms         BIGINT NOT NULL,
    answer_due_ms       BIGINT NOT NULL,
    close_due_ms        BIGINT NOT NULL,
    answered_at_ms      BIGINT,
    closed_at_ms        BIGINT,
    version             BIGINT NOT NULL
);
CREATE INDEX complaints_resident ON complaints (resident_id, filed_at_ms);
CREATE INDEX complaints_region ON complaints (region, id);
CREATE INDEX complaints_merchant ON complaints (merchant_id, id);
CREATE INDEX complaints_filed ON complaints (filed_at_ms);

CREATE TABLE complaint_photos (
    complaint_id        UUID PRIMARY KEY REFERENCES complaints (id),
    bytes               BYTEA NOT NULL
);

CREATE TABLE complaint_events (
    id                  UUID PRIMARY KEY,
    complaint_id        UUID NOT NULL REFERENCES complaints (id),
    action              TEXT NOT NULL,
    actor_user          UUID,
    actor_role          TEXT NOT NULL,
    body                TEXT NOT NULL,
    resident_reads      BIGINT NOT NULL,
    merchant_reads      BIGINT NOT NULL,
    at_ms               BIGINT NOT NULL
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, at_ms);
