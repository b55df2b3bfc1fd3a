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

# seed_guard_posts URL: one account and 60 scheduled posts a month ahead in each workspace,
# written by SQL (no X needed).
seed_guard_posts() {
  psql "$1" -q <<'SQL'
INSERT INTO x_accounts (id, workspace_id, x_user_id, username, auth_kind, credentials, key_id,
  status, timezone)
SELECT gen_random_uuid(), w.id, '1700000000000000001', 'brand_1', 'oauth2',
  'v1.0123abcd.' || repeat('x', 220), '0123abcd', 'active', 'UTC'
FROM workspaces w;
INSERT INTO posts (id, workspace_id, account_id, content, thread_id, status, scheduled_at,
  normalized_text_hash)
SELECT g, a.workspace_id, a.id, 'Post ' || i || ' for the guard benchmark', g, 'scheduled',
  now() + interval '30 days' + i * interval '1 hour', repeat('a', 64)
FROM x_accounts a, generate_series(1, 60) i,
  LATERAL (SELECT gen_random_uuid() AS g WHERE i > 0) u;
SQL
}

# start_xmp PORT STATE-DIR: starts xmp on PORT (with manifest_in's manifest) keeping its state
# and log in STATE-DIR; sets XMP (its pid) and BASE, and returns once it answers.
start_xmp() {
  local manifest
  manifest=$(manifest_in "$2")
  "$XMP_BIN" up --listen "127.0.0.1:$1" --manifest "$manifest" --state-dir "$2" \
    > "$2/xmp.log" 2>&1 &
  XMP=$!
  BASE="http://127.0.0.1:$1"
  until curl -sf -o /dev/null "$BASE/api/version"; do sleep 0.05; done
  wait_optimised "$2/xmp.log"
}

# wait_optimised LOG: returns once the components that started on quick code (a cold compile
# cache) run their optimised code, so that what is measured is the optimised code.
wait_optimised() {
  if grep -q '"from":"Quick"' "$1"; then
    until grep -q '"components optimised"' "$1"; do sleep 0.05; done
  fi
}

# bench_token: registers the benchmark's user at $BASE and sets TOKEN to its access token.
bench_token() {
  TOKEN=$(curl -s -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench passphrase 42","name":"Bench"}' \
    "$BASE/api/auth/register" | jq -r .data.accessToken)
  [[ "$TOKEN" == ey* ]] || { echo "register failed" >&2; exit 1; }
}

# create_lua FILE [FIELDS]: a wrk script that POSTs a new draft with a unique text as $TOKEN's
# user (the user's active account); FIELDS, more of the body's members (`"scheduledAt":"…"`).
create_lua() {
  cat > "$1" <<LUA
local counter = 0
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  counter = counter + 1
  local body = '{"content":"wrk post ' .. counter .. ' ' .. math.random(1, 1000000000) .. '"${2:+,$2}}'
  return wrk.format("POST", "/api/tweets",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer $TOKEN" }, body)
end
LUA
}

# cpu_ticks PID...: user + system clock ticks of the processes.
cpu_ticks() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}

# backends DB: the PIDs of PostgreSQL's backends serving the database DB.
backends() { pgrep -f "postgres: .*$1" || true; }
