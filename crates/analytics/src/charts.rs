//! `engagement` (new impressions and engagements per hour, day or week of `tz`), `audience`
//! (followers, following and listed per local day, with the net change) and `best-times`
//! (a 7×24 grid of median lifts). PostgreSQL does the zone math: buckets are
//! `date_trunc(unit, instant, tz)`, so a day across a DST change has its 23 or 25 hours and an
//! hour that repeats is two buckets with different offsets.

use crate::params::{Params, Range};
use crate::sql::{local_iso, rate, rollup_sums, ROLLUP_METRICS};
use crate::table::{round6, Column, Kind, Table};
use common::db::{Db, Param};
use common::error::AppError;
use common::pagination::invalid;
use serde::Serialize;
use serde_json::Value;

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

/// One cell of the grid with posts: ISO day of week (1 = Monday) and hour of the local
/// publication time, how many posts, and their median lift (rounded as the table rounds it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub day_of_week: i64,
    pub hour: i64,
    pub n: i64,
    pub lift: Option<f64>,
}

/// `best-times` as the query answers it: the cells as a table (the CSV and the JSON `cells`),
/// the same cells typed for the grid, and how many posts were measured.
pub struct BestTimes {
    pub table: Table,
    pub cells: Vec<Cell>,
    pub measured: i64,
    pub tz: String,
}

/// The cells with posts: ISO day of week (1 = Monday) and hour of the local publication time,
/// the median lift (a post's engagement rate at [`FIXED_AGE_HOURS`] ÷ its account's median
/// rate at that age) and `n`; and how many posts were measured. The rate at that age is kept
/// on the post when its first capture past that age is stored (`fixed_age_rate`).
pub fn best_times(db: &Db, r: &Range) -> Result<BestTimes, AppError> {
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
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        cells.push(Cell {
            day_of_week: row.get("dow")?,
            hour: row.get("hr")?,
            n: row.get("n")?,
            lift: row
                .get::<Option<f64>>("lift")?
                .map(round6)
                .filter(|l| l.is_finite()),
        });
    }
    Ok(BestTimes {
        table: Table::from_rows(BEST_TIME_COLUMNS, &rows)?,
        cells,
        measured,
        tz: r.tz.clone(),
    })
}

/// The grid answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grid {
    pub tz: String,
    pub fixed_age_hours: i64,
    pub posts_measured: i64,
    pub minimum_posts: i64,
    pub more_posts_needed: i64,
    /// 7×24 median lifts, Monday first, hour 0 first; `null` where no post was measured.
    pub lift: Vec<Vec<Option<f64>>>,
    /// 7×24 post counts.
    pub n: Vec<Vec<i64>>,
    pub cells: Vec<Value>,
    /// The three best cells when enough posts were measured, else none.
    pub recommendations: Vec<Recommendation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub day_of_week: i64,
    pub hour: i64,
    pub n: i64,
    pub median_lift: f64,
}

impl BestTimes {
    /// The grid answer: 7×24 lifts and counts, the cells, and the three best cells when enough
    /// posts were measured, else how many more are needed.
    pub fn grid(&self) -> Grid {
        let mut lift = vec![vec![None; 24]; 7];
        let mut n = vec![vec![0i64; 24]; 7];
        for c in &self.cells {
            let (d, h) = (
                (c.day_of_week - 1).clamp(0, 6) as usize,
                c.hour.clamp(0, 23) as usize,
            );
            if let Some(slot) = n.get_mut(d).and_then(|day| day.get_mut(h)) {
                *slot = c.n;
            }
            if let Some(slot) = lift.get_mut(d).and_then(|day| day.get_mut(h)) {
                *slot = c.lift;
            }
        }
        Grid {
            tz: self.tz.clone(),
            fixed_age_hours: FIXED_AGE_HOURS,
            posts_measured: self.measured,
            minimum_posts: MIN_POSTS,
            more_posts_needed: (MIN_POSTS - self.measured).max(0),
            lift,
            n,
            cells: self.table.items(),
            recommendations: recommend(&self.cells, self.measured),
        }
    }
}

/// The three best measured cells: those backed by more than one post first, then by lift.
fn recommend(cells: &[Cell], measured: i64) -> Vec<Recommendation> {
    if measured < MIN_POSTS {
        return Vec::new();
    }
    let mut ranked: Vec<Recommendation> = cells
        .iter()
        .filter_map(|c| {
            Some(Recommendation {
                day_of_week: (c.day_of_week - 1).clamp(0, 6) + 1,
                hour: c.hour.clamp(0, 23),
                n: c.n,
                median_lift: c.lift?,
            })
        })
        .collect();
    ranked.sort_by(|a, b| {
        (b.n > 1).cmp(&(a.n > 1)).then(
            b.median_lift
                .partial_cmp(&a.median_lift)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    ranked.truncate(3);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(day_of_week: i64, hour: i64, n: i64, lift: Option<f64>) -> Cell {
        Cell {
            day_of_week,
            hour,
            n,
            lift,
        }
    }

    #[test]
    fn recommendations_prefer_cells_with_several_posts_then_the_highest_lift() {
        let cells = [
            cell(1, 9, 1, Some(9.0)),
            cell(2, 10, 2, Some(1.5)),
            cell(3, 11, 3, Some(2.5)),
            cell(4, 12, 2, None),
            cell(5, 13, 4, Some(0.5)),
        ];
        let best: Vec<(i64, i64)> = recommend(&cells, MIN_POSTS)
            .iter()
            .map(|r| (r.day_of_week, r.hour))
            .collect();
        assert_eq!(best, [(3, 11), (2, 10), (5, 13)]);
        assert!(recommend(&cells, MIN_POSTS - 1).is_empty(), "too few posts");
    }

    #[test]
    fn the_grid_places_each_cell_by_day_and_hour_and_leaves_the_others_empty() {
        let best = BestTimes {
            table: Table {
                columns: BEST_TIME_COLUMNS,
                rows: Vec::new(),
            },
            cells: vec![cell(1, 0, 2, Some(1.25)), cell(7, 23, 1, None)],
            measured: 3,
            tz: "UTC".into(),
        };
        let grid = best.grid();
        assert_eq!(grid.lift[0][0], Some(1.25));
        assert_eq!(grid.n[0][0], 2);
        assert_eq!(grid.n[6][23], 1);
        assert_eq!(grid.lift[6][23], None);
        assert_eq!(grid.lift[3][12], None);
        assert_eq!(grid.more_posts_needed, MIN_POSTS - 3);
        let json = serde_json::to_value(&grid).unwrap();
        assert_eq!(json["lift"][0][1], Value::Null);
        assert_eq!(json["postsMeasured"], 3);
    }
}
