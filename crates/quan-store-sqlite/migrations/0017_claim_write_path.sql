-- The claim's write path (issue 5). Same version and name as PostgreSQL's,
-- which drops the eight foreign keys of a claim's rows (a query and a row
-- lock per inserted row there). SQLite keeps them: it has no row locks, and
-- rebuilding three tables is not worth the B-tree lookups they cost here.
-- The audit checks the same facts on both (`claim_differs_from_records`).
SELECT 1;
