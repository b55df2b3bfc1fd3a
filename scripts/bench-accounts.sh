#!/usr/bin/env bash
# Accounts figures for BENCHMARKS.md: GET /api/accounts?limit=100 (first page and a deep page)
# with 10,000 accounts in one workspace, at 16 and 64 connections, beside GET /api/version and
# GET /api/auth/profile in the same run. Needs wrk, PostgreSQL on 127.0.0.1:5432 and the
# release build (`make build`).
# Usage: scripts/bench-accounts.sh [duration-seconds] [accounts]
# REFRESHES=N (default 2) rewrites N accounts' tokens a second during the runs, as the token
# refresher does (10,000 accounts with 2-hour tokens refresh ~1.4 times a second): the list
# is measured under the writes it will see in production. KV=redis: see below.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
N="${2:-10000}"
source scripts/bench-lib.sh
PORT=3903
fresh_db xmp_bench_accounts
STATE="$(mktemp -d)"
REFRESHER=
trap 'kill $XMP $REFRESHER 2>/dev/null || true; rm -rf "$STATE"' EXIT

# KV=redis uses Redis on 127.0.0.1:6379 (production's store) instead of the embedded file.
RUNTIME=()
if [ "${KV:-embedded}" = redis ]; then
  printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:6379"\n' > "$STATE/runtime.toml"
  RUNTIME=(--runtime-config-file "$STATE/runtime.toml")
fi
"$XMP_BIN" up --listen 127.0.0.1:$PORT --state-dir "$STATE" "${RUNTIME[@]}" > "$STATE/xmp.log" 2>&1 &
XMP=$!
until curl -sf -o /dev/null "127.0.0.1:$PORT/api/version"; do sleep 0.05; done
wait_optimised "$STATE/xmp.log"
if [ -n "$REFRESHER" ]; then
  echo "refreshes written: $(psql "$URL" -tAc "SELECT count(*) FROM x_accounts WHERE credentials LIKE '%yyyy'")"
fi
BASE="http://127.0.0.1:$PORT"
TOKEN=$(curl -s -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench passphrase 42","name":"Bench"}' \
  "$BASE/api/auth/register" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
[[ "$TOKEN" == ey* ]] || { echo "register failed: $TOKEN" >&2; exit 1; }

# N accounts in the user's workspace, as the connect flow writes them (sealed-size credentials).
psql "$URL" -q <<SQL
INSERT INTO x_accounts (id, workspace_id, x_user_id, username, display_name, auth_kind,
  credentials, key_id, scopes, token_expires_at, last_refreshed_at, status, timezone,
  posting_slots, created_at)
SELECT gen_random_uuid(), w.id, (1700000000000000000 + i)::text, 'brand_' || i, 'Brand ' || i,
  'oauth2', 'v1.0123abcd.' || repeat('x', 220), '0123abcd',
  'tweet.read tweet.write users.read like.write media.write offline.access',
  now() + interval '2 hours', now(), CASE WHEN i % 10 = 0 THEN 'paused' ELSE 'active' END,
  'America/New_York', '[{"day":"mon","time":"09:30"},{"day":"wed","time":"17:00"}]',
  now() - i * interval '1 second'
FROM workspaces w, generate_series(1, $N) i;
VACUUM ANALYZE x_accounts;
SQL
echo "accounts in the workspace: $(psql "$URL" -tAc 'SELECT count(*) FROM x_accounts')"
cat > "$STATE/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
CURSOR=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts?limit=100" | jq -r .data.nextCursor)
for _ in $(seq 1 49); do
  CURSOR=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts?limit=100&cursor=$CURSOR" | jq -r .data.nextCursor)
done
if [ -n "$REFRESHER" ]; then
  echo "refreshes written: $(psql "$URL" -tAc "SELECT count(*) FROM x_accounts WHERE credentials LIKE '%yyyy'")"
fi
BYTES=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts?limit=100" | wc -c)
echo "first page: $BYTES bytes"

# The refresher's writes (new sealed credentials, expiry, refresh time) on random accounts.
REFRESHES="${REFRESHES:-2}"
if [ "$REFRESHES" -gt 0 ]; then
  while sleep "$(awk "BEGIN { print 1 / $REFRESHES }")"; do
    echo "UPDATE x_accounts SET credentials = 'v1.0123abcd.' || md5(random()::text) || repeat('y', 188),
            token_expires_at = now() + interval '2 hours', last_refreshed_at = now()
          WHERE id = (SELECT id FROM x_accounts OFFSET floor(random() * $N)::int LIMIT 1);"
  done | psql "$URL" -q > /dev/null &
  REFRESHER=$!
fi
echo "token refreshes during the runs: $REFRESHES/s"
echo "## HTTP (wrk, ${DUR}s each)"
echo "| route | conns | req/s | p50 | p99 |"
for c in 16 64; do
  run_wrk /api/version "$c"
  run_wrk /api/auth/profile "$c" "$STATE/auth.lua"
  run_wrk "/api/accounts?limit=100" "$c" "$STATE/auth.lua"
  run_wrk "/api/accounts?limit=100&cursor=$CURSOR" "$c" "$STATE/auth.lua" "/api/accounts?limit=100&cursor=(page 51)"
  run_wrk "/api/accounts?limit=100&status=paused" "$c" "$STATE/auth.lua"
done
if [ -n "$REFRESHER" ]; then
  echo "refreshes written: $(psql "$URL" -tAc "SELECT count(*) FROM x_accounts WHERE credentials LIKE '%yyyy'")"
fi
echo "xmp resident memory after the runs: $(( $(ps -o rss= -p $XMP) / 1024 )) MiB"
