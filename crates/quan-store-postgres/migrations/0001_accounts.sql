-- Accounts and access: staff users, residents, sessions, one-time codes.
-- Instants are Unix milliseconds (UTC), as in the SQLite schema, so both
-- backends round-trip exactly the same values.

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    region          TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms   BIGINT NOT NULL,
    created_by      UUID
);
CREATE INDEX users_region ON users (region text_pattern_ops, id);

CREATE TABLE residents (
    id              UUID PRIMARY KEY,
    phone_hash      BYTEA NOT NULL UNIQUE CHECK (length(phone_hash) = 32),
    phone_masked    TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL
);

CREATE TABLE sessions (
    id              UUID PRIMARY KEY,
    token_hash      BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id         UUID REFERENCES users (id),
    resident_id     UUID REFERENCES residents (id),
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (resident_id IS NULL))
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at_ms);

CREATE TABLE otp_challenges (
    phone_hash      BYTEA PRIMARY KEY CHECK (length(phone_hash) = 32),
    id              UUID NOT NULL UNIQUE,
    code_hash       BYTEA NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL
);

CREATE TABLE otp_sends (
    phone_hash      BYTEA NOT NULL,
    sent_at_ms      BIGINT NOT NULL
);
CREATE INDEX otp_sends_phone ON otp_sends (phone_hash, sent_at_ms);
