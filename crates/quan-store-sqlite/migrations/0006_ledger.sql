-- The double-entry ledger. Accounts keep running debit and credit totals
-- (a CHECK refuses any that would go below its floor); transfers are
-- append-only: triggers refuse to update or delete them.

CREATE TABLE ledger_accounts (
    key             TEXT PRIMARY KEY NOT NULL,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    kind            TEXT NOT NULL,
    merchant_id     BLOB,
    debits_fen      INTEGER NOT NULL DEFAULT 0 CHECK (debits_fen >= 0),
    credits_fen     INTEGER NOT NULL DEFAULT 0 CHECK (credits_fen >= 0),
    has_floor       INTEGER NOT NULL CHECK (has_floor IN (0, 1)),
    CHECK (has_floor = 0 OR credits_fen >= debits_fen)
) STRICT;
CREATE INDEX ledger_accounts_campaign ON ledger_accounts (campaign_id);

CREATE TABLE ledger_transfers (
    id              BLOB PRIMARY KEY NOT NULL,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    debit_key       TEXT NOT NULL REFERENCES ledger_accounts (key),
    credit_key      TEXT NOT NULL REFERENCES ledger_accounts (key),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    reason          TEXT NOT NULL,
    reference       TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    CHECK (debit_key <> credit_key)
) STRICT;
CREATE INDEX ledger_transfers_campaign ON ledger_transfers (campaign_id, at_ms);

CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger transfers are append-only');
END;

CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger transfers are append-only');
END;
