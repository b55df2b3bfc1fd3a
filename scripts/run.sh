#!/usr/bin/env bash
# `make run`: PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else a throwaway local cluster),
# migrations, the X API simulator, then the app on 127.0.0.1 with the embedded key-value store.
set -euo pipefail
cd "$(dirname "$0")/.."
LISTEN="${1:-127.0.0.1:3000}"
XSIM_LISTEN="${2:-127.0.0.1:4010}"

source scripts/postgres.sh
DATABASE_URL="$(find_or_start_postgres)"
DB_HOSTPORT="$(echo "$DATABASE_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#')"
echo "xmp: database $(echo "$DATABASE_URL" | sed -E 's#://[^@]*@#://***@#')"

target/release/xmp migrate --database-url "$DATABASE_URL"

if [ -x target/release/xsim ]; then
  mkdir -p .spin
  target/release/xsim --listen "$XSIM_LISTEN" > .spin/xsim.log 2>&1 &
  XSIM_PID=$!
  echo "xmp: X API simulator on http://$XSIM_LISTEN (log: .spin/xsim.log)"
  export SPIN_VARIABLE_X_API_BASE_URL="http://$XSIM_LISTEN"
fi

export SPIN_VARIABLE_DATABASE_URL="$DATABASE_URL"
export SPIN_VARIABLE_DATABASE_HOST="$DB_HOSTPORT"
# A local signing secret for access tokens, generated once and kept beside the local state.
if [ -z "${SPIN_VARIABLE_JWT_SECRET:-}" ]; then
  mkdir -p .spin
  [ -s .spin/jwt_secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .spin/jwt_secret
  export SPIN_VARIABLE_JWT_SECRET="$(cat .spin/jwt_secret)"
fi
# The key that seals X credentials at rest, generated once and kept beside the local state
# (a new key would make the stored credentials unreadable).
if [ -z "${SPIN_VARIABLE_ENCRYPTION_KEY:-}" ]; then
  mkdir -p .spin
  [ -s .spin/encryption_key ] || head -c 32 /dev/urandom | base64 > .spin/encryption_key
  export SPIN_VARIABLE_ENCRYPTION_KEY="$(cat .spin/encryption_key)"
fi
# The simulator's OAuth 2.0 client, so that connecting an account works offline.
if [ -n "${XSIM_PID:-}" ]; then
  export SPIN_VARIABLE_X_CLIENT_ID="${SPIN_VARIABLE_X_CLIENT_ID:-xsim-client}"
  export SPIN_VARIABLE_X_CLIENT_SECRET="${SPIN_VARIABLE_X_CLIENT_SECRET:-xsim-secret}"
fi
# After X's consent the browser comes back to the web app's accounts page.
export SPIN_VARIABLE_ACCOUNTS_CONNECTED_URL="${SPIN_VARIABLE_ACCOUNTS_CONNECTED_URL:-http://$LISTEN/accounts}"
echo "xmp: open http://$LISTEN/  (the web app); try  curl http://$LISTEN/api/health"
target/release/xmp up --listen "$LISTEN" &
XMP_PID=$!
# Stop both on Ctrl-C or SIGTERM (xmp stops at once, as Spin does).
trap 'kill ${XMP_PID:-} ${XSIM_PID:-} 2>/dev/null || true' EXIT INT TERM
wait "$XMP_PID"
