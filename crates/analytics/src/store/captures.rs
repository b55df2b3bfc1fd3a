//! Storing a batch of captures: one statement writes the snapshots, the signed deltas into the
//! hourly rollups, the latest values and the next capture, so a capture is counted once or not
//! at all.

use super::{int8, json_rows, DuePost};
use crate::cadence;
use crate::xread::Counters;
use common::db::{Db, Param};
use common::error::AppError;
use serde::Serialize;

/// What a lookup said about one claimed post.
pub enum Captured {
    Metrics(Counters),
    /// X says the post no longer exists: no more captures.
    Gone,
}

/// One capture as [`STORE_CAPTURES`] reads it (`jsonb_to_recordset`); a post X no longer has
/// carries no counters.
#[derive(Debug, Default, PartialEq, Serialize)]
struct CaptureRow {
    post: i64,
    slot_ms: i64,
    next_ms: i64,
    gone: bool,
    impressions: Option<i64>,
    likes: Option<i64>,
    reposts: Option<i64>,
    quotes: Option<i64>,
    replies: Option<i64>,
    bookmarks: Option<i64>,
    url_clicks: Option<i64>,
    profile_clicks: Option<i64>,
    x_engagements: Option<i64>,
}

impl CaptureRow {
    fn new(p: &DuePost, captured: &Captured, next_ms: i64) -> CaptureRow {
        let row = CaptureRow {
            post: p.id,
            slot_ms: p.slot_ms,
            next_ms,
            ..CaptureRow::default()
        };
        match captured {
            Captured::Gone => CaptureRow { gone: true, ..row },
            Captured::Metrics(m) => CaptureRow {
                impressions: int8(m.impressions),
                likes: int8(m.likes),
                reposts: int8(m.reposts),
                quotes: int8(m.quotes),
                replies: int8(m.replies),
                bookmarks: int8(m.bookmarks),
                url_clicks: int8(m.url_clicks),
                profile_clicks: int8(m.profile_clicks),
                x_engagements: int8(m.x_engagements),
                ..row
            },
        }
    }
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
    let rows: Vec<CaptureRow> = batch
        .iter()
        .map(|(p, c)| {
            let next = cadence::next_capture(p.published_ms, captured_ms, thinning);
            CaptureRow::new(p, c, next)
        })
        .collect();
    db.query_one(
        &format!("{STORE_CAPTURES} SELECT (SELECT count(*) FROM ins)::int8 AS stored"),
        &[Param::Str(json_rows(&rows)?), Param::Int64(captured_ms)],
        |r| r.get("stored"),
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn due() -> DuePost {
        DuePost {
            id: 7,
            account_id: uuid::Uuid::nil(),
            workspace_id: uuid::Uuid::nil(),
            x_post_id: "1".into(),
            published_ms: 0,
            slot_ms: 900_000,
        }
    }

    #[test]
    fn a_capture_row_has_exactly_the_columns_the_statement_reads() {
        let declared = STORE_CAPTURES
            .split_once("AS i(")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(columns, _)| columns)
            .unwrap();
        let mut declared: Vec<&str> = declared
            .split(',')
            .filter_map(|c| c.split_whitespace().next())
            .collect();
        declared.sort_unstable();
        let row = serde_json::to_value(CaptureRow::new(&due(), &Captured::Gone, 1)).unwrap();
        let Value::Object(row) = row else {
            panic!("a row is an object")
        };
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        assert_eq!(keys, declared);
    }

    #[test]
    fn a_gone_post_has_no_counters_and_a_measured_one_keeps_its_nulls() {
        let gone = serde_json::to_value(CaptureRow::new(&due(), &Captured::Gone, 1)).unwrap();
        assert_eq!(gone["gone"], json!(true));
        assert_eq!(gone["impressions"], Value::Null);
        let counters = Counters {
            impressions: Some(u64::MAX),
            likes: Some(3),
            ..Counters::default()
        };
        let row = CaptureRow::new(&due(), &Captured::Metrics(counters), 1);
        assert_eq!(row.impressions, Some(i64::MAX), "clamped to int8");
        assert_eq!(row.likes, Some(3));
        assert_eq!(row.url_clicks, None, "not returned by X stays NULL");
        assert!(!row.gone);
    }
}
