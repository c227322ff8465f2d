#!/usr/bin/env bash
# The ceiling of quan's claim rows on SQLite, without quan: the sqlite3 shell
# (C, no Rust, no sqlx) writes what one claim writes — a claim row, one limit
# slot, one voucher, with the same indexes and foreign keys as migrations
# 0008 and 0013 — for CLAIMS claims in transactions of BATCH (WAL,
# synchronous=FULL, 32 MiB page cache, as quan opens SQLite), and prints
# claims per second. Compare with `quan bench claim` (engine, SQLite).
# Usage: scripts/sqlite-claim-ceiling.sh [CLAIMS] [BATCH]   (needs sqlite3)
set -euo pipefail
claims=${1:-100000}
batch=${2:-512}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/ceiling.db"
schema="
PRAGMA journal_mode=WAL;
CREATE TABLE batches (id BLOB PRIMARY KEY);
CREATE TABLE campaigns (id BLOB PRIMARY KEY);
CREATE TABLE residents (n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
CREATE TABLE claims (id BLOB PRIMARY KEY NOT NULL, batch_id BLOB NOT NULL REFERENCES batches (id), campaign_id BLOB NOT NULL REFERENCES campaigns (id), kind_code TEXT NOT NULL, resident_id BLOB NOT NULL REFERENCES residents (id), face_fen INTEGER NOT NULL CHECK (face_fen > 0), business_day TEXT NOT NULL, claimed_at_ms INTEGER NOT NULL) STRICT;
CREATE INDEX claims_batch ON claims (batch_id);
CREATE INDEX claims_resident ON claims (resident_id);
CREATE TABLE claim_slots (scope TEXT NOT NULL, slot INTEGER NOT NULL, claim_id BLOB NOT NULL REFERENCES claims (id), PRIMARY KEY (scope, slot)) STRICT;
CREATE INDEX claim_slots_claim ON claim_slots (claim_id);
CREATE TABLE vouchers (id BLOB PRIMARY KEY NOT NULL, claim_id BLOB NOT NULL REFERENCES claims (id), campaign_id BLOB NOT NULL REFERENCES campaigns (id), batch_id BLOB NOT NULL REFERENCES batches (id), kind_code TEXT NOT NULL, tier INTEGER NOT NULL, resident_id BLOB NOT NULL REFERENCES residents (id), face_fen INTEGER NOT NULL, state TEXT NOT NULL, created_at_ms INTEGER NOT NULL) STRICT;
CREATE INDEX vouchers_resident ON vouchers (resident_id);
CREATE INDEX vouchers_campaign_state ON vouchers (campaign_id, state);
CREATE INDEX vouchers_campaign_created ON vouchers (campaign_id, created_at_ms);
INSERT INTO batches VALUES (x'01'); INSERT INTO campaigns VALUES (x'02');
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $claims)
INSERT INTO residents SELECT n, randomblob(16) FROM c;
"
sqlite3 "$db" "$schema" >/dev/null
{
  echo "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;"
  for ((i = 0; i < claims; i += batch)); do
    echo "BEGIN;
CREATE TEMP TABLE IF NOT EXISTS b (cid BLOB, rid BLOB); DELETE FROM temp.b;
INSERT INTO temp.b SELECT randomblob(16), id FROM residents WHERE n > $i AND n <= $((i + batch));
INSERT INTO claims SELECT cid, x'01', x'02', 'k', rid, 1000, '2026-12-05', 0 FROM temp.b;
INSERT INTO claim_slots SELECT 'b:01:r:' || hex(rid), 0, cid FROM temp.b;
INSERT INTO vouchers SELECT randomblob(16), cid, x'02', x'01', 'k', 0, rid, 1000, 'claimed', 0 FROM temp.b;
COMMIT;"
  done
} > "$dir/claims.sql"
start=$(date +%s.%N)
sqlite3 -bail "$db" < "$dir/claims.sql" >/dev/null
end=$(date +%s.%N)
stored=$(sqlite3 "$db" "SELECT COUNT(*) FROM vouchers")
awk -v n="$stored" -v s="$start" -v e="$end" -v b="$batch" \
  'BEGIN { printf "sqlite3 shell: %d claims in %.2f s = %.0f claims/s (%d per transaction)\n", n, e - s, n / (e - s), b }'
