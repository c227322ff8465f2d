-- Sessions ended before their expiry (logout, a password change, a disabled
-- account), by token hash: each node reads this every second and forgets
-- those tokens, so it can answer a resident's token from memory without
-- reading the session on every request (issue 5). Kept a day.
CREATE TABLE session_ends (
    token_hash      BLOB NOT NULL CHECK (length(token_hash) = 32),
    ended_at_ms     INTEGER NOT NULL
) STRICT;
CREATE INDEX session_ends_at ON session_ends (ended_at_ms);
-- Newest sessions first, page by page, when a node loads the live ones.
CREATE INDEX sessions_created ON sessions (created_at_ms, id);
