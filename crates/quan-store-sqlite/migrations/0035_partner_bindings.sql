-- Residents bound to partners (issue 27). Same version and name as PostgreSQL's.
--
-- A resident approves a partner in quan (a one-time code, shown to them,
-- given to the partner's app); the partner then knows them by a pairwise
-- `resident_openid` only, never by phone, ID number or position.
CREATE TABLE partner_bindings (
    partner_id       BLOB NOT NULL,
    resident_id      BLOB NOT NULL,
    openid           TEXT NOT NULL UNIQUE,
    created_at_ms    INTEGER NOT NULL,
    revoked_at_ms    INTEGER,
    PRIMARY KEY (partner_id, resident_id)
) STRICT;
CREATE INDEX partner_bindings_resident ON partner_bindings (resident_id);

-- One-time codes a resident made to bind a partner: the code's hash, used once.
CREATE TABLE partner_binding_codes (
    code_hash        BLOB PRIMARY KEY,
    partner_id       BLOB NOT NULL,
    resident_id      BLOB NOT NULL,
    expires_at_ms    INTEGER NOT NULL,
    used_at_ms       INTEGER
) STRICT;
