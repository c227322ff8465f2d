-- Risk control at the grab (issue 25). The admission window's draws: each
-- node publishes the order in which it offered the window's claims to the
-- stock and what each got, checkable against the batch's revealed seed.
CREATE TABLE admission_entries (
    batch_id        BLOB NOT NULL,
    draw_id         BLOB NOT NULL,
    rank            INTEGER NOT NULL,
    resident_id     BLOB NOT NULL,
    kind_code       TEXT NOT NULL,
    in_window       INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    PRIMARY KEY (batch_id, draw_id, rank)
) STRICT;

-- The kill switch (熔断): who paused what, when and why, and who resumed it.
CREATE TABLE pauses (
    id              BLOB PRIMARY KEY,
    target_kind     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    stops           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    by_user         BLOB NOT NULL REFERENCES users(id),
    by_name         TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    resumed_by      BLOB REFERENCES users(id),
    resumed_by_name TEXT,
    resumed_at_ms   INTEGER,
    resume_reason   TEXT
) STRICT;
CREATE INDEX pauses_active ON pauses (at_ms) WHERE resumed_at_ms IS NULL;

-- Signals an account showed at a grab (its first time per batch), for the
-- risk review of the next days.
CREATE TABLE risk_signals (
    batch_id        BLOB NOT NULL,
    resident_id     BLOB NOT NULL,
    signal          TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    PRIMARY KEY (batch_id, resident_id, signal)
) STRICT;

-- A real-name check (name, ID number and phone: 三要素) that matched the
-- recorded number to the resident; NULL: recorded on their word only.
ALTER TABLE resident_identities ADD COLUMN real_name_at_ms INTEGER;

-- An ID number recorded by a second account: the checked holder wins once
-- an operator resolves it.
CREATE TABLE identity_conflicts (
    id              BLOB PRIMARY KEY,
    id_hash         BLOB NOT NULL,
    id_masked       TEXT NOT NULL,
    holder          BLOB NOT NULL,
    other           BLOB NOT NULL,
    opened_at_ms    INTEGER NOT NULL,
    resolved_by     BLOB,
    resolved_at_ms  INTEGER,
    note            TEXT,
    UNIQUE (holder, other)
) STRICT;
