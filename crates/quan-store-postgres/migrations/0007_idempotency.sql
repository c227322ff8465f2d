-- Idempotency keys: a retried request with the same key gets the first
-- answer instead of doing the work twice.

CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    BYTEA NOT NULL,
    status          BIGINT,
    response_body   TEXT,
    created_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at_ms);
