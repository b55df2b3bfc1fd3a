#!/usr/bin/env bash
# CPU per authenticated request (issue 15): xmp's and PostgreSQL's CPU time (from /proc, all
# threads and backends) divided by the requests wrk completed, for GET /api/version, a post read
# and the profile, 16 connections. Less sensitive than req/s to a noisy machine; run it
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

# cpu_ticks PID...: user + system clock ticks of the processes.
cpu_ticks() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
backends() { pgrep -f "postgres: .*$DB" || true; }
HZ=$(getconf CLK_TCK)
echo "| route | requests | xmp CPU µs/request | PostgreSQL CPU µs/request |"
echo "|---|---:|---:|---:|"
for path in /api/version "/api/tweets/$POST" /api/auth/profile; do
  wrk -t2 -c16 -d2s -s "$STATE/auth.lua" "$BASE$path" > /dev/null # warm: fill the pool
  pgs=$(backends)
  x0=$(cpu_ticks $XMP); p0=$(cpu_ticks $pgs)
  n=$(wrk -t2 -c16 -d"${DUR}s" -s "$STATE/auth.lua" "$BASE$path" | awk '/requests in/ {print $1}')
  x1=$(cpu_ticks $XMP); p1=$(cpu_ticks $pgs)
  label=$path; [ "$path" = "/api/tweets/$POST" ] && label="/api/tweets/:id"
  echo "| $label | $n | $(( (x1 - x0) * 1000000 / HZ / n )) | $(( (p1 - p0) * 1000000 / HZ / n )) |"
done
