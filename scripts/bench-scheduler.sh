#!/usr/bin/env bash
# Scheduler soak for BENCHMARKS.md, against the release build and the X API simulator:
#   drain   N accounts x P posts due now, xsim's unlimited profile: time to drain, posts/s,
#           due -> published lag p50/p99, then xsim's post log compared with the database.
#   kill    the same, with the host SIGKILLed every few seconds and restarted until drained,
#           xsim losing the answers to two creates before each kill, and texts that X rewrites
#           (URLs with and without scheme, a mention, a hashtag, emoji, CJK).
#   limits  X's standard limits (100 posts / 15 min per user): ticks run for a while, then every
#           account's published count and the deferred rest; nothing may fail.
# Ticks are driven through POST /internal/scheduler/tick by T concurrent callers (the cron
# trigger runs as well).
# X_LATENCY_MS=n makes every create answer after n ms (X's own creates take a few hundred).
# COMPONENTS_DIR=/dir runs the .wasm files of another build (before/after comparisons).
# Usage: scripts/bench-scheduler.sh [drain|kill|limits] [accounts] [posts-per-account] [tickers]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
MODE="${1:-drain}"
ACCOUNTS="${2:-100}"
PER="${3:-100}"
TICKERS="${4:-4}"
XMP_BIN="${XMP_BIN:-target/release/xmp}"
XSIM_BIN="${XSIM_BIN:-target/release/xsim}"
PORT=3905
XPORT=4015
DB=xmp_bench_scheduler
ADMIN="postgres://postgres@127.0.0.1:5432/postgres"
SECRET="bench-scheduler-secret-0123456789"
PROFILE=unlimited
[ "$MODE" = limits ] && PROFILE=standard

psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
"$XMP_BIN" migrate --database-url "$URL" >/dev/null
STATE="$(mktemp -d)"
MANIFEST=$(manifest_in "$STATE")
XMP=""
cleanup() { kill $XMP $XSIM ${KILLER:-} ${TICK_PIDS:-} 2>/dev/null || true; rm -rf "$STATE"; }
trap cleanup EXIT

"$XSIM_BIN" --listen 127.0.0.1:$XPORT --profile "$PROFILE" > "$STATE/xsim.log" 2>&1 &
XSIM=$!
XBASE="http://127.0.0.1:$XPORT"
until curl -sf -o /dev/null "$XBASE/__admin/health"; do sleep 0.05; done

export SPIN_VARIABLE_DATABASE_URL="$URL"
export SPIN_VARIABLE_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef"
export SPIN_VARIABLE_ENCRYPTION_KEY="YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE="
export SPIN_VARIABLE_API_RATE_LIMIT=100000000
export SPIN_VARIABLE_X_API_BASE_URL="$XBASE"
export SPIN_VARIABLE_X_CLIENT_ID=xsim-client
export SPIN_VARIABLE_X_CLIENT_SECRET=xsim-secret
export SPIN_VARIABLE_SCHEDULER_SECRET="$SECRET"
BASE="http://127.0.0.1:$PORT"
start_xmp() {
  "$XMP_BIN" up --listen 127.0.0.1:$PORT --manifest "$MANIFEST" --state-dir "$STATE" >> "$STATE/xmp.log" 2>&1 &
  XMP=$!
  until curl -sf -o /dev/null "$BASE/api/version"; do sleep 0.05; done
  wait_optimised "$STATE/xmp.log"
}
start_xmp

TOKEN=$(curl -s -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench passphrase 42","name":"Bench"}' \
  "$BASE/api/auth/register" | jq -r .data.accessToken)
echo "connecting $ACCOUNTS accounts through the OAuth 2.0 flow..."
for i in $(seq 1 "$ACCOUNTS"); do
  uid=$((1800000000000000000 + i))
  curl -sf -o /dev/null -H 'content-type: application/json' \
    -d "{\"username\":\"brand_$i\",\"id\":\"$uid\"}" "$XBASE/__admin/users"
  authorize=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts/connect" | jq -r .data.authorizeUrl)
  callback=$(curl -s -o /dev/null -w '%{redirect_url}' "$authorize&user_id=$uid")
  curl -sf -o /dev/null "$callback"
done
echo "accounts: $(psql "$URL" -tAc "SELECT count(*) FROM x_accounts WHERE status = 'active'")"

psql "$URL" -q <<SQL
INSERT INTO posts (id, workspace_id, account_id, content, thread_id, status, scheduled_at,
  normalized_text_hash)
SELECT id, workspace_id, account_id, content, id, 'scheduled', now(), md5(content) || md5(content)
FROM (SELECT gen_random_uuid() AS id, a.workspace_id, a.id AS account_id,
             CASE WHEN '$MODE' = 'kill'
               -- What real X rewrites (URLs, with and without a scheme) and what it indexes in
               -- code points (emoji, CJK), differing per post only in a URL.
               THEN 'Launch 🚀 日本語のお知らせ https://example.com/p/' || n || '?ref=' || a.username
                    || ' docs.example.org/guide @' || a.username || ' #RustLang 🎉'
               ELSE 'Scheduled post ' || n || ' of ' || a.username END AS content
      FROM x_accounts a, generate_series(1, $PER) n) s;
VACUUM ANALYZE posts;
SQL
TOTAL=$((ACCOUNTS * PER))
echo "posts due now: $TOTAL (mode $MODE, $TICKERS concurrent tick callers, xsim profile $PROFILE)"

# Every post not yet final, deferred ones too (a post the breaker deferred is not done).
remaining() {
  psql "$URL" -tAc "SELECT count(*) FROM posts WHERE status IN ('scheduled', 'publishing')"
}
tick_loop() {
  while [ ! -f "$STATE/stop" ]; do
    curl -s -o /dev/null -m 30 -X POST -H "Authorization: Bearer $SECRET" "$BASE/internal/scheduler/tick" || sleep 0.2
  done
}
# X_LATENCY_MS: every create answers after this long, as X's do (xsim's delay fault).
if [ -n "${X_LATENCY_MS:-}" ]; then
  curl -sf -o /dev/null -H 'content-type: application/json' \
    -d "{\"method\":\"POST\",\"path\":\"/2/tweets\",\"kind\":\"delay\",\"delay_ms\":$X_LATENCY_MS,\"count\":$((TOTAL * 2))}" \
    "$XBASE/__admin/faults"
  echo "every create answers after $X_LATENCY_MS ms"
fi
# Who spent the CPU during the drain.
CPU0="$(cpu_ticks $XMP) $(cpu_ticks $XSIM) $(cpu_ticks $(backends $DB))"
START=$(date +%s.%N)
TICK_PIDS=""
for _ in $(seq 1 "$TICKERS"); do tick_loop & TICK_PIDS="$TICK_PIDS $!"; done
if [ "$MODE" = kill ]; then
  ( while [ ! -f "$STATE/stop" ]; do
      sleep 3
      [ -f "$STATE/stop" ] && break
      # Also lose X's answer to the next two creates (X has the post; the host never hears).
      curl -s -o /dev/null -H 'content-type: application/json' \
        -d '{"method":"POST","path":"/2/tweets","kind":"lose_response","count":2}' "$XBASE/__admin/faults"
      sleep 0.5
      kill -9 "$(cat "$STATE/xmp.pid")" 2>/dev/null || true
      echo killed >> "$STATE/kills"
      sleep 0.5
      "$XMP_BIN" up --listen 127.0.0.1:$PORT --manifest "$MANIFEST" --state-dir "$STATE" >> "$STATE/xmp.log" 2>&1 &
      echo $! > "$STATE/xmp.pid"
    done ) &
  KILLER=$!
fi
echo "$XMP" > "$STATE/xmp.pid"
if [ "$MODE" = limits ]; then
  sleep "${LIMITS_SECONDS:-60}"
else
  while [ "$(remaining)" -gt 0 ]; do sleep 0.5; done
fi
END=$(date +%s.%N)
CPU1="$(cpu_ticks $XMP) $(cpu_ticks $XSIM) $(cpu_ticks $(backends $DB))"
touch "$STATE/stop"
wait $TICK_PIDS 2>/dev/null || true
[ -n "${KILLER:-}" ] && wait "$KILLER" 2>/dev/null || true
XMP=$(cat "$STATE/xmp.pid")

echo "## result"
psql "$URL" -tAc "SELECT status, count(*) FROM posts GROUP BY 1 ORDER BY 1" | sed 's/^/status /'
PUBLISHED=$(psql "$URL" -tAc "SELECT count(*) FROM posts WHERE status = 'published'")
awk -v s="$START" -v e="$END" -v n="$PUBLISHED" 'BEGIN { printf "elapsed %.1f s, %d published, %.0f posts/s\n", e - s, n, n / (e - s) }'
psql "$URL" -tAc "SELECT 'lag p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - scheduled_at))::numeric, 2) || ' s, p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - scheduled_at))::numeric, 2) || ' s, max ' || round(max(extract(epoch FROM published_at - scheduled_at))::numeric, 2) || ' s' FROM posts WHERE status = 'published'"
if [ "$MODE" = drain ]; then
  # Backends that exited during the drain are not counted; the pool keeps its connections.
  read -r x0 s0 p0 <<< "$CPU0"; read -r x1 s1 p1 <<< "$CPU1"
  awk -v n="$PUBLISHED" -v hz="$(getconf CLK_TCK)" -v x=$((x1 - x0)) -v s=$((s1 - s0)) -v p=$((p1 - p0)) \
    'BEGIN { printf "CPU per published post: xmp %.0f us, xsim %.0f us, PostgreSQL %.0f us\n", x / hz / n * 1e6, s / hz / n * 1e6, p / hz / n * 1e6 }'
fi
[ -f "$STATE/kills" ] && echo "host SIGKILLed $(wc -l < "$STATE/kills") times"
curl -s "$XBASE/__admin/posts" | jq -r '.posts[] | select(.deleted | not) | .id' | sort > "$STATE/x_ids"
psql "$URL" -tAc "SELECT x_post_id FROM posts WHERE x_post_id IS NOT NULL" | sort > "$STATE/db_ids"
X_TOTAL=$(wc -l < "$STATE/x_ids")
X_TEXT_DUPES=$(curl -s "$XBASE/__admin/posts" | jq -r '.posts[] | select(.deleted | not) | .sent_text' | sort | uniq -d | wc -l)
RECONCILED=$(psql "$URL" -tAc "SELECT count(*) FROM post_events WHERE kind = 'published' AND details->>'how' = 'reconciled'")
LOST_ANSWERS=$(curl -s "$XBASE/__admin/requests" | jq -r '.requests["POST /2/tweets"] // 0')
LOST=$(comm -23 "$STATE/db_ids" "$STATE/x_ids" | wc -l)
EXTRA=$(comm -13 "$STATE/db_ids" "$STATE/x_ids" | wc -l)
echo "xsim post log: $X_TOTAL posts; texts posted twice: $X_TEXT_DUPES; in the database but not at X: $LOST; at X but not in the database: $EXTRA"
echo "creates sent to X: $LOST_ANSWERS; found on X by reconciliation: $RECONCILED"
if [ "$MODE" = limits ]; then
  psql "$URL" -tAc "SELECT 'per account published: min ' || min(c) || ', max ' || max(c) || '; deferred: ' || (SELECT count(*) FROM posts WHERE status = 'scheduled') || '; failed: ' || (SELECT count(*) FROM posts WHERE status = 'failed') FROM (SELECT count(*) FILTER (WHERE status = 'published') AS c FROM posts GROUP BY account_id) s"
  psql "$URL" -tAc "SELECT 'next attempts from ' || min(next_attempt_at - now()) || ' to ' || max(next_attempt_at - now()) FROM posts WHERE status = 'scheduled'"
fi
