-- Risk control at the grab (issue 25). The admission window's draws: each
-- node publishes the order in which it offered the window's claims to the
-- stock and what each got, checkable against the batch's revealed seed.
CREATE TABLE admission_entries (
    batch_id        UUID NOT NULL,
    draw_id         UUID NOT NULL,
    rank            BIGINT NOT NULL,
    resident_id     UUID NOT NULL,
    kind_code       TEXT NOT NULL,
    in_window       BIGINT NOT NULL,
    outcome         TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    PRIMARY KEY (batch_id, draw_id, rank)
);

-- The kill switch (熔断): who paused what, when and why, and who resumed it.
CREATE TABLE pauses (
    id              UUID PRIMARY KEY,
    target_kind     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    stops           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    by_user         UUID NOT NULL REFERENCES users(id),
    by_name         TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    resumed_by      UUID REFERENCES users(id),
    resumed_by_name TEXT,
    resumed_at_ms   BIGINT,
    resume_reason   TEXT
);
CREATE INDEX pauses_active ON pauses (at_ms) WHERE resumed_at_ms IS NULL;

-- Signals an account showed at a grab (its first time per batch), for the
-- risk review of the next days.
CREATE TABLE risk_signals (
    batch_id        UUID NOT NULL,
    resident_id     UUID NOT NULL,
    signal          TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    PRIMARY KEY (batch_id, resident_id, signal)
);

-- A real-name check (name, ID number and phone: 三要素) that matched the
-- recorded number to the resident; NULL: recorded on their word only.
ALTER TABLE resident_identities ADD COLUMN real_name_at_ms BIGINT;

-- An ID number recorded by a second account: the checked holder wins once
-- an operator resolves it.
CREATE TABLE identity_conflicts (
    id              UUID PRIMARY KEY,
    id_hash         UUID NOT NULL,
    id_masked       TEXT NOT NULL,
    holder          UUID NOT NULL,
    other           UUID NOT NULL,
    opened_at_ms    BIGINT NOT NULL,
    resolved_by     UUID,
    resolved_at_ms  BIGINT,
    note            TEXT,
    UNIQUE (holder, other)
);
