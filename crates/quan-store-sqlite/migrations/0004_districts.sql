-- District boundaries. Re-importing a district replaces its boundary and
-- moves the old one to the history table.

CREATE TABLE districts (
    code            TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    crs             TEXT NOT NULL CHECK (crs IN ('wgs84', 'gcj02', 'bd09')),
    geometry_json   TEXT NOT NULL,
    version         INTEGER NOT NULL,
    imported_at_ms  INTEGER NOT NULL,
    source          TEXT NOT NULL
) STRICT;

CREATE TABLE district_history (
    code            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    name            TEXT NOT NULL,
    crs             TEXT NOT NULL,
    geometry_json   TEXT NOT NULL,
    imported_at_ms  INTEGER NOT NULL,
    replaced_at_ms  INTEGER NOT NULL,
    source          TEXT NOT NULL,
    PRIMARY KEY (code, version)
) STRICT;
