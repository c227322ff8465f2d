#!/usr/bin/env bash
# The ceiling of quan's claim row on SQLite, without quan: the sqlite3 shell
# (C, no Rust, no sqlx) writes what one claim writes since migration 0020 —
# one `vouchers` row, the claim's first voucher carrying its slot of the
# batch's limit, with the columns, checks and indexes of migrations
# 0008–0022 (primary key by a time-ordered id, claim id, campaign and time,
# the unique slot by a random resident id, the partial per-person slot) —
# for CLAIMS claims in transactions of BATCH (WAL, synchronous=FULL, 32 MiB
# page cache, statement journals in memory, as quan's committer opens
# SQLite), and prints claims per second. Compare with `quan bench claim`
# (engine, SQLite).
# Usage: scripts/sqlite-claim-ceiling.sh [CLAIMS] [BATCH]   (needs sqlite3)
set -euo pipefail
claims=${1:-100000}
batch=${2:-512}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/ceiling.db"
schema="
PRAGMA journal_mode=WAL;
CREATE TABLE residents (n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
CREATE TABLE vouchers (id BLOB PRIMARY KEY NOT NULL, claim_id BLOB NOT NULL, campaign_id BLOB NOT NULL, batch_id BLOB NOT NULL, kind_code TEXT NOT NULL, tier INTEGER NOT NULL, resident_id BLOB NOT NULL, face_fen INTEGER NOT NULL CHECK (face_fen > 0), state TEXT NOT NULL CHECK (state IN ('claimed', 'redeemed', 'expired')), created_at_ms INTEGER NOT NULL, slot INTEGER CHECK (slot IS NULL OR (slot >= 0 AND tier = 0)), person_hash BLOB CHECK (person_hash IS NULL OR (length(person_hash) = 32 AND tier = 0 AND slot IS NOT NULL))) STRICT;
CREATE UNIQUE INDEX vouchers_resident_slot ON vouchers (resident_id, batch_id, slot, tier);
CREATE INDEX vouchers_campaign_created ON vouchers (campaign_id, created_at_ms);
CREATE INDEX vouchers_claim ON vouchers (claim_id);
CREATE UNIQUE INDEX vouchers_person_slot ON vouchers (person_hash, batch_id, slot) WHERE person_hash IS NOT NULL;
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $claims)
INSERT INTO residents SELECT n, randomblob(16) FROM c;
"
sqlite3 "$db" "$schema" >/dev/null
{
  echo "PRAGMA synchronous=FULL; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"
  for ((i = 0; i < claims; i += batch)); do
    # Time-ordered 16-byte ids (as quan's UUIDv7), random resident ids.
    echo "BEGIN;
INSERT INTO vouchers SELECT CAST(printf('%016d', n) AS BLOB), CAST(printf('%016d', n) AS BLOB), x'02', x'01', 'k', 0, id, 1000, 'claimed', 0, 0, NULL
  FROM residents WHERE n > $i AND n <= $((i + batch)) ON CONFLICT DO NOTHING;
COMMIT;"
  done
} > "$dir/claims.sql"
start=$(date +%s.%N)
sqlite3 -bail "$db" < "$dir/claims.sql" >/dev/null
end=$(date +%s.%N)
stored=$(sqlite3 "$db" "SELECT COUNT(*) FROM vouchers")
awk -v n="$stored" -v s="$start" -v e="$end" -v b="$batch" \
  'BEGIN { printf "sqlite3 shell: %d claims in %.2f s = %.0f claims/s (%d per transaction)\n", n, e - s, n / (e - s), b }'
