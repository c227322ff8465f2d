-- A resident records their ID number once; a change after that is made by
-- an operator, and each change is kept here with who made it and why
-- (issue 21: a second POST /me/identity used to replace the number at will,
-- moving the household region and defeating household rules).
CREATE TABLE identity_changes (
    resident_id     BLOB NOT NULL REFERENCES residents (id),
    changed_at_ms   INTEGER NOT NULL,
    changed_by      BLOB NOT NULL,
    old_masked      TEXT NOT NULL,
    new_masked      TEXT NOT NULL,
    old_region      TEXT NOT NULL,
    new_region      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    PRIMARY KEY (resident_id, changed_at_ms)
) STRICT;
