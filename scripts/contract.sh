#!/usr/bin/env bash
# `make test`'s API contract run: schemathesis (PyPI, in a venv under target/) against a running
# platform -- xmp and xsim as `make run` starts them, on a fresh database -- every operation of
# crates/common/openapi.json (the document the platform serves), authenticated as each one's
# `security` says, through the examples, coverage, fuzzing and stateful (links) phases. Fails on
# any server error, any response that breaks its schema, any undocumented status code or content
# type, and any request the document allows that the API refuses (positive_data_acceptance;
# the refusals of rules JSON Schema cannot express, which the document states in prose, are
# accepted and counted: scripts/contract_hooks.py).
#
# MAX_EXAMPLES=100 (cases per operation and phase) keeps CI's run near 2 minutes on two cores
# (about 7,800 requests; 200 takes about 4). SEED fixes the generated cases, one worker keeps
# their order, and the crash cache is off (scripts/contract.toml), so a run repeats.
#   make contract                  # builds the components and the release binaries, then this
#   scripts/contract.sh            # uses what is built: target/release/{xmp,xsim} and the .wasm
#   MAX_EXAMPLES=300 SEED=7 scripts/contract.sh
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

# The release binaries of `make native` (a debug wasmtime would cost minutes to build) and the
# components of `make components` (spin.toml's sources).
XMP=target/release/xmp
XSIM=target/release/xsim
for f in "$XMP" "$XSIM" $(sed -nE 's/^source = "(.*)"$/\1/p' spin.toml); do
  [[ -f $f ]] || { echo "contract: $f is missing; run make contract (or make components native)"; exit 2; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APP_PORT=$(free_port)
SIM_PORT=$(free_port)
DB="xmp_contract_$$"
ADMIN="postgres://postgres@127.0.0.1:5432/postgres"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
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
# The compile cache stays between runs (target/contract/state/compiled); the key-value store
# starts empty.
state=target/contract/state
mkdir -p "$state"
rm -f "$state"/sqlite_key_value.db*
"$XMP" up --listen "127.0.0.1:$APP_PORT" --manifest spin.toml --state-dir "$state" \
  >"$work/xmp.log" 2>&1 &
XMP_PID=$!
BASE="http://127.0.0.1:$APP_PORT"
# The first start compiles the components (a minute or two on two cores); later starts load
# them from the cache.
for i in $(seq 1 1200); do
  curl -fs "$BASE/api/health" >/dev/null 2>&1 && break
  [[ $i -eq 1200 ]] && { echo "contract: xmp did not come up"; tail -40 "$work/xmp.log"; exit 1; }
  sleep 0.2
done

# A registered user with a connected X account (xsim's demo user), so that operations on
# accounts and posts have something to act on.
export CONTRACT_BASE="$BASE"
export CONTRACT_EMAIL=contract@example.com CONTRACT_PASSWORD=contract-password-1
CONTRACT_TOKEN=$(curl -fsS "$BASE/api/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$CONTRACT_EMAIL\",\"password\":\"$CONTRACT_PASSWORD\",\"name\":\"Contract\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])')
export CONTRACT_TOKEN
AUTHORIZE=$(curl -fsS -X POST "$BASE/api/accounts/connect" -H "authorization: Bearer $CONTRACT_TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["authorizeUrl"])')
CALLBACK=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$AUTHORIZE")
ACCOUNT=$(curl -fsS "$CALLBACK" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["account"]["id"])')
# The caller's active account (posts and engagements without an accountId use it), with
# posting slots for queued posts.
curl -fsS -o /dev/null -X POST "$BASE/api/accounts/$ACCOUNT/switch" \
  -H "authorization: Bearer $CONTRACT_TOKEN"
curl -fsS -o /dev/null -X PATCH "$BASE/api/accounts/$ACCOUNT" \
  -H "authorization: Bearer $CONTRACT_TOKEN" -H 'content-type: application/json' \
  -d '{"postingSlots":[{"day":"mon","time":"09:00"},{"day":"wed","time":"12:30"},{"day":"fri","time":"17:00"}]}'

WORKSPACE=$(curl -fsS "$BASE/api/auth/profile" -H "authorization: Bearer $CONTRACT_TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["defaultWorkspaceId"])')
# Spares for the deletions: a second workspace, and a second X user's account connected with
# OAuth 1.0a (the run's own account, workspace and default are kept; see contract_hooks.py).
SPARE_WORKSPACE=$(curl -fsS "$BASE/api/workspaces" -H "authorization: Bearer $CONTRACT_TOKEN" \
  -H 'content-type: application/json' -d '{"name":"Spare"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
SIM="http://127.0.0.1:$SIM_PORT/__admin"
SPARE_X_USER=$(curl -fsS "$SIM/users" -H 'content-type: application/json' -d '{"username":"contract_spare"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
SPARE_ACCOUNT=$(curl -fsS -X POST "$SIM/users/$SPARE_X_USER/oauth1" | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(json.dumps({"apiKey": c["consumer_key"], "apiSecret": c["consumer_secret"],
                  "accessToken": c["access_token"], "accessTokenSecret": c["access_token_secret"]}))' |
  curl -fsS "$BASE/api/accounts" -H "authorization: Bearer $CONTRACT_TOKEN" \
    -H 'content-type: application/json' -d @- |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["account"]["id"])')
export CONTRACT_WORKSPACE="$WORKSPACE" CONTRACT_SPARE_WORKSPACE="$SPARE_WORKSPACE"
export CONTRACT_SPARE_ACCOUNT="$SPARE_ACCOUNT"

# Each operation is called with what its `security` names (scripts/contract_hooks.py).
export CONTRACT_METRICS_TOKEN="$SPIN_VARIABLE_METRICS_TOKEN"
export CONTRACT_SCHEDULER_SECRET="$SPIN_VARIABLE_SCHEDULER_SECRET"
export PYTHONPATH="$PWD/scripts" SCHEMATHESIS_HOOKS=contract_hooks
export CONTRACT_ACCEPTED="$work/accepted.tsv"
export CONTRACT_ACCOUNT="$ACCOUNT"
status=0
# The document from the repository (the one the platform serves: include_str!), so that
# GET /api/openapi.json is one of the operations tested rather than the schema's source.
"$venv/bin/schemathesis" --config-file scripts/contract.toml run crates/common/openapi.json --url "$BASE" \
  --phases examples,coverage,fuzzing,stateful \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,positive_data_acceptance \
  --max-examples "${MAX_EXAMPLES:-100}" --seed "${SEED:-1}" --workers 1 --request-timeout 30 \
  --suppress-health-check all --generation-database none --no-color \
  --report junit --report-junit-path target/contract/junit.xml || status=$?
cp "$work/xmp.log" "$work/xsim.log" target/contract/ 2>/dev/null || true
# What the document states in prose only, refused as it says (scripts/contract_hooks.py).
if [[ -s $CONTRACT_ACCEPTED ]]; then
  echo "Refusals of rules the document states in prose (accepted; count, operation, rule):"
  sort "$CONTRACT_ACCEPTED" | uniq -c | sort -rn | head -40 |
    awk -F'\t' '{ printf "  %s  %s\n", $1, $2 }'
fi
if [[ $status -ne 0 ]]; then
  echo "--- xmp log (last 40 lines; whole: target/contract/xmp.log) ---"; tail -40 "$work/xmp.log"
fi
echo "contract: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in ${SECONDS}s (MAX_EXAMPLES=${MAX_EXAMPLES:-100}, SEED=${SEED:-1})"
exit "$status"
