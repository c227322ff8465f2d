-- Refunds a partner asked for by its own number (issue 27). Same version and
-- name as PostgreSQL's.
--
-- One row per (partner, out_refund_no), written in the refund's own
-- transaction: the same number asked again answers the same refund.
CREATE TABLE partner_refunds (
    partner_id       BLOB NOT NULL,
    out_refund_no    TEXT NOT NULL,
    order_id         BLOB NOT NULL,
    refund_id        BLOB NOT NULL UNIQUE,
    amount_fen       INTEGER NOT NULL CHECK (amount_fen > 0),
    created_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (partner_id, out_refund_no)
) STRICT;
CREATE INDEX partner_refunds_order ON partner_refunds (order_id);
