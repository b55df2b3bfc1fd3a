#!/usr/bin/env bash
# The guard's cost (issue 15): authenticated reads of the platform beside the seed's own stack
# (../shared/baselines/seed-express: Express + pg + jsonwebtoken, one process) doing the same
# authenticated post read against the same database, and GET /api/version, all in one run.
# Needs wrk, jq, Node.js + npm, PostgreSQL on 127.0.0.1:5432 and the release build (`make build`).
#   scripts/bench-guard.sh [duration-seconds] [connections]
#   COMPONENTS_DIR=/dir scripts/bench-guard.sh   # the .wasm files of another build (before/after)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
CONNS="${2:-16}"
source scripts/bench-lib.sh
BASELINE_SRC="${BASELINE_SRC:-../shared/baselines/seed-express}"
PORT=3906
EXPRESS_PORT=8090
fresh_db xmp_bench_guard
STATE="$(mktemp -d)"
XMP=""
EXPRESS=""
trap 'kill $XMP $EXPRESS 2>/dev/null || true; rm -rf "$STATE"' EXIT

start_xmp $PORT "$STATE"

# The baseline, installed from its lockfile under target/.
EXPRESS_DIR=target/baselines/seed-express
if [ ! -d "$EXPRESS_DIR/node_modules" ] || ! cmp -s "$BASELINE_SRC/package-lock.json" "$EXPRESS_DIR/package-lock.json"; then
  mkdir -p "$EXPRESS_DIR"
  cp "$BASELINE_SRC"/{package.json,package-lock.json,server.js} "$EXPRESS_DIR/"
  (cd "$EXPRESS_DIR" && npm ci --prefer-offline --no-audit --no-fund --silent)
fi
DATABASE_URL="$URL" JWT_SECRET="$SPIN_VARIABLE_JWT_SECRET" PORT=$EXPRESS_PORT \
  node "$EXPRESS_DIR/server.js" > "$STATE/express.log" 2>&1 &
EXPRESS=$!
until curl -sf -o /dev/null "127.0.0.1:$EXPRESS_PORT/api/version"; do sleep 0.05; done

bench_token
seed_guard_posts "$URL"
POST=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/tweets?limit=1" | jq -r '.data.items[0].id')
cat > "$STATE/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
for b in "$BASE" "http://127.0.0.1:$EXPRESS_PORT"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$b/api/tweets/$POST")
  [ "$code" = 200 ] || { echo "GET /api/tweets/:id at $b answered $code" >&2; exit 1; }
done

echo "## Guard (wrk -t2, ${DUR}s each, $CONNS connections, embedded key-value)"
echo "| route | conns | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|---:|"
run_wrk /api/version "$CONNS" "" "xmp /api/version"
run_wrk "/api/tweets/$POST" "$CONNS" "$STATE/auth.lua" "xmp GET /api/tweets/:id"
BASE_XMP="$BASE"
BASE="http://127.0.0.1:$EXPRESS_PORT"
run_wrk "/api/tweets/$POST" "$CONNS" "$STATE/auth.lua" "seed-express GET /api/tweets/:id"
BASE="$BASE_XMP"
run_wrk /api/auth/profile "$CONNS" "$STATE/auth.lua" "xmp GET /api/auth/profile"
run_wrk /api/accounts "$CONNS" "$STATE/auth.lua" "xmp GET /api/accounts"
run_wrk "/api/tweets?limit=50" "$CONNS" "$STATE/auth.lua" "xmp GET /api/tweets?limit=50"
run_wrk /api/version "$CONNS" "" "xmp /api/version (again)"
