-- Webhooks to partners, and the order-reference index (issue 27). Same version and name as SQLite's.
--
-- A partner's endpoint (its URL and signing secret, sealed; disabled after a
-- 410 or three days of failures), and the outbox: every event written in the
-- same transaction as the change it tells of, delivered at least once and,
-- per subject (a voucher), in order.
CREATE TABLE webhook_endpoints (
    partner_id       UUID PRIMARY KEY,
    url              TEXT NOT NULL,
    sealed_secret    BYTEA NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    status_reason    TEXT NOT NULL DEFAULT '',
    updated_at_ms    BIGINT NOT NULL
);

CREATE TABLE webhook_events (
    seq              BIGSERIAL PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    partner_id       UUID NOT NULL,
    type             TEXT NOT NULL,
    -- Events of one subject (a voucher) are delivered in their order.
    subject          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT NOT NULL DEFAULT '',
    done_at_ms       BIGINT
);
CREATE INDEX webhook_events_due ON webhook_events (status, next_attempt_ms);
CREATE INDEX webhook_events_subject ON webhook_events (partner_id, subject, seq);

-- A partner's redemptions keep their order number as the order reference
-- (and tills may send one): the one-voucher-per-order rule looks it up.
CREATE INDEX redemptions_order_ref ON redemptions (merchant_id, order_ref);
