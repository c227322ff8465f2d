-- Accounts and access: staff users, residents, sessions, one-time codes.
-- Ids are UUIDs stored as 16-byte blobs; instants are Unix milliseconds (UTC).

CREATE TABLE users (
    id              BLOB PRIMARY KEY NOT NULL,
    username        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    region          TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms   INTEGER NOT NULL,
    created_by      BLOB
) STRICT;
CREATE INDEX users_region ON users (region, id);

CREATE TABLE residents (
    id              BLOB PRIMARY KEY NOT NULL,
    phone_hash      BLOB NOT NULL UNIQUE CHECK (length(phone_hash) = 32),
    phone_masked    TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id              BLOB PRIMARY KEY NOT NULL,
    token_hash      BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id         BLOB REFERENCES users (id),
    resident_id     BLOB REFERENCES residents (id),
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (resident_id IS NULL))
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at_ms);

CREATE TABLE otp_challenges (
    phone_hash      BLOB PRIMARY KEY NOT NULL CHECK (length(phone_hash) = 32),
    id              BLOB NOT NULL UNIQUE,
    code_hash       BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE otp_sends (
    phone_hash      BLOB NOT NULL,
    sent_at_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX otp_sends_phone ON otp_sends (phone_hash, sent_at_ms);
