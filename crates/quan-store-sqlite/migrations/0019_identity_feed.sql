-- Identities in the order they were recorded, page by page: each node loads
-- them at start and reads the new ones every second, so that a batch with a
-- household, age or per-person rule decides a claim without reading the
-- resident's identity from the database (issue 5).
CREATE INDEX resident_identities_verified ON resident_identities (verified_at_ms, resident_id);
