-- The grab dashboard (issue 24): each node writes, per batch and second,
-- how its claims were answered and how long the answers took (counts per
-- latency bucket); the dashboard sums the nodes.
CREATE TABLE grab_seconds (
    batch_id        UUID NOT NULL,
    second          BIGINT NOT NULL,
    node            UUID NOT NULL,
    claimed         BIGINT NOT NULL,
    sold_out        BIGINT NOT NULL,
    limit_reached   BIGINT NOT NULL,
    not_eligible    BIGINT NOT NULL,
    busy            BIGINT NOT NULL,
    other           BIGINT NOT NULL,
    latency         TEXT NOT NULL,
    PRIMARY KEY (batch_id, second, node)
);
