-- The grab dashboard (issue 24): each node writes, per batch and second,
-- how its claims were answered and how long the answers took (counts per
-- latency bucket); the dashboard sums the nodes.
CREATE TABLE grab_seconds (
    batch_id        BLOB NOT NULL,
    second          INTEGER NOT NULL,
    node            BLOB NOT NULL,
    claimed         INTEGER NOT NULL,
    sold_out        INTEGER NOT NULL,
    limit_reached   INTEGER NOT NULL,
    not_eligible    INTEGER NOT NULL,
    busy            INTEGER NOT NULL,
    other           INTEGER NOT NULL,
    latency         TEXT NOT NULL,
    PRIMARY KEY (batch_id, second, node)
) STRICT;
