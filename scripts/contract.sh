#!/usr/bin/env bash
# The API contract checked by a real third-party client: schemathesis with
# every check against `quan serve` on a throwaway database, as an official
# and as a resident (with an official's token it closes campaigns and
# disables users, so never point it at data you keep).
#   scripts/contract.sh [MAX_SECONDS_PER_ROLE]    (needs `pip install schemathesis`)
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-90}"
target="${CARGO_TARGET_DIR:-target}"
quan="$target/debug/quan"
[ "${CONTRACT_NO_BUILD:-0}" = 1 ] || cargo build -q -p quan
command -v schemathesis >/dev/null || { echo "schemathesis is missing: pip install schemathesis"; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export QUAN_DATA_DIR="$work/data" QUAN_LOG_LEVEL=warn
# The fuzzer sends hundreds of requests a minute from one address: lift the
# per-address limits for this throwaway server only.
export QUAN_ACCOUNTS_OTP_REQUESTS_PER_MINUTE_PER_CLIENT_MAX=1000000 QUAN_ACCOUNTS_LOGIN_ATTEMPTS_PER_MINUTE_MAX=10000
"$quan" import districts data/regions/geojson/420500-yichang.geojson >/dev/null
echo "contract official password 1" | "$quan" admin create-user --role official --region 4205 \
  --username contract.official --password-stdin >/dev/null
"$quan" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.2; done
curl -fs "$base/readyz" >/dev/null || { cat "$work/serve.log"; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
official=$(curl -fs "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"contract.official","password":"contract official password 1"}' | json "['token']")
curl -fs "$base/api/v1/auth/sms-codes" -H 'content-type: application/json' -d '{"phone":"13900000001"}' >/dev/null
code=$(python3 -c "import json; print([json.loads(l) for l in open('$work/data/sms-outbox.jsonl')][-1]['code'])")
resident=$(curl -fs "$base/api/v1/auth/sms-codes/verify" -H 'content-type: application/json' \
  -d "{\"phone\":\"13900000001\",\"code\":\"$code\"}" | json "['token']")

status=0
for who in official resident; do
  echo "==> schemathesis as the $who (at most $budget s)"
  # A token's own logout and password change would end the session the
  # rest of the run needs: those two are run last, on their own.
  # One worker: hypothesis parses its own sources with `ast` to describe
  # lambdas, which CPython 3.11 breaks when two threads do it at once
  # ("AST constructor recursion depth mismatch").
  schemathesis run "$base/openapi.json" --checks all --max-time "$budget" --workers 1 \
    --header "Authorization: Bearer ${!who}" --exclude-path /api/v1/auth/logout --exclude-path /api/v1/me/password \
    --suppress-health-check all --seed 21 || status=1
done
echo "==> schemathesis on logout and password change"
schemathesis run "$base/openapi.json" --checks all --max-time "$budget" --workers 1 \
  --header "Authorization: Bearer $official" --include-path /api/v1/auth/logout --include-path /api/v1/me/password \
  --suppress-health-check all --seed 21 || status=1
if grep -q "panicked\|internal error" "$work/serve.log"; then
  echo "the server logged internal errors:"; grep "panicked\|internal error" "$work/serve.log" | head -20; status=1
fi
exit $status
