-- Settlements net what merchants owe back (a refund after payment) and
-- release held amounts once a merchant may be paid again: a row may pay
-- nothing (everything went to recovery), and records what it recovered and
-- released. Redemptions carry the matching discounts the platform and the
-- merchant added on top of the voucher (memo figures for the reports).

CREATE TABLE settlements_next (
    id              BLOB PRIMARY KEY NOT NULL,
    business_day    TEXT NOT NULL,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    merchant_id     BLOB NOT NULL REFERENCES merchants (id),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen >= 0),
    -- paid: sent to the bank; held: not paid (reason given); recovered: the
    -- day's subsidy all went to what the merchant owed back; confirmed /
    -- mismatch: the bank's confirmation was imported.
    status          TEXT NOT NULL CHECK (status IN ('paid', 'held', 'recovered', 'confirmed', 'mismatch')),
    hold_reason     TEXT NOT NULL,
    confirmed_fen   INTEGER,
    bank_ref        TEXT,
    created_at_ms   INTEGER NOT NULL,
    confirmed_at_ms INTEGER,
    recovered_fen   INTEGER NOT NULL DEFAULT 0 CHECK (recovered_fen >= 0),
    released_fen    INTEGER NOT NULL DEFAULT 0 CHECK (released_fen >= 0),
    UNIQUE (business_day, campaign_id, merchant_id)
) STRICT;
INSERT INTO settlements_next (id, business_day, campaign_id, merchant_id, amount_fen, status, hold_reason,
                              confirmed_fen, bank_ref, created_at_ms, confirmed_at_ms)
SELECT id, business_day, campaign_id, merchant_id, amount_fen, status, hold_reason,
       confirmed_fen, bank_ref, created_at_ms, confirmed_at_ms
FROM settlements;
DROP TABLE settlements;
ALTER TABLE settlements_next RENAME TO settlements;
CREATE INDEX settlements_day ON settlements (business_day);

ALTER TABLE redemptions ADD COLUMN platform_match_fen INTEGER NOT NULL DEFAULT 0 CHECK (platform_match_fen >= 0);
ALTER TABLE redemptions ADD COLUMN merchant_match_fen INTEGER NOT NULL DEFAULT 0 CHECK (merchant_match_fen >= 0);
