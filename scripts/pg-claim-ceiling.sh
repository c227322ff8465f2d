#!/usr/bin/env bash
# The ceiling of quan's claim row on PostgreSQL, without quan: pgbench (C, no
# Rust, no sqlx) inserts what a claim writes — one `vouchers` row with the
# columns, checks and indexes of migrations 0008–0022 (primary key by a
# time-ordered id, claim id, campaign and time, the unique slot by a random
# resident id, the partial per-person slot) — with `ON CONFLICT DO NOTHING`,
# BATCH rows per transaction from CLIENTS connections, CLAIMS rows in all,
# then prints rows per second. The rows are made inside PostgreSQL
# (`generate_series`), so this is the database's own cost of the rows, a
# little more than what it does for quan (which sends them ready made).
# Compare with `quan bench claim` (engine, PostgreSQL).
# Usage: scripts/pg-claim-ceiling.sh [CLAIMS] [BATCH] [CLIENTS]
#   (needs pgbench and psql; PGURL, default postgres://postgres@127.0.0.1:5432/postgres,
#    names a server where a database `quan_ceiling` may be created and dropped)
set -euo pipefail
claims=${1:-100000}
batch=${2:-1000}
clients=${3:-4}
admin=${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}
pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -1)
db="${admin%/*}/quan_ceiling"
psql -q "$admin" -c "DROP DATABASE IF EXISTS quan_ceiling" -c "CREATE DATABASE quan_ceiling"
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS quan_ceiling"' EXIT
psql -q "$db" <<'SQL'
CREATE TABLE vouchers (
    id uuid NOT NULL PRIMARY KEY,
    claim_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    batch_id uuid NOT NULL,
    kind_code text NOT NULL,
    tier bigint NOT NULL,
    resident_id uuid NOT NULL,
    face_fen bigint NOT NULL CHECK (face_fen > 0),
    state text NOT NULL CHECK (state IN ('claimed', 'redeemed', 'expired')),
    created_at_ms bigint NOT NULL,
    slot integer CHECK (slot IS NULL OR (slot >= 0 AND tier = 0)),
    person_hash bytea CHECK (person_hash IS NULL OR (length(person_hash) = 32 AND tier = 0 AND slot IS NOT NULL))
) WITH (fillfactor = 80);
CREATE INDEX vouchers_campaign_created ON vouchers (campaign_id, created_at_ms);
CREATE INDEX vouchers_claim ON vouchers (claim_id);
CREATE UNIQUE INDEX vouchers_person_slot ON vouchers (person_hash, batch_id, slot) WHERE person_hash IS NOT NULL;
CREATE UNIQUE INDEX vouchers_resident_slot ON vouchers (resident_id, batch_id, slot, tier);
CREATE SEQUENCE ids;
SQL
# Time-ordered ids, as quan's UUIDv7: a sequence number in the high bits.
cat > "${TMPDIR:-/tmp}/quan-ceiling.sql" <<SQL
INSERT INTO vouchers (id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms, slot, person_hash)
SELECT i, i, '00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 'k', 0,
       gen_random_uuid(), 1000, 'claimed', 0, 0, NULL
FROM (SELECT (lpad(to_hex(nextval('ids')), 16, '0') || '0000000000000000')::uuid AS i FROM generate_series(1, $batch)) AS s
ON CONFLICT DO NOTHING;
SQL
per_client=$((claims / batch / clients))
"$pgbench" -n -c "$clients" -j "$clients" -t "$per_client" -f "${TMPDIR:-/tmp}/quan-ceiling.sql" "$db" > "${TMPDIR:-/tmp}/quan-ceiling.out"
stored=$(psql -At "$db" -c "SELECT COUNT(*) FROM vouchers")
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "${TMPDIR:-/tmp}/quan-ceiling.out")
awk -v n="$stored" -v t="$tps" -v b="$batch" -v c="$clients" \
  'BEGIN { printf "pgbench: %d rows stored, %.0f rows/s (%d per transaction, %d clients)\n", n, t * b, b, c }'
