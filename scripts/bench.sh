#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md on this machine. Needs: wrk (Debian), pgbench
# (PostgreSQL client), PostgreSQL on 127.0.0.1:5432 and the release build (`make build`).
# Usage: scripts/bench.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
PORT=3901
DB=xmp_bench
NATIVE_FLAGS="--config profile.release.lto=\"thin\" --config profile.release.opt-level=3 --config profile.release.codegen-units=16 --config profile.release.panic=\"unwind\""
ADMIN="postgres://postgres@127.0.0.1:5432/postgres"
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 1; }

psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
target/release/xmp migrate --database-url "$URL" >/dev/null
export SPIN_VARIABLE_DATABASE_URL="$URL"
export SPIN_VARIABLE_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef"
export SPIN_VARIABLE_ENCRYPTION_KEY="YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE="
STATE="$(mktemp -d)"
# An interrupted run must not leave xmp holding its PostgreSQL connections.
XMP=""
trap 'kill $XMP 2>/dev/null || true; rm -rf "$STATE"' EXIT

echo "## machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo
echo "## component sizes (bytes)"
for f in target/wasm32-wasip2/release/*.wasm target/wasm32-wasip2/release-small/*.wasm; do
  [ "$(basename "$f")" = probe.wasm ] && continue
  printf '%-12s %8d\n' "$(basename "$f" .wasm)" "$(stat -c %s "$f")"
done
echo

start_and_time() { # label
  local t0 t1
  t0=$(date +%s%N)
  target/release/xmp up --listen 127.0.0.1:$PORT --state-dir "$STATE" > "$STATE/xmp.log" 2>&1 &
  XMP=$!
  local tries=0
  until curl -sf -o /dev/null "127.0.0.1:$PORT/api/version"; do
    sleep 0.005
    tries=$((tries + 1))
    if [ "$tries" -gt 6000 ] || ! kill -0 "$XMP" 2>/dev/null; then
      echo "xmp did not start:" >&2; cat "$STATE/xmp.log" >&2; exit 1
    fi
  done
  t1=$(date +%s%N)
  echo "$1: $(( (t1 - t0) / 1000000 )) ms from xmp up to the first 200"
  if grep -q '"from":"Quick"' "$STATE/xmp.log"; then
    until grep -q '"components optimised"' "$STATE/xmp.log"; do sleep 0.005; done
    echo "  all components on their optimised code $(( ($(date +%s%N) - t0) / 1000000 )) ms after xmp up"
  fi
}

echo "## startup"
start_and_time "cold compile cache"
kill $XMP; wait $XMP 2>/dev/null || true
start_and_time "warm compile cache"
echo

run_wrk() { # path connections
  local out
  out=$(wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${DUR}s" --latency "http://127.0.0.1:$PORT$1")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf '| %-13s | %3s | %10s | %8s | %8s |\n' "$1" "$2" "$rps" "$p50" "$p99"
}

echo "## HTTP (wrk, ${DUR}s each)"
echo "| route         | conns | req/s | p50 | p99 |"
for path in /api/version /api/health; do
  for c in 1 16 64; do run_wrk "$path" "$c"; done
done
kill $XMP; wait $XMP 2>/dev/null || true
echo

echo "## baseline: pgbench -S (select-only), same machine, 16 clients"
pgbench -i -q -s 10 "$URL" >/dev/null 2>&1
pgbench -S -c 16 -j 2 -T "$DUR" "$URL" 2>/dev/null | grep -E "^tps" | sed 's/^/    /'
rm -rf "$STATE"
echo
echo "## xsim create-post throughput (unlimited profile)"
cargo build -q --release $NATIVE_FLAGS -p xsim --example bench && target/release/examples/bench 32 5
