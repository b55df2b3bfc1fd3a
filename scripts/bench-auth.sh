#!/usr/bin/env bash
# Identity figures for BENCHMARKS.md: login latency (argon2id dominates) and req/s with p50/p99
# of an authenticated GET /api/auth/profile at 16 and 64 connections, beside GET /api/version
# in the same run. Needs wrk, PostgreSQL on 127.0.0.1:5432 and the release build (`make build`).
# Usage: scripts/bench-auth.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
source scripts/bench-lib.sh
PORT=3902
export SPIN_VARIABLE_LOGIN_LIMIT_PER_CLIENT=100000000
export SPIN_VARIABLE_LOGIN_LIMIT_PER_EMAIL=100000000
fresh_db xmp_bench_auth
STATE="$(mktemp -d)"
trap 'kill $XMP 2>/dev/null || true; rm -rf "$STATE"' EXIT

"$XMP_BIN" up --listen 127.0.0.1:$PORT --state-dir "$STATE" > "$STATE/xmp.log" 2>&1 &
XMP=$!
until curl -sf -o /dev/null "127.0.0.1:$PORT/api/version"; do sleep 0.05; done
wait_optimised "$STATE/xmp.log"

BASE="http://127.0.0.1:$PORT"
PW="bench passphrase 42"
curl -s -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$PW\",\"name\":\"Bench\"}" "$BASE/api/auth/register"

echo "## login latency (POST /api/auth/login, sequential, 20 requests)"
for i in $(seq 1 20); do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'content-type: application/json' \
    -d "{\"email\":\"bench@example.com\",\"password\":\"$PW\"}" "$BASE/api/auth/login"
done | awk '$1 != 200 {print "unexpected status " $1 > "/dev/stderr"} {print $2}' | sort -n \
  | awk '{a[NR]=$1*1000} END {printf "p50 %.1f ms, p90 %.1f ms, max %.1f ms (n=%d)\n", a[int(NR*0.5)], a[int(NR*0.9)], a[NR], NR}'
echo "## login throughput (wrk, 4 connections, ${DUR}s)"
cat > "$STATE/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"$PW"}'
LUA
wrk -t 2 -c 4 -d "${DUR}s" --latency -s "$STATE/login.lua" "$BASE/api/auth/login" \
  | awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} /Non-2xx/ {bad=$NF} END {print "req/s " r ", p50 " p50 ", p99 " p99 (bad ? ", non-2xx " bad : "")}'
echo

TOKEN=$(curl -s -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$PW\"}" "$BASE/api/auth/login" \
  | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
[[ "$TOKEN" == ey* ]] || { echo "login for the token failed: $TOKEN" >&2; exit 1; }
cat > "$STATE/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

echo "## HTTP (wrk, ${DUR}s each, token valid for 15 min)"
echo "| route             | conns | req/s | p50 | p99 |"
for c in 16 64; do
  run_wrk /api/version "$c"
  run_wrk /api/auth/profile "$c" "$STATE/auth.lua"
done
