-- A claim refused inside its batch (sold out, over a limit) is deleted
-- again in the same transaction; deleting it makes the database check that
-- no voucher references it. Without an index on vouchers (claim_id) that
-- check read the whole vouchers table for every deleted claim (PostgreSQL:
-- over 1 s per 32 deleted claims once a grab had 100 000 vouchers).
CREATE INDEX vouchers_claim ON vouchers (claim_id);
