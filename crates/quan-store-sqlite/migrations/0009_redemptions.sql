-- Redemptions (核销) and refunds. A voucher has at most one standing
-- redemption: the partial unique index is the database's own guard, behind
-- the guarded state change of the voucher row.

CREATE TABLE redemptions (
    id              BLOB PRIMARY KEY NOT NULL,
    voucher_id      BLOB NOT NULL REFERENCES vouchers (id),
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    batch_id        BLOB NOT NULL REFERENCES batches (id),
    kind_code       TEXT NOT NULL,
    resident_id     BLOB NOT NULL REFERENCES residents (id),
    merchant_id     BLOB NOT NULL REFERENCES merchants (id),
    till_id         BLOB REFERENCES tills (id),
    -- The cashier who scanned the resident's code; NULL when the resident
    -- scanned the till's code.
    cashier_id      BLOB REFERENCES users (id),
    direction       TEXT NOT NULL CHECK (direction IN ('resident_shows', 'merchant_shows')),
    order_ref       TEXT NOT NULL,
    order_fen       INTEGER NOT NULL CHECK (order_fen > 0),
    basis_fen       INTEGER NOT NULL CHECK (basis_fen > 0),
    discount_fen    INTEGER NOT NULL CHECK (discount_fen > 0),
    face_fen        INTEGER NOT NULL CHECK (face_fen >= discount_fen),
    -- The subsidy standing after refunds, and the order amount refunded.
    subsidy_fen     INTEGER NOT NULL CHECK (subsidy_fen >= 0 AND subsidy_fen <= discount_fen),
    refunded_fen    INTEGER NOT NULL CHECK (refunded_fen >= 0 AND refunded_fen <= order_fen),
    state           TEXT NOT NULL CHECK (state IN ('standing', 'reversed')),
    business_day    TEXT NOT NULL,
    redeemed_at_ms  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX redemptions_one_standing ON redemptions (voucher_id) WHERE state = 'standing';
CREATE INDEX redemptions_till ON redemptions (till_id, redeemed_at_ms);
CREATE INDEX redemptions_merchant_day ON redemptions (merchant_id, business_day);
CREATE INDEX redemptions_campaign ON redemptions (campaign_id);

CREATE TABLE refunds (
    id                   BLOB PRIMARY KEY NOT NULL,
    redemption_id        BLOB NOT NULL REFERENCES redemptions (id),
    amount_fen           INTEGER NOT NULL CHECK (amount_fen > 0),
    subsidy_returned_fen INTEGER NOT NULL CHECK (subsidy_returned_fen >= 0),
    voucher_back         INTEGER NOT NULL CHECK (voucher_back IN (0, 1)),
    actor_id             BLOB NOT NULL REFERENCES users (id),
    business_day         TEXT NOT NULL,
    refunded_at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX refunds_redemption ON refunds (redemption_id);
