#!/usr/bin/env bash
# CPU per authenticated request (issue 15): xmp's and PostgreSQL's CPU time (from /proc, all
# threads and backends) divided by the requests wrk completed, for GET /api/version, a post read,
# the profile, a page of 50 posts, a new draft and a new scheduled post (POST /api/tweets), 16
# connections. Less sensitive than req/s to a noisy machine; run it
# alternately on two builds (COMPONENTS_DIR) for a before and after.
# Needs wrk, jq, PostgreSQL on 127.0.0.1:5432 and the release build (`make build`).
#   scripts/bench-cpu.sh [duration-seconds]
#   COMPONENTS_DIR=/dir scripts/bench-cpu.sh   # the .wasm files of another build
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-6}"
source scripts/bench-lib.sh
PORT=3908
DB=xmp_bench_cpu
fresh_db $DB
STATE="$(mktemp -d)"
XMP=""
trap 'kill $XMP 2>/dev/null || true; rm -rf "$STATE"' EXIT
start_xmp $PORT "$STATE"
bench_token
seed_guard_posts "$URL"
POST=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/tweets?limit=1" | jq -r '.data.items[0].id')
echo "wrk.headers[\"Authorization\"] = \"Bearer $TOKEN\"" > "$STATE/auth.lua"
ACCOUNT=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts" | jq -r '.data.items[0].id')
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts/$ACCOUNT/switch"
create_lua "$STATE/create.lua"
create_lua "$STATE/schedule.lua" "\"scheduledAt\":\"$(date -u -d '+90 days' +%Y-%m-%dT%H:%M:%SZ)\""

HZ=$(getconf CLK_TCK)
echo "| route | requests | xmp CPU µs/request | PostgreSQL CPU µs/request |"
echo "|---|---:|---:|---:|"
# measure LABEL PATH SCRIPT
measure() {
  wrk -t2 -c16 -d2s -s "$3" "$BASE$2" > /dev/null # warm: fill the pool
  local pgs x0 p0 n x1 p1 out bad
  pgs=$(backends $DB)
  x0=$(cpu_ticks $XMP); p0=$(cpu_ticks $pgs)
  out=$(wrk -t2 -c16 -d"${DUR}s" -s "$3" "$BASE$2")
  x1=$(cpu_ticks $XMP); p1=$(cpu_ticks $pgs)
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "| $1 | $n | $(( (x1 - x0) * 1000000 / HZ / n )) | $(( (p1 - p0) * 1000000 / HZ / n )) |${bad:+ non-2xx: $bad}"
}
measure /api/version /api/version "$STATE/auth.lua"
measure /api/tweets/:id "/api/tweets/$POST" "$STATE/auth.lua"
measure /api/auth/profile /api/auth/profile "$STATE/auth.lua"
measure "/api/tweets?limit=50" "/api/tweets?limit=50" "$STATE/auth.lua"
measure "POST /api/tweets (draft)" /api/tweets "$STATE/create.lua"
measure "POST /api/tweets (scheduled)" /api/tweets "$STATE/schedule.lua"
