#!/usr/bin/env bash
# Analytics figures for BENCHMARKS.md.
# 1. Reports: a workspace with 100 accounts, 60,000 posts and >= 1,000,000 post snapshots (at
#    the collector's cadence ages, with their rollups, latest values and account snapshots,
#    written by SQL); every analytics endpoint over a 90-day range at 16 connections (wrk),
#    with GET /api/version in the same run as the baseline.
# 2. Collection: ACCOUNTS accounts connected through the OAuth flow against xsim (unlimited
#    profile), POSTS posts each made on X; scheduler ticks (HTTP route) until nothing is due:
#    snapshots stored per second of tick time.
# Needs wrk, jq, PostgreSQL on 127.0.0.1:5432 and the release build (`make build`).
# Usage: nice -n 10 scripts/bench-analytics.sh [duration-seconds] [accounts] [posts]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-5}"
ACCOUNTS="${2:-20}"
POSTS="${3:-250}"
source scripts/bench-lib.sh
XSIM_BIN="${XSIM_BIN:-target/release/xsim}"
PORT=3905
XPORT=4905
SECRET="bench-scheduler-secret"
fresh_db xmp_bench_analytics
STATE="$(mktemp -d)"
XMP=""
XSIM=""
trap 'kill $XMP $XSIM 2>/dev/null || true; rm -rf "$STATE"' EXIT

"$XSIM_BIN" --listen 127.0.0.1:$XPORT --profile unlimited > "$STATE/xsim.log" 2>&1 &
XSIM=$!
XBASE="http://127.0.0.1:$XPORT"
until curl -sf -o /dev/null "$XBASE/__admin/health"; do sleep 0.05; done
export SPIN_VARIABLE_X_API_BASE_URL="$XBASE"
export SPIN_VARIABLE_X_CLIENT_ID=xsim-client
export SPIN_VARIABLE_X_CLIENT_SECRET=xsim-secret
export SPIN_VARIABLE_SCHEDULER_SECRET="$SECRET"
export SPIN_VARIABLE_ANALYTICS_MONTHLY_READ_BUDGET=0

"$XMP_BIN" up --listen 127.0.0.1:$PORT --state-dir "$STATE" > "$STATE/xmp.log" 2>&1 &
XMP=$!
BASE="http://127.0.0.1:$PORT"
until curl -sf -o /dev/null "$BASE/api/version"; do sleep 0.05; done
wait_optimised "$STATE/xmp.log"
bench_token

echo "generating 100 accounts, 60,000 posts and their snapshots..."
START=$(date +%s)
psql "$URL" -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO x_accounts (id, workspace_id, x_user_id, username, auth_kind, credentials, key_id,
  status, timezone, created_at)
SELECT gen_random_uuid(), w.id, (1700000000000000000 + i)::text, 'brand_' || i, 'oauth2',
  'v1.0123abcd.' || repeat('x', 220), '0123abcd', 'active', 'America/New_York',
  now() - interval '200 days'
FROM workspaces w, generate_series(1, 100) i;
INSERT INTO analytics_accounts (account_id, workspace_id, next_sync_at, last_synced_at)
SELECT id, workspace_id, now() + interval '6 hours', now() FROM x_accounts;
INSERT INTO analytics_posts (workspace_id, account_id, x_post_id, imported, content, published_at,
  next_capture_at)
SELECT a.workspace_id, a.id, (1900000000000000000 + row_number() OVER ())::text, n % 3 = 0,
  'Post ' || n || ' of ' || a.username,
  now() - n * interval '180 days' / 600 - (hashint4(n) % 180) * interval '1 minute',
  now() + interval '7 days'
FROM x_accounts a, generate_series(1, 600) n;
-- Snapshots at the collector's cadence ages; counters grow towards a per-post reach.
CREATE TEMP TABLE ages AS SELECT unnest(ARRAY[
  interval '15 minutes', '1 hour', '3 hours', '6 hours', '12 hours', '1 day', '2 days', '3 days',
  '4 days', '5 days', '6 days', '7 days', '14 days', '21 days', '28 days', '29 days 12 hours',
  '35 days', '42 days', '49 days', '56 days', '63 days', '70 days']) AS age;
INSERT INTO post_snapshots (post, slot_at, captured_at, impressions, likes, reposts, quotes,
  replies, bookmarks, url_clicks, profile_clicks)
SELECT p.id, p.published_at + g.age, p.published_at + g.age + interval '20 seconds',
  i, i / 40, i / 200, i / 900, i / 300, i / 250,
  CASE WHEN g.age < interval '30 days' THEN i / 100 END,
  CASE WHEN g.age < interval '30 days' THEN i / 150 END
FROM analytics_posts p CROSS JOIN ages g
CROSS JOIN LATERAL (SELECT ((200 + (p.id * 7919) % 5000)
   * (1 - exp(-extract(epoch FROM g.age) / 43200.0)))::int8 AS i) c
WHERE p.published_at + g.age < now();
INSERT INTO post_latest (post, workspace_id, account_id, published_at, captured_at, impressions,
  likes, reposts, quotes, replies, bookmarks, url_clicks, profile_clicks, engagements,
  engagement_rate)
SELECT p.id, p.workspace_id, p.account_id, p.published_at, s.captured_at, s.impressions, s.likes,
  s.reposts, s.quotes, s.replies, s.bookmarks, k.url, k.profile,
  s.likes + s.reposts + s.quotes + s.replies + s.bookmarks + coalesce(k.url, 0)
    + coalesce(k.profile, 0),
  (s.likes + s.reposts + s.quotes + s.replies + s.bookmarks + coalesce(k.url, 0)
    + coalesce(k.profile, 0))::float8 / nullif(s.impressions, 0)
FROM analytics_posts p
JOIN LATERAL (SELECT * FROM post_snapshots x WHERE x.post = p.id
              ORDER BY x.slot_at DESC LIMIT 1) s ON true
JOIN LATERAL (SELECT max(url_clicks) AS url, max(profile_clicks) AS profile
              FROM post_snapshots x WHERE x.post = p.id) k ON true
ON CONFLICT (post) DO UPDATE SET captured_at = excluded.captured_at,
  impressions = excluded.impressions, likes = excluded.likes, reposts = excluded.reposts,
  quotes = excluded.quotes, replies = excluded.replies, bookmarks = excluded.bookmarks,
  url_clicks = excluded.url_clicks, profile_clicks = excluded.profile_clicks,
  engagements = excluded.engagements, engagement_rate = excluded.engagement_rate;
INSERT INTO account_hourly (account_id, hour, workspace_id, impressions, likes, reposts, quotes,
  replies, bookmarks, url_clicks, profile_clicks, engagements)
SELECT account_id, hour, workspace_id, sum(di), sum(dl), sum(dr), sum(dq), sum(dre), sum(db),
  sum(du), sum(dp), sum(dl + dr + dq + dre + db + du + dp)
FROM (SELECT p.account_id, p.workspace_id,
        date_trunc('hour', CASE WHEN lag(s.slot_at) OVER w IS NULL THEN p.published_at
                                ELSE s.captured_at END, 'UTC') AS hour,
        s.impressions - coalesce(lag(s.impressions) OVER w, 0) AS di,
        s.likes - coalesce(lag(s.likes) OVER w, 0) AS dl,
        s.reposts - coalesce(lag(s.reposts) OVER w, 0) AS dr,
        s.quotes - coalesce(lag(s.quotes) OVER w, 0) AS dq,
        s.replies - coalesce(lag(s.replies) OVER w, 0) AS dre,
        s.bookmarks - coalesce(lag(s.bookmarks) OVER w, 0) AS db,
        coalesce(s.url_clicks - coalesce(lag(s.url_clicks) OVER w, 0), 0) AS du,
        coalesce(s.profile_clicks - coalesce(lag(s.profile_clicks) OVER w, 0), 0) AS dp
      FROM post_snapshots s JOIN analytics_posts p ON p.id = s.post
      WINDOW w AS (PARTITION BY s.post ORDER BY s.slot_at)) d
GROUP BY account_id, hour, workspace_id
ON CONFLICT (account_id, hour) DO UPDATE SET impressions = excluded.impressions,
  likes = excluded.likes, reposts = excluded.reposts, quotes = excluded.quotes,
  replies = excluded.replies, bookmarks = excluded.bookmarks, url_clicks = excluded.url_clicks,
  profile_clicks = excluded.profile_clicks, engagements = excluded.engagements;
INSERT INTO workspace_hourly (workspace_id, hour, impressions, likes, reposts, quotes, replies,
  bookmarks, url_clicks, profile_clicks, engagements)
SELECT workspace_id, hour, sum(impressions), sum(likes), sum(reposts), sum(quotes), sum(replies),
  sum(bookmarks), sum(url_clicks), sum(profile_clicks), sum(engagements)
FROM account_hourly GROUP BY workspace_id, hour
ON CONFLICT (workspace_id, hour) DO UPDATE SET impressions = excluded.impressions,
  likes = excluded.likes, reposts = excluded.reposts, quotes = excluded.quotes,
  replies = excluded.replies, bookmarks = excluded.bookmarks, url_clicks = excluded.url_clicks,
  profile_clicks = excluded.profile_clicks, engagements = excluded.engagements;
UPDATE analytics_posts p SET fixed_age_rate = (
  SELECT (s.likes + s.reposts + s.quotes + s.replies + s.bookmarks + coalesce(s.url_clicks, 0)
          + coalesce(s.profile_clicks, 0))::float8 / nullif(s.impressions, 0)
  FROM post_snapshots s WHERE s.post = p.id AND s.captured_at >= p.published_at + interval '1 day'
  ORDER BY s.slot_at LIMIT 1);
INSERT INTO account_snapshots (account_id, slot_at, workspace_id, captured_at, followers,
  following, posts, listed)
SELECT a.id, t, a.workspace_id, t + interval '5 seconds',
  1000 + (hashtext(a.id::text) & 4095) + (extract(epoch FROM t - (now() - interval '200 days'))
    / 86400)::int8 * 7, 300, 600, 20
FROM x_accounts a,
  generate_series(now() - interval '180 days', now(), interval '6 hours') t;
INSERT INTO analytics_reads (workspace_id, day, calls, objects)
SELECT w.id, d::date, 3000, 250000 FROM workspaces w,
  generate_series(date_trunc('month', now()), now(), interval '1 day') d;
VACUUM ANALYZE;
SQL
echo "generated in $(( $(date +%s) - START )) s: $(psql "$URL" -tAc "SELECT count(*) FROM post_snapshots") post snapshots, $(psql "$URL" -tAc "SELECT count(*) FROM analytics_posts") posts, $(psql "$URL" -tAc "SELECT count(*) FROM account_hourly") hourly rollups, $(psql "$URL" -tAc "SELECT count(*) FROM account_snapshots") account snapshots"

ACC=$(psql "$URL" -tAc "SELECT id FROM x_accounts ORDER BY username LIMIT 1")
POST=$(psql "$URL" -tAc "SELECT x_post_id FROM analytics_posts WHERE published_at < now() - interval '60 days' LIMIT 1")
FROM=$(date -u -d '90 days ago' +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
R="from=$FROM&to=$TO"
cat > "$STATE/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
for p in "/api/analytics/overview?$R" "/api/analytics/tweets?$R&sort=impressions"; do
  code=$(curl -s -o "$STATE/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$p")
  echo "$code $(head -c 300 "$STATE/body")"
done
# A report's first request computes and stores its answer; each run below measures the
# stored answer (the report cache), so the route is requested once before its run.
run_hit() {
  curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE$1"
  run_wrk "$@"
}
echo "## HTTP, 90-day range, 100 accounts (wrk, ${DUR}s each, 16 connections), stored answers"
echo "| route | conns | req/s | p50 | p99 |"
run_wrk /api/version 16 "" "/api/version (baseline)"
run_hit "/api/analytics/overview?$R" 16 "$STATE/auth.lua" "overview (all accounts)"
run_hit "/api/analytics/overview?$R&accountId=$ACC" 16 "$STATE/auth.lua" "overview (one account)"
run_hit "/api/analytics/tweets?$R&sort=impressions" 16 "$STATE/auth.lua" "tweets sort=impressions (50)"
run_hit "/api/analytics/tweets?$R&sort=engagementRate&accountId=$ACC" 16 "$STATE/auth.lua" "tweets sort=engagementRate, one account"
run_hit "/api/analytics/tweets?$R" 16 "$STATE/auth.lua" "tweets sort=date (50)"
run_hit "/api/analytics/tweets/$POST/series" 16 "$STATE/auth.lua" "tweets/{id}/series"
run_hit "/api/analytics/engagement?$R&bucket=day" 16 "$STATE/auth.lua" "engagement bucket=day"
run_hit "/api/analytics/engagement?$R&bucket=hour&tz=America/New_York" 16 "$STATE/auth.lua" "engagement bucket=hour, tz given"
run_hit "/api/analytics/engagement?$R&bucket=week&accountId=$ACC" 16 "$STATE/auth.lua" "engagement bucket=week, one account"
run_hit "/api/analytics/audience?$R" 16 "$STATE/auth.lua" "audience"
run_hit "/api/analytics/best-times?$R" 16 "$STATE/auth.lua" "best-times (all accounts)"
run_hit "/api/analytics/best-times?$R&accountId=$ACC" 16 "$STATE/auth.lua" "best-times (one account)"
run_hit "/api/analytics/usage" 16 "$STATE/auth.lua" "usage"
run_wrk /api/version 16 "" "/api/version (baseline, again)"

# The same reports when nothing is stored yet (the report cache misses on every request):
# each request's `to` is a second earlier than the last one's (a new key, the same 90 days),
# and each series request is another post's.
TO_EPOCH=$(date -u -d "$TO" +%s)
cat > "$STATE/miss.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) n = id * 100000 end
request = function()
  n = n + 1
  local p = wrk.path
  if p:find("/series") then
    p = p:gsub("POST", "19000000000000" .. string.format("%05d", n % 60000 + 1))
  else
    p = p .. "&to=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", $TO_EPOCH - n)
  end
  return wrk.format(nil, p)
end
LUA
RM="from=$FROM"
echo "## The same, every request a cache miss"
echo "| route | conns | req/s | p50 | p99 |"
run_wrk /api/version 16 "" "/api/version (baseline)"
run_wrk "/api/analytics/overview?$RM" 16 "$STATE/miss.lua" "overview (all accounts), miss"
run_wrk "/api/analytics/overview?$RM&accountId=$ACC" 16 "$STATE/miss.lua" "overview (one account), miss"
run_wrk "/api/analytics/tweets?$RM&sort=impressions" 16 "$STATE/miss.lua" "tweets sort=impressions (50), miss"
run_wrk "/api/analytics/tweets?$RM&sort=engagementRate&accountId=$ACC" 16 "$STATE/miss.lua" "tweets sort=engagementRate, one account, miss"
run_wrk "/api/analytics/tweets?$RM" 16 "$STATE/miss.lua" "tweets sort=date (50), miss"
run_wrk "/api/analytics/tweets/POST/series" 16 "$STATE/miss.lua" "tweets/{id}/series, miss"
run_wrk "/api/analytics/engagement?$RM&bucket=day" 16 "$STATE/miss.lua" "engagement bucket=day, miss"
run_wrk "/api/analytics/engagement?$RM&bucket=hour&tz=America/New_York" 16 "$STATE/miss.lua" "engagement bucket=hour, tz given, miss"
run_wrk "/api/analytics/engagement?$RM&bucket=week&accountId=$ACC" 16 "$STATE/miss.lua" "engagement bucket=week, one account, miss"
run_wrk "/api/analytics/audience?$RM" 16 "$STATE/miss.lua" "audience, miss"
run_wrk "/api/analytics/best-times?$RM" 16 "$STATE/miss.lua" "best-times (all accounts), miss"
run_wrk "/api/analytics/best-times?$RM&accountId=$ACC" 16 "$STATE/miss.lua" "best-times (one account), miss"
run_wrk /api/version 16 "" "/api/version (baseline, again)"
echo "cached answers stored: $(psql "$URL" -tAc "SELECT count(*) FROM analytics_report_cache")"

echo "## Collection: $ACCOUNTS accounts x $POSTS posts made on X"
psql "$URL" -qc "UPDATE x_accounts SET status = 'paused'"
for i in $(seq 1 "$ACCOUNTS"); do
  uid=$((1800000000000000000 + i))
  curl -sf -o /dev/null -H 'content-type: application/json' \
    -d "{\"username\":\"live_$i\",\"id\":\"$uid\"}" "$XBASE/__admin/users"
  curl -sf -o /dev/null -H 'content-type: application/json' \
    -d "{\"count\":$POSTS}" "$XBASE/__admin/users/$uid/posts"
  authorize=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts/connect" | jq -r .data.authorizeUrl)
  callback=$(curl -s -o /dev/null -w '%{redirect_url}' "$authorize&user_id=$uid")
  curl -sf -o /dev/null "$callback"
done
echo "| tick | elapsed ms | snapshots | account snapshots | imported | X reads | snapshots/s |"
TOTAL_MS=0
TOTAL_SNAP=0
for n in $(seq 1 20); do
  rep=$(curl -s -X POST -H "Authorization: Bearer $SECRET" "$BASE/internal/scheduler/tick" | jq -c .data)
  ms=$(echo "$rep" | jq .elapsedMs)
  snap=$(echo "$rep" | jq .analytics.snapshots)
  printf '| %d | %s | %s | %s | %s | %s | %s |\n' "$n" "$ms" "$snap" \
    "$(echo "$rep" | jq .analytics.accountSnapshots)" "$(echo "$rep" | jq .analytics.imported)" \
    "$(echo "$rep" | jq .analytics.reads)" "$(awk "BEGIN { if ($ms > 0) printf \"%.0f\", $snap * 1000 / $ms }")"
  TOTAL_MS=$((TOTAL_MS + ms))
  TOTAL_SNAP=$((TOTAL_SNAP + snap))
  [ "$snap" = 0 ] && [ "$n" -gt 1 ] && break
done
echo "collection: $TOTAL_SNAP snapshots in $TOTAL_MS ms of tick time: $(awk "BEGIN { printf \"%.0f\", $TOTAL_SNAP * 1000 / $TOTAL_MS }") snapshots/s"
