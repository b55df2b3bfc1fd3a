//! The collector's SQL: registering posts, claiming due captures, and storing a batch of
//! captures in ONE statement (snapshots, signed deltas into the hourly rollups, latest values,
//! the next capture), so that a capture is counted once or not at all.
//!
//! Instants travel as Unix milliseconds (`int8`) and are converted by PostgreSQL.

use crate::cadence;
use crate::xread::Counters;
use common::db::{Db, Param};
use common::error::AppError;
use serde_json::{json, Value};
use uuid::Uuid;

/// `$n` (Unix ms) as a `timestamptz`.
fn ts(n: usize) -> String {
    format!("(timestamptz 'epoch' + ${n}::int8 * interval '1 millisecond')")
}

/// Milliseconds since the epoch of a `timestamptz` expression.
pub fn ms_of(expr: &str) -> String {
    format!("(extract(epoch FROM {expr}) * 1000)::int8")
}

fn uuid(s: String) -> Result<Uuid, AppError> {
    Uuid::parse_str(&s).map_err(AppError::internal)
}

/// Registers the platform's posts published since `since_ms` (idempotent).
pub fn register_published(db: &Db, since_ms: i64) -> Result<u64, AppError> {
    db.execute(
        &format!(
            "INSERT INTO analytics_posts (workspace_id, account_id, x_post_id, post_id, imported,
               content, published_at, next_capture_at)
             SELECT p.workspace_id, p.account_id, p.x_post_id, p.id, false, left(p.content, 280),
                    p.published_at, p.published_at + interval '15 minutes'
             FROM posts p
             WHERE p.status = 'published' AND p.published_at >= {}
               AND p.account_id IS NOT NULL AND p.x_post_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM analytics_posts a
                               WHERE a.account_id = p.account_id AND a.x_post_id = p.x_post_id)
             ON CONFLICT (account_id, x_post_id) DO NOTHING",
            ts(1)
        ),
        &[Param::Int64(since_ms)],
    )
}

/// Gives every active account a collection row (new accounts are due at once).
pub fn ensure_accounts(db: &Db) -> Result<u64, AppError> {
    db.execute(
        "INSERT INTO analytics_accounts (account_id, workspace_id)
         SELECT a.id, a.workspace_id FROM x_accounts a
         WHERE a.status = 'active'
           AND NOT EXISTS (SELECT 1 FROM analytics_accounts s WHERE s.account_id = a.id)
         ON CONFLICT (account_id) DO NOTHING",
        &[],
    )
}

/// An account whose profile snapshot and timeline import are due, claimed by this tick.
#[derive(Debug, Clone)]
pub struct DueAccount {
    pub account_id: Uuid,
    pub workspace_id: Uuid,
    pub x_user_id: String,
    pub slot_ms: i64,
    pub import_since_id: Option<String>,
    pub import_token: Option<String>,
    pub import_newest_id: Option<String>,
}

/// Claims up to `limit` due accounts until `lease_until_ms`.
pub fn claim_accounts(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<DueAccount>, AppError> {
    let rows = db.query(
        &format!(
            "WITH picked AS (
               SELECT s.account_id, s.next_sync_at AS slot FROM analytics_accounts s
               JOIN x_accounts a ON a.id = s.account_id AND a.status = 'active'
               WHERE s.next_sync_at <= {now}
               ORDER BY s.next_sync_at LIMIT $3
               FOR UPDATE OF s SKIP LOCKED
             )
             UPDATE analytics_accounts s SET next_sync_at = {until},
               claim_slot = date_trunc('milliseconds', greatest(picked.slot, {now} - interval '100 years'))
             FROM picked, x_accounts a
             WHERE s.account_id = picked.account_id AND a.id = s.account_id
             RETURNING s.account_id::text AS id, s.workspace_id::text AS ws, a.x_user_id,
               {slot} AS slot, s.import_since_id, s.import_token, s.import_newest_id",
            now = ts(1),
            until = ts(2),
            slot = ms_of("s.claim_slot"),
        ),
        &[
            Param::Int64(now_ms),
            Param::Int64(lease_until_ms),
            Param::Int64(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(DueAccount {
                account_id: uuid(r.get("id")?)?,
                workspace_id: uuid(r.get("ws")?)?,
                x_user_id: r.get("x_user_id")?,
                slot_ms: r.get("slot")?,
                import_since_id: r.get("import_since_id")?,
                import_token: r.get("import_token")?,
                import_newest_id: r.get("import_newest_id")?,
            })
        })
        .collect()
}

/// An account's counters (followers, following, posts, listed), NULL where X gave none.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountCounters {
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub posts: Option<u64>,
    pub listed: Option<u64>,
}

fn opt(v: Option<u64>) -> Param {
    match v {
        Some(n) => Param::Int64(n.min(i64::MAX as u64) as i64),
        None => Param::DbNull,
    }
}

/// Stores the claimed account snapshot (once per slot) and schedules the next one.
pub fn store_account(
    db: &Db,
    due: &DueAccount,
    captured_ms: i64,
    c: &AccountCounters,
    next_ms: i64,
) -> Result<bool, AppError> {
    let rows = db.query(
        &format!(
            "WITH mine AS (
               SELECT account_id, workspace_id FROM analytics_accounts
               WHERE account_id = $1::uuid AND claim_slot = {slot}
               FOR UPDATE
             ), ins AS (
               INSERT INTO account_snapshots (account_id, slot_at, workspace_id, captured_at,
                 followers, following, posts, listed)
               SELECT account_id, {slot}, workspace_id, {captured}, $4, $5, $6, $7 FROM mine
               ON CONFLICT (account_id, slot_at) DO NOTHING
               RETURNING 1
             ), gap AS (
               INSERT INTO analytics_gaps (account_id, workspace_id, gap_from, gap_to)
               SELECT s.account_id, s.workspace_id, s.last_synced_at, {captured}
               FROM analytics_accounts s JOIN mine ON mine.account_id = s.account_id
               WHERE s.last_synced_at < {captured} - interval '26 hours'
                 AND EXISTS (SELECT 1 FROM ins)
               ON CONFLICT DO NOTHING
             ), upd AS (
               UPDATE analytics_accounts s SET claim_slot = NULL, next_sync_at = {next},
                 last_synced_at = {captured}
               FROM mine WHERE s.account_id = mine.account_id
               RETURNING 1
             )
             SELECT (SELECT count(*) FROM ins)::int8 AS stored",
            slot = ts(2),
            captured = ts(3),
            next = ts(8),
        ),
        &[
            Param::Uuid(due.account_id.to_string()),
            Param::Int64(due.slot_ms),
            Param::Int64(captured_ms),
            opt(c.followers),
            opt(c.following),
            opt(c.posts),
            opt(c.listed),
            Param::Int64(next_ms),
        ],
    )?;
    Ok(rows
        .first()
        .map(|r| r.get::<i64>("stored"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// Puts a claimed account back to be due at `until_ms` (X said wait, or failed).
pub fn release_account(db: &Db, due: &DueAccount, until_ms: i64) -> Result<(), AppError> {
    db.execute(
        &format!(
            "UPDATE analytics_accounts SET claim_slot = NULL, next_sync_at = {}
             WHERE account_id = $1::uuid AND claim_slot = {}",
            ts(3),
            ts(2)
        ),
        &[
            Param::Uuid(due.account_id.to_string()),
            Param::Int64(due.slot_ms),
            Param::Int64(until_ms),
        ],
    )?;
    Ok(())
}

/// One post of the account's timeline.
pub struct TimelinePost {
    pub x_post_id: String,
    pub text: String,
    pub created_ms: i64,
}

/// Stores one timeline page: posts the platform did not publish are registered as imported;
/// the platform's own are registered linked to their post. Then the import's progress.
pub fn import_page(
    db: &Db,
    due: &DueAccount,
    posts: &[TimelinePost],
    next_token: Option<&str>,
    newest_id: Option<&str>,
) -> Result<u64, AppError> {
    let items: Vec<Value> = posts
        .iter()
        .map(|p| {
            json!({
                "id": p.x_post_id,
                "text": p.text.chars().take(280).collect::<String>(),
                "created_ms": p.created_ms,
            })
        })
        .collect();
    db.transaction(|db| {
        let n = db.execute(
            "INSERT INTO analytics_posts (workspace_id, account_id, x_post_id, post_id, imported,
               content, published_at, next_capture_at)
             SELECT $1::uuid, $2::uuid, i.id, p.id, p.id IS NULL, i.text,
               timestamptz 'epoch' + i.created_ms * interval '1 millisecond',
               timestamptz 'epoch' + i.created_ms * interval '1 millisecond'
                 + interval '15 minutes'
             FROM jsonb_to_recordset($3::text::jsonb) AS i(id text, text text, created_ms int8)
             LEFT JOIN posts p ON p.x_post_id = i.id AND p.account_id = $2::uuid
             WHERE i.id ~ '^[0-9]{1,19}$'
             ON CONFLICT (account_id, x_post_id) DO NOTHING",
            &[
                Param::Uuid(due.workspace_id.to_string()),
                Param::Uuid(due.account_id.to_string()),
                Param::Str(Value::Array(items.clone()).to_string()),
            ],
        )?;
        // The newest id of the whole import is the first page's newest.
        let newest = due
            .import_newest_id
            .as_deref()
            .or(newest_id)
            .map(str::to_string);
        let (since, token, pending) = match next_token {
            Some(t) => (
                due.import_since_id.clone(),
                Some(t.to_string()),
                newest.clone(),
            ),
            None => (newest.or(due.import_since_id.clone()), None, None),
        };
        let p = |v: Option<String>| v.map(Param::Str).unwrap_or(Param::DbNull);
        db.execute(
            "UPDATE analytics_accounts SET import_since_id = $2, import_token = $3,
               import_newest_id = $4 WHERE account_id = $1::uuid",
            &[
                Param::Uuid(due.account_id.to_string()),
                p(since),
                p(token),
                p(pending),
            ],
        )?;
        Ok(n)
    })
}

/// A post whose capture is due, claimed by this tick.
#[derive(Debug, Clone)]
pub struct DuePost {
    pub id: i64,
    pub account_id: Uuid,
    pub workspace_id: Uuid,
    pub x_post_id: String,
    pub published_ms: i64,
    pub slot_ms: i64,
}

/// Claims due captures: up to `per_account` per account (one lookup each), `limit` in all,
/// the most overdue first.
pub fn claim_posts(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    per_account: i64,
    limit: i64,
) -> Result<Vec<DuePost>, AppError> {
    let rows = db.query(
        &format!(
            "WITH due AS (
               SELECT id, next_capture_at,
                 row_number() OVER (PARTITION BY account_id ORDER BY next_capture_at, id) AS turn
               FROM (SELECT id, account_id, next_capture_at FROM analytics_posts
                     WHERE next_capture_at <= {now}
                     ORDER BY next_capture_at LIMIT $4::int8 * 4) c
             ), picked AS (
               SELECT ap.id, due.next_capture_at AS slot FROM analytics_posts ap
               JOIN due ON due.id = ap.id
               WHERE due.turn <= $3::int8 AND ap.next_capture_at = due.next_capture_at
               ORDER BY due.next_capture_at LIMIT $4::int8
               FOR UPDATE OF ap SKIP LOCKED
             )
             UPDATE analytics_posts ap SET next_capture_at = {until},
               claim_slot = date_trunc('milliseconds', picked.slot)
             FROM picked WHERE ap.id = picked.id
             RETURNING ap.id, ap.account_id::text AS account, ap.workspace_id::text AS ws,
               ap.x_post_id, {published} AS published, {slot} AS slot",
            now = ts(1),
            until = ts(2),
            published = ms_of("ap.published_at"),
            slot = ms_of("ap.claim_slot"),
        ),
        &[
            Param::Int64(now_ms),
            Param::Int64(lease_until_ms),
            Param::Int64(per_account),
            Param::Int64(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(DuePost {
                id: r.get("id")?,
                account_id: uuid(r.get("account")?)?,
                workspace_id: uuid(r.get("ws")?)?,
                x_post_id: r.get("x_post_id")?,
                published_ms: r.get("published")?,
                slot_ms: r.get("slot")?,
            })
        })
        .collect()
}

/// What a lookup said about one claimed post.
pub enum Captured {
    Metrics(Counters),
    /// X says the post no longer exists: no more captures.
    Gone,
}

fn num(v: Option<u64>) -> Value {
    v.map_or(Value::Null, |n| json!(n.min(i64::MAX as u64)))
}

/// Stores a batch of captures taken at `captured_ms` in one statement; answers how many
/// snapshots were new. A post whose claim another tick has taken over is left alone.
pub fn store_captures(
    db: &Db,
    captured_ms: i64,
    thinning: f64,
    batch: &[(DuePost, Captured)],
) -> Result<i64, AppError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let items: Vec<Value> = batch
        .iter()
        .map(|(p, c)| {
            let next = cadence::next_capture(p.published_ms, captured_ms, thinning);
            match c {
                Captured::Gone => json!({"post": p.id, "slot_ms": p.slot_ms, "next_ms": next,
                                          "gone": true}),
                Captured::Metrics(m) => json!({
                    "post": p.id, "slot_ms": p.slot_ms, "next_ms": next, "gone": false,
                    "impressions": num(m.impressions), "likes": num(m.likes),
                    "reposts": num(m.reposts), "quotes": num(m.quotes),
                    "replies": num(m.replies), "bookmarks": num(m.bookmarks),
                    "url_clicks": num(m.url_clicks), "profile_clicks": num(m.profile_clicks),
                    "x_engagements": num(m.x_engagements),
                }),
            }
        })
        .collect();
    let rows = db.query(
        &format!("{STORE_CAPTURES} SELECT (SELECT count(*) FROM ins)::int8 AS stored"),
        &[
            Param::Str(Value::Array(items).to_string()),
            Param::Int64(captured_ms),
        ],
    )?;
    Ok(rows
        .first()
        .map(|r| r.get::<i64>("stored"))
        .transpose()?
        .unwrap_or(0))
}

/// `$1` the captures (JSON), `$2` the capture instant (Unix ms).
const STORE_CAPTURES: &str = "
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS i(post int8, slot_ms int8, next_ms int8,
    gone bool, impressions int8, likes int8, reposts int8, quotes int8, replies int8,
    bookmarks int8, url_clicks int8, profile_clicks int8, x_engagements int8)
), at AS (
  SELECT timestamptz 'epoch' + $2::int8 * interval '1 millisecond' AS captured
), mine AS (
  SELECT ap.id, ap.workspace_id, ap.account_id, ap.published_at, ap.claim_slot AS slot, i.*
  FROM analytics_posts ap JOIN input i ON i.post = ap.id
  WHERE ap.claim_slot = timestamptz 'epoch' + i.slot_ms * interval '1 millisecond'
  FOR UPDATE OF ap
), ins AS (
  INSERT INTO post_snapshots (post, slot_at, captured_at, impressions, likes, reposts, quotes,
    replies, bookmarks, url_clicks, profile_clicks, x_engagements)
  SELECT m.id, m.slot, at.captured, m.impressions, m.likes, m.reposts, m.quotes, m.replies,
    m.bookmarks, m.url_clicks, m.profile_clicks, m.x_engagements
  FROM mine m, at WHERE NOT m.gone
  ON CONFLICT (post, slot_at) DO NOTHING
  RETURNING post
), d AS (
  SELECT m.id, m.workspace_id, m.account_id, m.published_at, l.captured_at IS NULL AS first,
    coalesce(m.impressions, l.impressions) AS impressions,
    coalesce(m.likes, l.likes) AS likes,
    coalesce(m.reposts, l.reposts) AS reposts,
    coalesce(m.quotes, l.quotes) AS quotes,
    coalesce(m.replies, l.replies) AS replies,
    coalesce(m.bookmarks, l.bookmarks) AS bookmarks,
    coalesce(m.url_clicks, l.url_clicks) AS url_clicks,
    coalesce(m.profile_clicks, l.profile_clicks) AS profile_clicks,
    coalesce(m.x_engagements, l.x_engagements) AS x_engagements,
    coalesce(m.impressions - coalesce(l.impressions, 0), 0) AS d_impressions,
    coalesce(m.likes - coalesce(l.likes, 0), 0) AS d_likes,
    coalesce(m.reposts - coalesce(l.reposts, 0), 0) AS d_reposts,
    coalesce(m.quotes - coalesce(l.quotes, 0), 0) AS d_quotes,
    coalesce(m.replies - coalesce(l.replies, 0), 0) AS d_replies,
    coalesce(m.bookmarks - coalesce(l.bookmarks, 0), 0) AS d_bookmarks,
    coalesce(m.url_clicks - coalesce(l.url_clicks, 0), 0) AS d_url_clicks,
    coalesce(m.profile_clicks - coalesce(l.profile_clicks, 0), 0) AS d_profile_clicks
  FROM mine m JOIN ins ON ins.post = m.id LEFT JOIN post_latest l ON l.post = m.id
), e AS (
  SELECT d.*,
    coalesce(likes, 0) + coalesce(reposts, 0) + coalesce(quotes, 0) + coalesce(replies, 0)
      + coalesce(bookmarks, 0) + coalesce(url_clicks, 0) + coalesce(profile_clicks, 0)
      AS engagements,
    d_likes + d_reposts + d_quotes + d_replies + d_bookmarks + d_url_clicks + d_profile_clicks
      AS d_engagements,
    date_trunc('hour', CASE WHEN first THEN published_at ELSE (SELECT captured FROM at) END,
               'UTC') AS hour
  FROM d
), latest AS (
  INSERT INTO post_latest (post, workspace_id, account_id, published_at, captured_at,
    impressions, likes, reposts, quotes, replies, bookmarks, url_clicks, profile_clicks,
    x_engagements, engagements, engagement_rate)
  SELECT id, workspace_id, account_id, published_at, (SELECT captured FROM at), impressions,
    likes, reposts, quotes, replies, bookmarks, url_clicks, profile_clicks, x_engagements,
    engagements, CASE WHEN impressions > 0 THEN engagements::float8 / impressions END
  FROM e
  ON CONFLICT (post) DO UPDATE SET captured_at = excluded.captured_at,
    impressions = excluded.impressions, likes = excluded.likes, reposts = excluded.reposts,
    quotes = excluded.quotes, replies = excluded.replies, bookmarks = excluded.bookmarks,
    url_clicks = excluded.url_clicks, profile_clicks = excluded.profile_clicks,
    x_engagements = excluded.x_engagements, engagements = excluded.engagements,
    engagement_rate = excluded.engagement_rate
), roll AS (
  INSERT INTO account_hourly AS h (account_id, hour, workspace_id, impressions, likes, reposts,
    quotes, replies, bookmarks, url_clicks, profile_clicks, engagements)
  SELECT account_id, hour, workspace_id, sum(d_impressions), sum(d_likes), sum(d_reposts),
    sum(d_quotes), sum(d_replies), sum(d_bookmarks), sum(d_url_clicks), sum(d_profile_clicks),
    sum(d_engagements)
  FROM e GROUP BY account_id, hour, workspace_id ORDER BY account_id, hour
  ON CONFLICT (account_id, hour) DO UPDATE SET impressions = h.impressions + excluded.impressions,
    likes = h.likes + excluded.likes, reposts = h.reposts + excluded.reposts,
    quotes = h.quotes + excluded.quotes, replies = h.replies + excluded.replies,
    bookmarks = h.bookmarks + excluded.bookmarks, url_clicks = h.url_clicks + excluded.url_clicks,
    profile_clicks = h.profile_clicks + excluded.profile_clicks,
    engagements = h.engagements + excluded.engagements
), wroll AS (
  INSERT INTO workspace_hourly AS h (workspace_id, hour, impressions, likes, reposts, quotes,
    replies, bookmarks, url_clicks, profile_clicks, engagements)
  SELECT workspace_id, hour, sum(d_impressions), sum(d_likes), sum(d_reposts), sum(d_quotes),
    sum(d_replies), sum(d_bookmarks), sum(d_url_clicks), sum(d_profile_clicks), sum(d_engagements)
  FROM e GROUP BY workspace_id, hour ORDER BY workspace_id, hour
  ON CONFLICT (workspace_id, hour) DO UPDATE SET impressions = h.impressions + excluded.impressions,
    likes = h.likes + excluded.likes, reposts = h.reposts + excluded.reposts,
    quotes = h.quotes + excluded.quotes, replies = h.replies + excluded.replies,
    bookmarks = h.bookmarks + excluded.bookmarks, url_clicks = h.url_clicks + excluded.url_clicks,
    profile_clicks = h.profile_clicks + excluded.profile_clicks,
    engagements = h.engagements + excluded.engagements
), sched AS (
  UPDATE analytics_posts ap SET claim_slot = NULL,
    next_capture_at = CASE WHEN m.gone THEN NULL
                      ELSE timestamptz 'epoch' + m.next_ms * interval '1 millisecond' END,
    last_captured_at = CASE WHEN m.gone THEN ap.last_captured_at
                       ELSE (SELECT captured FROM at) END,
    deleted_on_x_at = CASE WHEN m.gone THEN (SELECT captured FROM at) END,
    fixed_age_rate = CASE
      WHEN ap.fixed_age_rate IS NULL AND e.id IS NOT NULL
           AND (SELECT captured FROM at) >= ap.published_at + interval '24 hours'
      THEN e.engagements::float8 / nullif(e.impressions, 0)
      ELSE ap.fixed_age_rate END
  FROM mine m LEFT JOIN e ON e.id = m.id WHERE ap.id = m.id
), synced AS (
  UPDATE analytics_accounts s SET last_captured_at = (SELECT captured FROM at)
  WHERE s.account_id IN (SELECT account_id FROM mine WHERE NOT gone)
)";

/// Puts claimed captures back, due at `until_ms` (X said wait, or failed).
pub fn release_posts(db: &Db, posts: &[DuePost], until_ms: i64) -> Result<(), AppError> {
    if posts.is_empty() {
        return Ok(());
    }
    let items: Vec<Value> = posts
        .iter()
        .map(|p| json!({"post": p.id, "slot_ms": p.slot_ms}))
        .collect();
    db.execute(
        &format!(
            "UPDATE analytics_posts ap SET claim_slot = NULL, next_capture_at = {}
             FROM jsonb_to_recordset($1::text::jsonb) AS i(post int8, slot_ms int8)
             WHERE ap.id = i.post
               AND ap.claim_slot = timestamptz 'epoch' + i.slot_ms * interval '1 millisecond'",
            ts(2)
        ),
        &[
            Param::Str(Value::Array(items).to_string()),
            Param::Int64(until_ms),
        ],
    )?;
    Ok(())
}

/// Counts collection reads (calls to X and the objects they returned) for a workspace's UTC day.
pub fn count_reads(
    db: &Db,
    workspace: Uuid,
    now_ms: i64,
    calls: i64,
    objects: i64,
) -> Result<(), AppError> {
    db.execute(
        &format!(
            "INSERT INTO analytics_reads AS r (workspace_id, day, calls, objects)
             VALUES ($1::uuid, ({} AT TIME ZONE 'UTC')::date, $3, $4)
             ON CONFLICT (workspace_id, day) DO UPDATE
               SET calls = r.calls + excluded.calls, objects = r.objects + excluded.objects",
            ts(2)
        ),
        &[
            Param::Uuid(workspace.to_string()),
            Param::Int64(now_ms),
            Param::Int64(calls),
            Param::Int64(objects),
        ],
    )?;
    Ok(())
}

/// Reads of every workspace in the UTC month of `now_ms`, and how much of that month has
/// passed (0..1).
pub fn month_reads(db: &Db, now_ms: i64) -> Result<(i64, f64), AppError> {
    let rows = db.query(
        &format!(
            "WITH m AS (SELECT date_trunc('month', {now} AT TIME ZONE 'UTC') AS start)
             SELECT coalesce((SELECT sum(calls) FROM analytics_reads, m
                              WHERE day >= m.start::date
                                AND day < (m.start + interval '1 month')::date), 0)::int8 AS used,
               (extract(epoch FROM ({now} AT TIME ZONE 'UTC') - m.start)
                 / extract(epoch FROM (m.start + interval '1 month') - m.start))::float8
                 AS elapsed
             FROM m",
            now = ts(1)
        ),
        &[Param::Int64(now_ms)],
    )?;
    let r = rows
        .first()
        .ok_or_else(|| AppError::internal("month_reads: no row"))?;
    Ok((r.get("used")?, r.get("elapsed")?))
}
