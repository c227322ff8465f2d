-- Redemptions whose subsidy is held for a risk review (issue 26). Same
-- version and name as the other backend's.
--
-- A held redemption stands for the resident; the merchant's subsidy for it
-- moves from payable to the merchant's risk-held account in the same
-- commit, so settlement (which pays payable) never pays it. An operator
-- releases it (back to payable, paid at the next settlement) or recovers it
-- (a confirmed fraud: back to the campaign's budget). A refund takes the
-- held money back first and lowers `amount_fen`. Column names differ from
-- `redemptions`' so reads join the two without qualifying.
CREATE TABLE risk_holds (
    redemption_id   BLOB PRIMARY KEY,
    -- As held at the redemption, and still held.
    held_fen        INTEGER NOT NULL CHECK (held_fen > 0),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen >= 0 AND amount_fen <= held_fen),
    -- The rules met (codes, comma-separated) and their summed score.
    rules           TEXT NOT NULL,
    score           INTEGER NOT NULL,
    held_at_ms      INTEGER NOT NULL,
    outcome         TEXT CHECK (outcome IN ('released', 'recovered')),
    decided_by      BLOB,
    decided_at_ms   INTEGER,
    decision_note   TEXT
) STRICT;

CREATE INDEX risk_holds_open ON risk_holds (held_at_ms) WHERE outcome IS NULL;
