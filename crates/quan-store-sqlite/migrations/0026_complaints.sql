-- Complaints (issue 24): a resident's ticket, what it names (voucher,
-- redemption, merchant, campaign), its region (for the staff who see it),
-- its state and time limits; the photo apart (read only when shown); every
-- action on it with who read it (the resident, the merchant).

CREATE TABLE complaints (
    id                  BLOB PRIMARY KEY NOT NULL,
    ticket              TEXT NOT NULL UNIQUE,
    resident_id         BLOB NOT NULL REFERENCES residents (id),
    kind                TEXT NOT NULL,
    body                TEXT NOT NULL,
    region              TEXT NOT NULL,
    voucher_id          BLOB,
    redemption_id       BLOB,
    merchant_id         BLOB REFERENCES merchants (id),
    campaign_id         BLOB,
    photo_type          TEXT,
    state               TEXT NOT NULL CHECK (state IN ('open', 'in_progress', 'awaiting_merchant', 'escalated', 'closed')),
    outcome             TEXT CHECK (outcome IN ('resolved', 'rejected', 'referred')),
    assignee            BLOB,
    merchant_asked      INTEGER NOT NULL DEFAULT 0,
    filed_at_ms         INTEGER NOT NULL,
    answer_due_ms       INTEGER NOT NULL,
    close_due_ms        INTEGER NOT NULL,
    answered_at_ms      INTEGER,
    closed_at_ms        INTEGER,
    version             INTEGER NOT NULL
) STRICT;
CREATE INDEX complaints_resident ON complaints (resident_id, filed_at_ms);
CREATE INDEX complaints_region ON complaints (region, id);
CREATE INDEX complaints_merchant ON complaints (merchant_id, id);
CREATE INDEX complaints_filed ON complaints (filed_at_ms);

CREATE TABLE complaint_photos (
    complaint_id        BLOB PRIMARY KEY NOT NULL REFERENCES complaints (id),
    bytes               BLOB NOT NULL
) STRICT;

CREATE TABLE complaint_events (
    id                  BLOB PRIMARY KEY NOT NULL,
    complaint_id        BLOB NOT NULL REFERENCES complaints (id),
    action              TEXT NOT NULL,
    actor_user          BLOB,
    actor_role          TEXT NOT NULL,
    body                TEXT NOT NULL,
    resident_reads      INTEGER NOT NULL,
    merchant_reads      INTEGER NOT NULL,
    at_ms               INTEGER NOT NULL
) STRICT;
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, at_ms);
