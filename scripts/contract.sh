#!/usr/bin/env bash
# `make test`'s API contract run: schemathesis (PyPI, in a venv under target/) against a running
# platform — xmp and xsim as `make run` starts them, on a fresh database — with a registered
# user's token, every operation of crates/common/openapi.json, including the stateful phase
# (links between operations). Fails on any server error, any response that breaks its schema,
# and any undocumented status code or content type.
#   scripts/contract.sh            # uses target/debug/{xmp,xsim}, built if missing
#   MAX_EXAMPLES=50 scripts/contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/contract/venv
requirements="schemathesis==4.32.5"
if [[ ! -x "$venv/bin/schemathesis" || "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements
  echo "$requirements" >"$venv/.requirements"
fi

cargo build --quiet -p xmp-host -p xsim
XMP=target/debug/xmp
XSIM=target/debug/xsim

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APP_PORT=$(free_port)
SIM_PORT=$(free_port)
DB="xmp_contract_$$"
ADMIN="postgres://postgres@127.0.0.1:5432/postgres"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
work=$(mktemp -d)

cleanup() {
  kill "${XMP_PID:-}" "${XSIM_PID:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

psql "$ADMIN" -qc "CREATE DATABASE $DB"
"$XMP" migrate --database-url "$DATABASE_URL" >/dev/null

"$XSIM" --listen "127.0.0.1:$SIM_PORT" >"$work/xsim.log" 2>&1 &
XSIM_PID=$!
export SPIN_VARIABLE_DATABASE_URL="$DATABASE_URL"
export SPIN_VARIABLE_X_API_BASE_URL="http://127.0.0.1:$SIM_PORT"
export SPIN_VARIABLE_X_CLIENT_ID=xsim-client
export SPIN_VARIABLE_X_CLIENT_SECRET=xsim-secret
export SPIN_VARIABLE_JWT_SECRET="contract-secret-0123456789abcdef0123456789abcdef"
export SPIN_VARIABLE_ENCRYPTION_KEY="Y29udHJhY3QtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="
export SPIN_VARIABLE_SCHEDULER_SECRET="contract-scheduler-secret-0123456789"
export SPIN_VARIABLE_METRICS_TOKEN="contract-metrics-token-0123456789"
# The run sends thousands of requests as one user: lift the per-user and login limits.
export SPIN_VARIABLE_API_RATE_LIMIT=100000000
export SPIN_VARIABLE_LOGIN_LIMIT_PER_EMAIL=100000000
export SPIN_VARIABLE_LOGIN_LIMIT_PER_CLIENT=100000000
(cd "$work" && exec "$OLDPWD/$XMP" up --listen "127.0.0.1:$APP_PORT" \
  --manifest "$OLDPWD/spin.toml") >"$work/xmp.log" 2>&1 &
XMP_PID=$!
BASE="http://127.0.0.1:$APP_PORT"
for _ in $(seq 1 100); do
  curl -fs "$BASE/api/health" >/dev/null 2>&1 && break
  sleep 0.2
done

# A registered user with a connected X account (xsim's demo user), so that operations on
# accounts and posts have something to act on.
TOKEN=$(curl -fsS "$BASE/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"contract@example.com","password":"contract-password-1","name":"Contract"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])')
AUTHORIZE=$(curl -fsS -X POST "$BASE/api/accounts/connect" -H "authorization: Bearer $TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["authorizeUrl"])')
CALLBACK=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$AUTHORIZE")
curl -fsS -o /dev/null "$CALLBACK"

# One run per way of authenticating: the user's bearer token for the API, the scheduler secret
# for the HTTP tick, the metrics token for the metrics.
st() { # AUTH-HEADER schemathesis-args...
  local auth=$1; shift
  "$venv/bin/schemathesis" run "$BASE/api/openapi.json" --url "$BASE" \
    --header "Authorization: Bearer $auth" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${MAX_EXAMPLES:-25}" --seed "${SEED:-1}" --workers 2 --request-timeout 30 \
    --suppress-health-check all --generation-database none --no-color "$@"
}
status=0
st "$TOKEN" --phases examples,coverage,fuzzing,stateful \
  --exclude-path /internal/scheduler/tick --exclude-path /api/metrics || status=$?
st "$SPIN_VARIABLE_SCHEDULER_SECRET" --phases examples,coverage,fuzzing \
  --include-path /internal/scheduler/tick || status=$?
st "$SPIN_VARIABLE_METRICS_TOKEN" --phases examples,coverage,fuzzing \
  --include-path /api/metrics || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- xmp log (last 40 lines) ---"; tail -40 "$work/xmp.log"
fi
exit "$status"
