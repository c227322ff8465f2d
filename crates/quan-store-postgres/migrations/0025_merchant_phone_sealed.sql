-- A merchant's contact phone is no longer kept in clear (issue 21): the
-- contact_phone column holds its masked form, beside a keyed hash (for
-- matching) and the number sealed under a key derived from the
-- personal-data key. Rows of earlier versions keep the number in
-- contact_phone, with no hash, until the engine seals them at start.
ALTER TABLE merchants ADD COLUMN contact_phone_hash BYTEA;
ALTER TABLE merchants ADD COLUMN contact_phone_sealed BYTEA;
