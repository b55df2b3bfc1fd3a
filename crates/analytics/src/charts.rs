//! `engagement` (new impressions and engagements per hour, day or week of `tz`), `audience`
//! (followers, following and listed per local day, with the net change) and `best-times`
//! (a 7×24 grid of median lifts). PostgreSQL does the zone math: buckets are
//! `date_trunc(unit, instant, tz)`, so a day across a DST change has its 23 or 25 hours and an
//! hour that repeats is two buckets with different offsets.

use crate::params::{Params, Range};
use crate::sql::{local_iso, rate, rollup_sums, ROLLUP_METRICS};
use crate::table::{Column, Kind, Table};
use common::db::{Db, Param};
use common::error::AppError;
use common::pagination::invalid;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
    Week,
}

impl Bucket {
    pub fn parse(raw: Option<String>) -> Result<Bucket, AppError> {
        match raw.as_deref().filter(|s| !s.is_empty()) {
            None | Some("day") => Ok(Bucket::Day),
            Some("hour") => Ok(Bucket::Hour),
            Some("week") => Ok(Bucket::Week),
            Some(_) => Err(invalid("bucket", "bucket must be one of hour, day, week")),
        }
    }
    fn unit(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }
}

pub const ENGAGEMENT_COLUMNS: &[Column] = &[
    ("start", "start", Kind::Text),
    ("local_start", "localStart", Kind::Text),
    ("impressions", "impressions", Kind::Int),
    ("engagements", "engagements", Kind::Int),
    ("likes", "likes", Kind::Int),
    ("reposts", "reposts", Kind::Int),
    ("quotes", "quotes", Kind::Int),
    ("replies", "replies", Kind::Int),
    ("bookmarks", "bookmarks", Kind::Int),
    ("url_clicks", "urlClicks", Kind::Int),
    ("profile_clicks", "profileClicks", Kind::Int),
    ("engagement_rate", "engagementRate", Kind::Float),
];

/// Every bucket of the range (empty ones with zeros), oldest first.
pub fn engagement(db: &Db, r: &Range, bucket: Bucket) -> Result<Table, AppError> {
    let mut p = Params::default();
    let ws = r.workspace_param(&mut p);
    let (f, t) = (p.at(r.from_ms), p.at(r.to_ms));
    let tz = format!("{}::text", p.add(Param::Str(r.tz.clone())));
    let rollups = r.rollups(&mut p, &ws);
    let unit = bucket.unit();
    let cols = ROLLUP_METRICS
        .iter()
        .map(|(c, _)| format!("coalesce(agg.{c}, 0)::int8 AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH r AS (SELECT {f} AS f, {t} AS t),
         b AS (SELECT DISTINCT date_trunc('{unit}', g, {tz}) AS start
               FROM r, generate_series(date_trunc('hour', r.f, 'UTC'),
                                       r.t - interval '1 microsecond', interval '1 hour') g),
         agg AS (SELECT date_trunc('{unit}', h.hour, {tz}) AS start, {sums}
                 FROM r, {rollups} AND h.hour >= r.f AND h.hour < r.t
                 GROUP BY 1)
         SELECT xmp_iso(b.start) AS start, {local} AS local_start, {cols},
           {rate} AS engagement_rate
         FROM b LEFT JOIN agg ON agg.start = b.start
         ORDER BY b.start",
        sums = rollup_sums("h"),
        local = local_iso("b.start", &tz),
        rate = rate("agg.engagements", "agg.impressions"),
    );
    let rows = db.query(&sql, &p.0)?;
    Table::from_rows(ENGAGEMENT_COLUMNS, &rows)
}

pub const AUDIENCE_COLUMNS: &[Column] = &[
    ("date", "date", Kind::Text),
    ("start", "start", Kind::Text),
    ("followers", "followers", Kind::Int),
    ("following", "following", Kind::Int),
    ("listed", "listed", Kind::Int),
    ("posts", "posts", Kind::Int),
    ("net_followers", "netFollowers", Kind::Int),
    ("net_following", "netFollowing", Kind::Int),
    ("net_listed", "netListed", Kind::Int),
    ("accounts", "accounts", Kind::Int),
];

/// Per local day with a snapshot: the day's last value of each counter (summed over the
/// accounts captured that day) and the net change from each account's previous captured day.
pub fn audience(db: &Db, r: &Range) -> Result<Table, AppError> {
    let mut p = Params::default();
    let ws = r.workspace_param(&mut p);
    let (f, t) = (p.at(r.from_ms), p.at(r.to_ms));
    let tz = format!("{}::text", p.add(Param::Str(r.tz.clone())));
    let acc = r.account_filter(&mut p, "a.id");
    let sql = format!(
        "WITH r AS (SELECT {f} AS f, {t} AS t),
         s AS (SELECT DISTINCT ON (x.account_id, date_trunc('day', x.captured_at, {tz}))
                 x.account_id, date_trunc('day', x.captured_at, {tz}) AS day,
                 x.followers, x.following, x.listed, x.posts
               FROM account_snapshots x, r
               WHERE x.account_id IN (SELECT a.id FROM x_accounts a
                                      WHERE a.workspace_id = {ws}{acc})
                 AND x.captured_at >= r.f - interval '7 days' AND x.captured_at < r.t
               ORDER BY x.account_id, date_trunc('day', x.captured_at, {tz}), x.captured_at DESC),
         d AS (SELECT s.*, followers - lag(followers) OVER w AS df,
                 following - lag(following) OVER w AS dfo, listed - lag(listed) OVER w AS dl
               FROM s WINDOW w AS (PARTITION BY account_id ORDER BY day))
         SELECT to_char(day AT TIME ZONE {tz}, 'YYYY-MM-DD') AS date, xmp_iso(day) AS start,
           sum(followers)::int8 AS followers, sum(following)::int8 AS following,
           sum(listed)::int8 AS listed, sum(posts)::int8 AS posts,
           sum(df)::int8 AS net_followers, sum(dfo)::int8 AS net_following,
           sum(dl)::int8 AS net_listed, count(*)::int8 AS accounts
         FROM d, r WHERE d.day >= date_trunc('day', r.f, {tz})
         GROUP BY day ORDER BY day"
    );
    let rows = db.query(&sql, &p.0)?;
    Table::from_rows(AUDIENCE_COLUMNS, &rows)
}

/// Posts are compared at this age (their first capture at or after it).
pub const FIXED_AGE_HOURS: i64 = 24;
/// Recommendations need at least this many measured posts.
pub const MIN_POSTS: i64 = 10;

pub const BEST_TIME_COLUMNS: &[Column] = &[
    ("dow", "dayOfWeek", Kind::Int),
    ("hr", "hour", Kind::Int),
    ("n", "n", Kind::Int),
    ("lift", "medianLift", Kind::Float),
];

/// The cells with posts: ISO day of week (1 = Monday) and hour of the local publication time,
/// the median lift (a post's engagement rate at [`FIXED_AGE_HOURS`] ÷ its account's median
/// rate at that age) and `n`; and how many posts were measured. The rate at that age is kept
/// on the post when its first capture past that age is stored (`fixed_age_rate`).
pub fn best_times(db: &Db, r: &Range) -> Result<(Table, i64), AppError> {
    let mut p = Params::default();
    let ws = r.workspace_param(&mut p);
    let (f, t) = (p.at(r.from_ms), p.at(r.to_ms));
    let tz = format!("{}::text", p.add(Param::Str(r.tz.clone())));
    let acc = r.account_filter(&mut p, "ap.account_id");
    let sql = format!(
        "WITH m AS (
           SELECT ap.account_id, ap.published_at, ap.fixed_age_rate AS rate
           FROM analytics_posts ap
           WHERE ap.workspace_id = {ws}{acc} AND ap.published_at >= {f} AND ap.published_at < {t}
         ), ok AS (SELECT * FROM m WHERE rate IS NOT NULL),
         med AS (SELECT account_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY rate) AS med
                 FROM ok GROUP BY account_id),
         l AS (SELECT extract(isodow FROM ok.published_at AT TIME ZONE {tz})::int8 AS dow,
                      extract(hour FROM ok.published_at AT TIME ZONE {tz})::int8 AS hr,
                      ok.rate / nullif(med.med, 0) AS lift
               FROM ok JOIN med USING (account_id))
         SELECT dow, hr, count(*)::int8 AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY lift) AS lift,
           (SELECT count(*) FROM ok)::int8 AS measured
         FROM l GROUP BY dow, hr ORDER BY dow, hr"
    );
    let rows = db.query(&sql, &p.0)?;
    let measured = match rows.first() {
        Some(r) => r.get("measured")?,
        None => 0,
    };
    Ok((Table::from_rows(BEST_TIME_COLUMNS, &rows)?, measured))
}

/// The grid answer: 7×24 lifts and counts (Monday first, hour 0 first), the cells, and the
/// three best cells when enough posts were measured, else how many more are needed.
pub fn best_times_json(table: &Table, measured: i64, tz: &str) -> Value {
    let mut lift = vec![vec![Value::Null; 24]; 7];
    let mut n = vec![vec![0i64; 24]; 7];
    let mut cells: Vec<(usize, usize, i64, f64)> = Vec::new();
    for row in &table.rows {
        let cell = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
        let (Some(d), Some(h)) = (cell(0).as_i64(), cell(1).as_i64()) else {
            continue;
        };
        let (d, h) = ((d - 1).clamp(0, 6) as usize, h.clamp(0, 23) as usize);
        let count = cell(2).as_i64().unwrap_or(0);
        if let Some(slot) = n.get_mut(d).and_then(|day| day.get_mut(h)) {
            *slot = count;
        }
        if let Some(slot) = lift.get_mut(d).and_then(|day| day.get_mut(h)) {
            *slot = cell(3);
        }
        if let Some(l) = cell(3).as_f64() {
            cells.push((d, h, count, l));
        }
    }
    let recommendations = if measured >= MIN_POSTS {
        // Cells backed by more than one post first; then by lift.
        cells.sort_by(|a, b| {
            (b.2 > 1)
                .cmp(&(a.2 > 1))
                .then(b.3.partial_cmp(&a.3).unwrap_or(std::cmp::Ordering::Equal))
        });
        cells
            .iter()
            .take(3)
            .map(|(d, h, c, l)| json!({"dayOfWeek": d + 1, "hour": h, "n": c, "medianLift": l}))
            .collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    json!({
        "tz": tz,
        "fixedAgeHours": FIXED_AGE_HOURS,
        "postsMeasured": measured,
        "minimumPosts": MIN_POSTS,
        "morePostsNeeded": (MIN_POSTS - measured).max(0),
        "lift": lift,
        "n": n,
        "cells": table.items(),
        "recommendations": recommendations,
    })
}
