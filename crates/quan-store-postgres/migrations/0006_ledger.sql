-- The double-entry ledger. Accounts keep running debit and credit totals
-- (a CHECK refuses any that would go below its floor); transfers are
-- append-only: triggers refuse to update or delete them.

CREATE TABLE ledger_accounts (
    key             TEXT PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    kind            TEXT NOT NULL,
    merchant_id     UUID,
    debits_fen      BIGINT NOT NULL DEFAULT 0 CHECK (debits_fen >= 0),
    credits_fen     BIGINT NOT NULL DEFAULT 0 CHECK (credits_fen >= 0),
    has_floor       BIGINT NOT NULL CHECK (has_floor IN (0, 1)),
    CHECK (has_floor = 0 OR credits_fen >= debits_fen)
);
CREATE INDEX ledger_accounts_campaign ON ledger_accounts (campaign_id);

CREATE TABLE ledger_transfers (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    debit_key       TEXT NOT NULL REFERENCES ledger_accounts (key),
    credit_key      TEXT NOT NULL REFERENCES ledger_accounts (key),
    amount_fen      BIGINT NOT NULL CHECK (amount_fen > 0),
    reason          TEXT NOT NULL,
    reference       TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    CHECK (debit_key <> credit_key)
);
CREATE INDEX ledger_transfers_campaign ON ledger_transfers (campaign_id, at_ms);

CREATE FUNCTION ledger_transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger transfers are append-only';
END;
$$;

CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE OR DELETE ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_transfers_append_only();
