-- Settlements net what merchants owe back (a refund after payment) and
-- release held amounts once a merchant may be paid again: a row may pay
-- nothing (everything went to recovery), and records what it recovered and
-- released. Redemptions carry the matching discounts the platform and the
-- merchant added on top of the voucher (memo figures for the reports).

ALTER TABLE settlements DROP CONSTRAINT settlements_amount_fen_check;
ALTER TABLE settlements ADD CONSTRAINT settlements_amount_fen_check CHECK (amount_fen >= 0);
ALTER TABLE settlements DROP CONSTRAINT settlements_status_check;
ALTER TABLE settlements ADD CONSTRAINT settlements_status_check
    CHECK (status IN ('paid', 'held', 'recovered', 'confirmed', 'mismatch'));
ALTER TABLE settlements ADD COLUMN recovered_fen BIGINT NOT NULL DEFAULT 0 CHECK (recovered_fen >= 0);
ALTER TABLE settlements ADD COLUMN released_fen BIGINT NOT NULL DEFAULT 0 CHECK (released_fen >= 0);

ALTER TABLE redemptions ADD COLUMN platform_match_fen BIGINT NOT NULL DEFAULT 0 CHECK (platform_match_fen >= 0);
ALTER TABLE redemptions ADD COLUMN merchant_match_fen BIGINT NOT NULL DEFAULT 0 CHECK (merchant_match_fen >= 0);
