-- Risk cases (issue 26). Same version and name as PostgreSQL's.
--
-- A finding of the nightly analysis (a ring in the resident–merchant graph,
-- a merchant hugging thresholds, a hoarding cohort, a product whose price
-- rose before the subsidy) or an operator opens a case about a merchant, a
-- resident, a product or a ring; operators work it (hold or release the
-- merchants' settlement, suspend them, freeze residents' unused vouchers)
-- and close it with an outcome. Every action is kept with who and why.
CREATE TABLE risk_cases (
    id              BLOB PRIMARY KEY,
    -- The number people use (案件 7), one deployment-wide sequence.
    number          INTEGER NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('merchant', 'resident', 'product', 'ring')),
    -- What the case is about, as a key: one open case per subject.
    subject         TEXT NOT NULL,
    -- The finding that opened it (or `manual`).
    source          TEXT NOT NULL,
    -- The district of its first merchant (or resident's campaign region):
    -- operators see the cases of their region.
    district        TEXT NOT NULL,
    campaign_id     BLOB,
    score           INTEGER NOT NULL,
    summary         TEXT NOT NULL,
    -- The finding's evidence as JSON (members, graph edges, amounts).
    evidence        TEXT NOT NULL,
    -- Fraudulent subsidy the finding counts (for the figures).
    amount_fen      INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    outcome         TEXT CHECK (outcome IN ('fraud_confirmed', 'false_alarm')),
    opened_at_ms    INTEGER NOT NULL,
    closed_at_ms    INTEGER,
    closed_by       BLOB
) STRICT;
CREATE UNIQUE INDEX risk_cases_open_subject ON risk_cases (subject) WHERE status = 'open';
CREATE INDEX risk_cases_status ON risk_cases (status, opened_at_ms);

-- The merchants, residents and products a case names.
CREATE TABLE risk_case_members (
    case_id         BLOB NOT NULL,
    member_kind     TEXT NOT NULL CHECK (member_kind IN ('merchant', 'resident', 'product')),
    member_id       TEXT NOT NULL,
    PRIMARY KEY (case_id, member_kind, member_id)
) STRICT;
CREATE INDEX risk_case_members_member ON risk_case_members (member_kind, member_id);

-- Every action on a case, in order: who (NULL: the analysis), when, why.
CREATE TABLE risk_case_actions (
    case_id         BLOB NOT NULL,
    seq             INTEGER NOT NULL,
    action          TEXT NOT NULL,
    by_user         BLOB,
    at_ms           INTEGER NOT NULL,
    note            TEXT NOT NULL,
    -- What it did, as JSON (merchants held, vouchers frozen and their face).
    detail          TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
) STRICT;

-- A merchant's settlement held by a case: settlement pays it nothing
-- (its payable moves to the held account) until the hold is released.
CREATE TABLE settlement_holds (
    merchant_id     BLOB NOT NULL,
    case_id         BLOB NOT NULL,
    held_by         BLOB,
    held_at_ms      INTEGER NOT NULL,
    released_by     BLOB,
    released_at_ms  INTEGER,
    PRIMARY KEY (merchant_id, case_id, held_at_ms)
) STRICT;
CREATE INDEX settlement_holds_open ON settlement_holds (merchant_id) WHERE released_at_ms IS NULL;
