#!/usr/bin/env bash
# Posts figures for BENCHMARKS.md: POST /api/tweets (a draft with a unique text) and
# GET /api/tweets?limit=50 (first page, a filtered page, a deep cursor page) at 16 and 64
# connections with N posts (default 1,000,000) in the workspace, beside GET /api/version and
# GET /api/auth/profile in the same run. Needs wrk, PostgreSQL on 127.0.0.1:5432 and the
# release build (`make build`).
# COMPONENTS_DIR=/dir runs the .wasm files of another build (before/after comparisons).
# Usage: scripts/bench-posts.sh [duration-seconds] [posts]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
N="${2:-1000000}"
source scripts/bench-lib.sh
PORT=3904
fresh_db xmp_bench_posts
STATE="$(mktemp -d)"
trap 'kill $XMP 2>/dev/null || true; rm -rf "$STATE"' EXIT

"$XMP_BIN" up --listen 127.0.0.1:$PORT --manifest "$(manifest_in "$STATE")" --state-dir "$STATE" \
  > "$STATE/xmp.log" 2>&1 &
XMP=$!
until curl -sf -o /dev/null "127.0.0.1:$PORT/api/version"; do sleep 0.05; done
wait_optimised "$STATE/xmp.log"
BASE="http://127.0.0.1:$PORT"
TOKEN=$(curl -s -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench passphrase 42","name":"Bench"}' \
  "$BASE/api/auth/register" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
[[ "$TOKEN" == ey* ]] || { echo "register failed: $TOKEN" >&2; exit 1; }

# One account with N posts spread over a year: a third published, a third scheduled, the rest
# drafts, failed or cancelled; every tenth one a thread of three.
START=$(date +%s)
psql "$URL" -q <<SQL
INSERT INTO x_accounts (id, workspace_id, x_user_id, username, auth_kind, credentials, key_id)
SELECT '00000000-0000-7000-8000-000000000001', id, '1700000000000000001', 'bench_brand', 'oauth1',
       'v1.0123abcd.' || repeat('x', 220), '0123abcd' FROM workspaces;
INSERT INTO posts (id, workspace_id, account_id, author_id, content, thread_id, thread_position,
  status, scheduled_at, x_post_id, published_at, normalized_text_hash, created_at)
SELECT id, ws, '00000000-0000-7000-8000-000000000001', u, content, id, 0, status,
  CASE WHEN status IN ('scheduled', 'published', 'failed') THEN at END,
  CASE WHEN status = 'published' THEN (1800000000000000000 + i)::text END,
  CASE WHEN status = 'published' THEN at END,
  md5(content) || md5(content), at - interval '1 day'
FROM (
  SELECT i, gen_random_uuid() AS id, w.id AS ws, w.created_by AS u,
         'Benchmark post number ' || i || ' with some words #bench https://example.com/' || i AS content,
         (ARRAY['published','scheduled','draft','failed','cancelled','published'])[1 + i % 6] AS status,
         now() - interval '180 days' + (i * (31536000.0 / $N)) * interval '1 second' AS at
  FROM workspaces w, generate_series(1, $N) i
) s;
INSERT INTO posts (id, workspace_id, account_id, author_id, content, thread_id, thread_position,
  status, scheduled_at, normalized_text_hash, created_at)
SELECT gen_random_uuid(), p.workspace_id, p.account_id, p.author_id, 'part ' || k, p.id, k,
  p.status, p.scheduled_at, p.normalized_text_hash, p.created_at
FROM (SELECT * FROM posts WHERE thread_position = 0 AND status NOT IN ('published') LIMIT $N / 10) p,
     generate_series(1, 2) k;
VACUUM ANALYZE posts;
CHECKPOINT;
SQL
echo "seeded $(psql "$URL" -tAc 'SELECT count(*) FROM posts') post rows in $(( $(date +%s) - START ))s"
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" \
  "$BASE/api/accounts/00000000-0000-7000-8000-000000000001/switch"

cat > "$STATE/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
create_lua "$STATE/create.lua"
CURSOR=""
for _ in $(seq 1 20); do
  CURSOR=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/tweets?limit=50${CURSOR:+&cursor=$CURSOR}" | jq -r .data.nextCursor)
done
echo "first page: $(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/tweets?limit=50" | wc -c) bytes"

echo "## HTTP (wrk, ${DUR}s each)"
echo "| route | conns | req/s | p50 | p99 |"
for c in 16 64; do
  run_wrk /api/version "$c" ""
  run_wrk /api/auth/profile "$c" "$STATE/auth.lua"
  run_wrk "/api/tweets?limit=50" "$c" "$STATE/auth.lua"
  run_wrk "/api/tweets?limit=50&status=scheduled" "$c" "$STATE/auth.lua"
  run_wrk "/api/tweets?limit=50&cursor=$CURSOR" "$c" "$STATE/auth.lua" "/api/tweets?limit=50&cursor=(page 21)"
  run_wrk /api/tweets "$c" "$STATE/create.lua" "POST /api/tweets (draft)"
done
echo "post rows after the run: $(psql "$URL" -tAc 'SELECT count(*) FROM posts')"
