-- Settlement: what each merchant is paid (or held) for a business day, once.
-- The unique key makes a second run for the same day pay nothing twice; the
-- payment itself is a ledger transfer payable -> paid posted in the same
-- transaction as the row.

CREATE TABLE settlements (
    id              BLOB PRIMARY KEY NOT NULL,
    business_day    TEXT NOT NULL,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    merchant_id     BLOB NOT NULL REFERENCES merchants (id),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    -- paid: sent to the bank; held: not paid (reason given); confirmed /
    -- mismatch: the bank's confirmation was imported.
    status          TEXT NOT NULL CHECK (status IN ('paid', 'held', 'confirmed', 'mismatch')),
    hold_reason     TEXT NOT NULL,
    confirmed_fen   INTEGER,
    bank_ref        TEXT,
    created_at_ms   INTEGER NOT NULL,
    confirmed_at_ms INTEGER,
    UNIQUE (business_day, campaign_id, merchant_id)
) STRICT;
CREATE INDEX settlements_day ON settlements (business_day);
