//! `tweets` (each post with its latest counters, sorted, in cursor pages) and
//! `tweets/{id}/series` (a post's snapshot curve).

use crate::params::{Params, Range};
use crate::sql::{engagements, local_iso};
use crate::table::{Column, Kind, Table};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::db::{Db, Param};
use common::error::AppError;
use common::pagination::invalid;
use uuid::Uuid;

/// How `tweets` sorts (always greatest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Date,
    Impressions,
    EngagementRate,
}

impl Sort {
    pub fn parse(raw: Option<String>) -> Result<Sort, AppError> {
        match raw.as_deref().filter(|s| !s.is_empty()) {
            None | Some("date") => Ok(Sort::Date),
            Some("impressions") => Ok(Sort::Impressions),
            Some("engagementRate") => Ok(Sort::EngagementRate),
            Some(_) => Err(invalid(
                "sort",
                "sort must be one of date, impressions, engagementRate",
            )),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Sort::Date => "date",
            Sort::Impressions => "impressions",
            Sort::EngagementRate => "engagementRate",
        }
    }
    /// The sort key: a value every row has, so that cursors compare rows exactly; the same
    /// expressions as the `post_latest` indexes the list walks (migration 0010).
    fn key(self) -> &'static str {
        match self {
            Sort::Date => "(extract(epoch FROM l.published_at) * 1000000)::int8::float8",
            Sort::Impressions => "coalesce(l.impressions, -1)::float8",
            Sort::EngagementRate => "coalesce(l.engagement_rate, -1)",
        }
    }
    /// What the list orders by (greatest first): the key, or for dates the instant itself
    /// (its index), which orders the same.
    fn order(self) -> &'static str {
        match self {
            Sort::Date => "l.published_at",
            s => s.key(),
        }
    }
    /// The order value of a cursor's key `k` (a float parameter).
    fn order_of(self, k: &str) -> String {
        match self {
            Sort::Date => format!("(timestamptz 'epoch' + {k}::int8 * interval '1 microsecond')"),
            _ => k.to_string(),
        }
    }
}

/// After the row with this sort key and id.
pub struct Cursor {
    key: f64,
    id: i64,
}

impl Cursor {
    pub fn parse(raw: Option<String>, sort: Sort) -> Result<Option<Cursor>, AppError> {
        let Some(raw) = raw.filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let bad = || invalid("cursor", "invalid cursor");
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?)
            .map_err(|_| bad())?;
        let mut parts = text.split('|');
        let (Some(name), Some(key), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if name != sort.name() {
            return Err(invalid("cursor", "the cursor belongs to another sort"));
        }
        Ok(Some(Cursor {
            key: key
                .parse()
                .ok()
                .filter(|k: &f64| k.is_finite())
                .ok_or_else(bad)?,
            id: id.parse().map_err(|_| bad())?,
        }))
    }

    fn encode(sort: Sort, key: f64, id: i64) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{key}|{id}", sort.name()))
    }
}

pub const TWEET_COLUMNS: &[Column] = &[
    ("x_post_id", "id", Kind::Text),
    ("post_id", "postId", Kind::Uuid),
    ("account_id", "accountId", Kind::Uuid),
    ("imported", "imported", Kind::Bool),
    ("content", "text", Kind::Text),
    ("published_at", "publishedAt", Kind::Text),
    ("published_local", "publishedLocal", Kind::Text),
    ("impressions", "impressions", Kind::Int),
    ("likes", "likes", Kind::Int),
    ("reposts", "reposts", Kind::Int),
    ("quotes", "quotes", Kind::Int),
    ("replies", "replies", Kind::Int),
    ("bookmarks", "bookmarks", Kind::Int),
    ("url_clicks", "urlClicks", Kind::Int),
    ("profile_clicks", "profileClicks", Kind::Int),
    ("engagements", "engagements", Kind::Int),
    ("engagement_rate", "engagementRate", Kind::Float),
    ("captured_at", "capturedAt", Kind::Text),
];

/// One page of posts published in the range; the next cursor when there are more.
pub fn tweets(
    db: &Db,
    r: &Range,
    sort: Sort,
    after: Option<Cursor>,
    limit: usize,
) -> Result<(Table, Option<String>), AppError> {
    let mut p = Params::default();
    let ws = r.workspace_param(&mut p);
    let (f, t) = (p.at(r.from_ms), p.at(r.to_ms));
    let tz = format!("{}::text", p.add(Param::Str(r.tz.clone())));
    let (key, order) = (sort.key(), sort.order());
    let acc = r.account_filter(&mut p, "l.account_id");
    let after_sql = match after {
        Some(c) => {
            let k = format!("{}::float8", p.add(Param::Floating64(c.key)));
            format!(
                " AND ({order}, l.post) < ({}, {}::int8)",
                sort.order_of(&k),
                p.add(Param::Int64(c.id))
            )
        }
        None => String::new(),
    };
    let n = p.add(Param::Int64(limit as i64 + 1));
    // Every collected post has its `post_latest` row (NULL counters before the first
    // capture): the list walks that table's index for the sort and stops after one page.
    let sql = format!(
        "SELECT ap.x_post_id, ap.post_id, ap.account_id,
           ap.imported, ap.content, xmp_iso(ap.published_at) AS published_at,
           {local} AS published_local,
           l.impressions, l.likes, l.reposts, l.quotes, l.replies, l.bookmarks, l.url_clicks,
           l.profile_clicks, l.engagements, l.engagement_rate, xmp_iso(l.captured_at) AS captured_at,
           {key} AS sort_key, l.post AS row_id
         FROM post_latest l JOIN analytics_posts ap ON ap.id = l.post
         WHERE l.workspace_id = {ws}{acc} AND l.published_at >= {f} AND l.published_at < {t}
           {after_sql}
         ORDER BY {order} DESC, l.post DESC
         LIMIT {n}",
        local = local_iso("ap.published_at", &tz),
    );
    let rows = db.query(&sql, &p.0)?;
    let mut table = Table::from_rows(TWEET_COLUMNS, &rows)?;
    let mut next = None;
    if table.rows.len() > limit {
        table.rows.truncate(limit);
        if let Some(last) = rows.iter().nth(limit - 1) {
            next = Some(Cursor::encode(
                sort,
                last.get("sort_key")?,
                last.get("row_id")?,
            ));
        }
    }
    Ok((table, next))
}

pub const SERIES_COLUMNS: &[Column] = &[
    ("captured_at", "capturedAt", Kind::Text),
    ("captured_local", "capturedLocal", Kind::Text),
    ("age_minutes", "ageMinutes", Kind::Int),
    ("impressions", "impressions", Kind::Int),
    ("likes", "likes", Kind::Int),
    ("reposts", "reposts", Kind::Int),
    ("quotes", "quotes", Kind::Int),
    ("replies", "replies", Kind::Int),
    ("bookmarks", "bookmarks", Kind::Int),
    ("url_clicks", "urlClicks", Kind::Int),
    ("profile_clicks", "profileClicks", Kind::Int),
    ("x_engagements", "xEngagements", Kind::Int),
    ("engagements", "engagements", Kind::Int),
    ("engagement_rate", "engagementRate", Kind::Float),
];

/// The snapshots of one post of the workspace, oldest first; `id` is X's post id or the
/// platform's post id. Counters are as X returned them (NULL where it did not);
/// `engagements` carries the last known clicks forward, so the curve never drops when X stops
/// returning them after 30 days.
pub fn series(db: &Db, workspace: Uuid, id: &str, tz: &str) -> Result<Table, AppError> {
    let mut p = Params::default();
    let ws = format!("{}::uuid", p.add(workspace.into()));
    let which = if let Ok(u) = Uuid::parse_str(id) {
        format!("ap.post_id = {}::uuid", p.add(u.into()))
    } else if !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()) {
        format!("ap.x_post_id = {}", p.add(Param::Str(id.to_string())))
    } else {
        return Err(AppError::not_found("Post"));
    };
    let tz = format!("{}::text", p.add(Param::Str(tz.to_string())));
    db.query_opt(
        &format!("SELECT ap.id FROM analytics_posts ap WHERE ap.workspace_id = {ws} AND {which}"),
        p.0.get(..2).unwrap_or(&p.0),
        |_| Ok(()),
    )?
    .ok_or_else(|| AppError::not_found("Post"))?;
    let sql = format!(
        "SELECT xmp_iso(c.captured_at) AS captured_at, {local} AS captured_local,
           (extract(epoch FROM c.captured_at - c.published_at) / 60)::int8 AS age_minutes,
           c.impressions, c.likes, c.reposts, c.quotes, c.replies, c.bookmarks, c.url_clicks,
           c.profile_clicks, c.x_engagements, {eng} AS engagements,
           CASE WHEN c.impressions > 0 THEN ({eng})::float8 / c.impressions END
             AS engagement_rate
         FROM (SELECT s.*, ap.published_at,
                 max(s.url_clicks) OVER w AS k_url, max(s.profile_clicks) OVER w AS k_profile
               FROM post_snapshots s JOIN analytics_posts ap ON ap.id = s.post
               WHERE ap.workspace_id = {ws} AND {which}
               WINDOW w AS (ORDER BY s.captured_at)) c
         ORDER BY c.captured_at",
        local = local_iso("c.captured_at", &tz),
        eng = engagements("c.")
            .replace("c.url_clicks", "c.k_url")
            .replace("c.profile_clicks", "c.k_profile"),
    );
    let rows = db.query(&sql, &p.0)?;
    Table::from_rows(SERIES_COLUMNS, &rows)
}
