# Shared by the bench-*.sh scripts (sourced): a fresh migrated database, the variables the app
# needs, and one wrk run printed as a table row. Needs wrk and jq.
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 1; }
command -v jq >/dev/null || { echo "install jq: apt-get install -y jq" >&2; exit 1; }
XMP_BIN="${XMP_BIN:-target/release/xmp}"
BENCH_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"

# fresh_db NAME: drops and recreates database NAME, migrates it, sets URL and the variables.
fresh_db() {
  psql "$BENCH_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  URL="postgres://postgres@127.0.0.1:5432/$1?sslmode=disable"
  "$XMP_BIN" migrate --database-url "$URL" >/dev/null
  export SPIN_VARIABLE_DATABASE_URL="$URL"
  export SPIN_VARIABLE_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef"
  export SPIN_VARIABLE_ENCRYPTION_KEY="YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE="
  # The benchmarks measure throughput, not the limiter: lift the per-user API limit.
  export SPIN_VARIABLE_API_RATE_LIMIT=100000000
}

# manifest_in DIR: the manifest to start xmp with, written into DIR when COMPONENTS_DIR names the
# .wasm files of another build (before/after comparisons), else spin.toml.
manifest_in() {
  if [ -z "${COMPONENTS_DIR:-}" ]; then
    echo spin.toml
    return
  fi
  sed -E "s#^source = \"target/wasm32-wasip2/[^/]+/#source = \"$(realpath "$COMPONENTS_DIR")/#" \
    spin.toml > "$1/spin.toml"
  echo "$1/spin.toml"
}

# run_wrk PATH CONNECTIONS [LUA-SCRIPT] [LABEL]: one row of req/s, p50, p99 against $BASE.
run_wrk() {
  local out rps p50 p99 non2xx
  out=$(wrk -t "$(($2 < 2 ? $2 : 2))" -c "$2" -d "${DUR}s" --latency ${3:+-s "$3"} "$BASE$1")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '| %-44s | %5s | %9s | %8s | %8s | %s\n' "${4:-$1}" "$2" "$rps" "$p50" "$p99" "${non2xx:+non-2xx: $non2xx}"
}
