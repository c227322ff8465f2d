-- A list's members in the order they were added, page by page: a node
-- loads a list the first time a claim needs it and reads what is added
-- every second, so that a batch open only to a list's members decides a
-- claim without reading the database (issue 5).
CREATE INDEX list_members_added ON list_members (list_id, added_at_ms, kind, member_hash);
