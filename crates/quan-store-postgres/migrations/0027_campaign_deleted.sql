-- A draft campaign without money may be deleted (issue 24): it is kept,
-- marked, and no longer found; its events stay as the audit trail.
ALTER TABLE campaigns ADD COLUMN deleted_at_ms BIGINT;
