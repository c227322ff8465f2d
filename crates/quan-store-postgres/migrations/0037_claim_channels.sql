-- Claim channels (issue 27). Same version and name as SQLite's.
--
-- A batch's stock may be split between channels: quan's own H5 and API
-- ('') and partners' apps (the partner's id). Quan's own stock keeps its
-- buckets 0..n; a partner's share is one row with a negative bucket number
-- of its own, so every statement that names a bucket of quan's own stock
-- stays as it was. A voucher keeps the channel it was claimed through.
ALTER TABLE batch_stock ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE vouchers ADD COLUMN channel TEXT NOT NULL DEFAULT '';
CREATE INDEX vouchers_batch_channel ON vouchers (batch_id, channel) WHERE channel <> '';
