-- T+1 report snapshots: built once per campaign, business day and kind,
-- never changed; the content is canonical JSON and its SHA-256 is kept so
-- anyone can check a copy (and a rebuild) against it.

CREATE TABLE report_snapshots (
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    business_day    TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('daily', 'final')),
    content         TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    built_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, business_day, kind)
) STRICT;

CREATE TRIGGER report_snapshots_no_update BEFORE UPDATE ON report_snapshots
BEGIN
    SELECT RAISE(ABORT, 'report snapshots are immutable');
END;

-- The reports read one business day at a time, and the earlier history of
-- the residents active that day (who is new among the day's residents).
CREATE INDEX redemptions_campaign_day ON redemptions (campaign_id, business_day);
CREATE INDEX redemptions_resident ON redemptions (resident_id);
CREATE INDEX vouchers_campaign_created ON vouchers (campaign_id, created_at_ms);
CREATE INDEX refunds_day ON refunds (business_day);
