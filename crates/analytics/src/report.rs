//! `overview` (one statement, answered as JSON built by PostgreSQL) and `usage` (the month's
//! reads against the budget).

use crate::params::{Params, Range};
use crate::sql::{rate, rollup_sums, ROLLUP_METRICS};
use crate::table::{Column, Kind, Table};
use common::db::{Db, Param};
use common::error::AppError;
use serde::Serialize;

/// Collection has run at least every 6 hours per account; a silence longer than this is a gap.
const GAP_HOURS: i64 = 26;

fn change(cur: &str, prev: &str) -> String {
    format!(
        "json_build_object('value', {cur}, 'previous', {prev}, 'change', {cur} - {prev},
           'changePercent', CASE WHEN {prev} > 0
                            THEN round((({cur} - {prev}) * 100.0 / {prev})::numeric, 2) END)"
    )
}

/// An instant rounded down to its UTC hour.
fn floor_hour(ts: &str) -> String {
    format!("date_trunc('hour', {ts}, 'UTC')")
}

/// An instant rounded up to a UTC hour (itself when it is one).
fn ceil_hour(ts: &str) -> String {
    format!("(date_trunc('hour', {ts} - interval '1 microsecond', 'UTC') + interval '1 hour')")
}

/// The overview's `data`, as JSON text: the period's totals beside the previous period's of
/// the same length, the engagement rate, followers gained, posts published, the last sync and
/// the collection gaps, in one statement.
pub fn overview(db: &Db, r: &Range, now_ms: i64) -> Result<String, AppError> {
    let mut p = Params::default();
    let ws = r.workspace_param(&mut p);
    let (f, t, now) = (p.at(r.from_ms), p.at(r.to_ms), p.at(now_ms));
    let tz = p.add(Param::Str(r.tz.clone()));
    let periods = periods(r, &mut p, &ws);
    let followers = followers_gained(r, &mut p, &ws);
    let gaps = gaps(r, &mut p, &ws);
    let totals = ROLLUP_METRICS
        .iter()
        .map(|(c, name)| {
            format!(
                "'{name}', {}",
                change(&format!("cur.{c}"), &format!("prev.{c}"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH r AS (SELECT {f} AS f, {t} AS t, {f} - ({t} - {f}) AS pf, {now} AS now),
         {periods},
         {followers},
         {gaps}
         SELECT json_build_object(
           'from', xmp_iso(r.f), 'to', xmp_iso(r.t), 'tz', {tz}::text,
           'accountId', {account},
           'previous', json_build_object('from', xmp_iso(r.pf), 'to', xmp_iso(r.f)),
           'totals', json_build_object({totals}),
           'engagementRate', json_build_object('value', {rate_cur}, 'previous', {rate_prev},
              'change', {rate_cur} - {rate_prev}),
           'followersGained', {fg},
           'postsPublished', json_build_object('value', pub.cur, 'previous', pub.prev,
              'change', pub.cur - pub.prev, 'imported', pub.imported),
           'lastSyncedAt', xmp_iso(sync.at),
           'gaps', gaps.j)::text AS data
         FROM r, cur, prev, pub, fg, sync, gaps",
        rate_cur = rate("cur.engagements", "cur.impressions"),
        rate_prev = rate("prev.engagements", "prev.impressions"),
        fg = change("fg.cur", "fg.prev"),
        account = match r.account {
            Some(a) => format!("'{a}'"),
            None => "NULL".into(),
        },
    );
    db.query_one(&sql, &p.0, |row| row.get("data"))
}

/// `hr`, `cur`, `prev` and `pub` (after `r`): the rollups' sums over the period and the
/// previous one, and the posts published in each.
fn periods(r: &Range, p: &mut Params, ws: &str) -> String {
    let rollups = r.rollups(p, ws);
    let acc = r.account_filter(p, "ap.account_id");
    // Posts published in [a, b): the whole UTC hours inside it from the rollups' counts (read
    // with the period's totals), the partial hours at its ends from the posts themselves (`a`
    // with its next hour, `b` with its hour; no whole hour when both ends fall in one).
    let whole = |a_up: &str, b_down: &str| {
        format!(
            "coalesce(sum(h.posts) FILTER (WHERE h.hour >= {a_up} AND h.hour < {b_down}), 0)
               ::int8 AS posts,
             coalesce(sum(h.imported_posts) FILTER (WHERE h.hour >= {a_up} AND h.hour < {b_down}),
               0)::int8 AS imported_posts"
        )
    };
    let edges = |only: &str, (a, a_up): (&str, &str), (b_down, b): (&str, &str)| {
        format!(
            "(SELECT count(*) FROM analytics_posts ap
              WHERE ap.workspace_id = {ws}{acc}{only}
                AND ((ap.published_at >= {a} AND ap.published_at < least({a_up}, {b}))
                     OR (ap.published_at >= greatest({b_down}, {a_up}) AND ap.published_at < {b})))"
        )
    };
    format!(
        "hr AS (SELECT {ceil_f} AS fc, {floor_t} AS tf, {ceil_pf} AS pfc, {floor_f} AS ff
                FROM r),
         cur AS (SELECT {sums}, {whole_cur}
                 FROM r, hr, {rollups} AND h.hour >= r.f AND h.hour < r.t),
         prev AS (SELECT {sums}, {whole_prev}
                  FROM r, hr, {rollups} AND h.hour >= r.pf AND h.hour < r.f),
         pub AS (SELECT cur.posts + {edges_cur} AS cur, prev.posts + {edges_prev} AS prev,
                        cur.imported_posts + {edges_imported} AS imported
                 FROM r, hr, cur, prev)",
        sums = rollup_sums("h"),
        ceil_f = ceil_hour("r.f"),
        floor_t = floor_hour("r.t"),
        ceil_pf = ceil_hour("r.pf"),
        floor_f = floor_hour("r.f"),
        whole_cur = whole("hr.fc", "hr.tf"),
        whole_prev = whole("hr.pfc", "hr.ff"),
        edges_cur = edges("", ("r.f", "hr.fc"), ("hr.tf", "r.t")),
        edges_prev = edges("", ("r.pf", "hr.pfc"), ("hr.ff", "r.f")),
        edges_imported = edges(" AND ap.imported", ("r.f", "hr.fc"), ("hr.tf", "r.t")),
    )
}

/// `acc`, `fol` and `fg`: followers gained in the period and the previous one, from each
/// account's last snapshot before each boundary (or its first inside the period when it has
/// none before).
fn followers_gained(r: &Range, p: &mut Params, ws: &str) -> String {
    let acc = r.account_filter(p, "a.id");
    let followers = |cond: &str, dir: &str| {
        format!(
            "(SELECT x.followers FROM account_snapshots x
              WHERE x.account_id = acc.id AND x.followers IS NOT NULL AND {cond}
              ORDER BY x.captured_at {dir} LIMIT 1)"
        )
    };
    format!(
        "acc AS (SELECT a.id, a.created_at FROM x_accounts a WHERE a.workspace_id = {ws}{acc}),
         fol AS (SELECT {e_cur} AS e, {e_mid} AS m, {e_start} AS s, {first_cur} AS fc,
                        {first_prev} AS fp
                 FROM acc, r),
         fg AS (SELECT coalesce(sum(e - coalesce(m, fc)), 0)::int8 AS cur,
                       coalesce(sum(m - coalesce(s, fp)), 0)::int8 AS prev FROM fol)",
        e_cur = followers("x.captured_at < r.t", "DESC"),
        e_mid = followers("x.captured_at < r.f", "DESC"),
        e_start = followers("x.captured_at < r.pf", "DESC"),
        first_cur = followers("x.captured_at >= r.f AND x.captured_at < r.t", "ASC"),
        first_prev = followers("x.captured_at >= r.pf AND x.captured_at < r.f", "ASC"),
    )
}

/// `sync`, `g` and `gaps`: the last sync, and the stretches longer than [`GAP_HOURS`] without
/// collection inside the period (recorded gaps, and the silence since an account's last sync).
fn gaps(r: &Range, p: &mut Params, ws: &str) -> String {
    let acc_s = r.account_filter(p, "s.account_id");
    let acc_g = r.account_filter(p, "g.account_id");
    format!(
        "sync AS (SELECT max(greatest(s.last_synced_at, s.last_captured_at)) AS at
                  FROM analytics_accounts s WHERE s.workspace_id = {ws}{acc_s}),
         g AS (SELECT g.account_id, greatest(g.gap_from, r.f) AS gf, least(g.gap_to, r.t) AS gt
               FROM analytics_gaps g, r
               WHERE g.workspace_id = {ws}{acc_g} AND g.gap_to > r.f AND g.gap_from < r.t
               UNION ALL
               SELECT s.account_id, greatest(coalesce(s.last_synced_at, a.created_at), r.f),
                 least(r.t, r.now)
               FROM analytics_accounts s JOIN x_accounts a ON a.id = s.account_id, r
               WHERE s.workspace_id = {ws}{acc_s}
                 AND greatest(coalesce(s.last_synced_at, a.created_at), r.f)
                     < least(r.t, r.now) - interval '{GAP_HOURS} hours'),
         gaps AS (SELECT coalesce(json_agg(json_build_object('accountId', account_id,
                           'from', xmp_iso(gf), 'to', xmp_iso(gt),
                           'hours', round((extract(epoch FROM gt - gf) / 3600.0)::numeric, 1))
                           ORDER BY gf, account_id), '[]'::json) AS j
                  FROM g WHERE gt - gf > interval '{GAP_HOURS} hours')"
    )
}

pub const USAGE_DAYS: &[Column] = &[
    ("day", "date", Kind::Text),
    ("calls", "reads", Kind::Int),
    ("objects", "objects", Kind::Int),
];

/// The month's reads against the budget (`usage` without its days).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// `YYYY-MM`, the UTC month of now.
    pub month: String,
    /// `None` when collection has no budget.
    pub budget: Option<i64>,
    pub reads_used: i64,
    pub reads_today: i64,
    pub workspace_reads_used: i64,
    pub workspace_reads_today: i64,
    /// The part of the month that has passed (0..1, four decimals).
    pub month_elapsed: f64,
    /// The month's reads at the pace so far; `None` at the month's first instant.
    pub projected_month_reads: Option<i64>,
}

/// `usage`: the workspace's reads per UTC day of the month of `now_ms`, the app's reads
/// against the monthly budget, and the projection for the month at the month's pace so far.
pub fn usage(
    db: &Db,
    workspace: uuid::Uuid,
    now_ms: i64,
    budget: i64,
) -> Result<(Usage, Table), AppError> {
    let mut p = Params::default();
    let ws = p.add(workspace.into());
    let now = p.at(now_ms);
    let m = format!(
        "WITH m AS (SELECT date_trunc('month', {now} AT TIME ZONE 'UTC') AS start,
                           ({now} AT TIME ZONE 'UTC') AS now)"
    );
    let days = db.query(
        &format!(
            "{m} SELECT to_char(day, 'YYYY-MM-DD') AS day, calls, objects
             FROM analytics_reads, m
             WHERE workspace_id = {ws} AND day >= m.start::date
               AND day < (m.start + interval '1 month')::date
             ORDER BY day"
        ),
        &p.0,
    )?;
    let table = Table::from_rows(USAGE_DAYS, &days)?;
    let budget_p = p.add(Param::Int64(budget));
    let usage = db.query_one(
        &format!(
            "{m}, s AS (
               SELECT coalesce(sum(calls), 0)::int8 AS app,
                      coalesce(sum(calls) FILTER (WHERE workspace_id = {ws}), 0)::int8 AS ws,
                      coalesce(sum(calls) FILTER (WHERE day = m.now::date), 0)::int8 AS app_today,
                      coalesce(sum(calls) FILTER (WHERE day = m.now::date
                                                    AND workspace_id = {ws}), 0)::int8
                        AS ws_today
               FROM analytics_reads, m
               WHERE day >= m.start::date AND day < (m.start + interval '1 month')::date)
             SELECT to_char(m.start, 'YYYY-MM') AS month,
               CASE WHEN {budget_p}::int8 > 0 THEN {budget_p}::int8 END AS budget,
               s.app, s.app_today, s.ws, s.ws_today,
               round((extract(epoch FROM m.now - m.start)
                  / extract(epoch FROM (m.start + interval '1 month') - m.start))::numeric, 4)
                 ::float8 AS elapsed,
               CASE WHEN m.now > m.start THEN
                  round(s.app / (extract(epoch FROM m.now - m.start)
                  / extract(epoch FROM (m.start + interval '1 month') - m.start)))::int8 END
                 AS projected
             FROM m, s"
        ),
        &p.0,
        |r| {
            Ok(Usage {
                month: r.get("month")?,
                budget: r.get("budget")?,
                reads_used: r.get("app")?,
                reads_today: r.get("app_today")?,
                workspace_reads_used: r.get("ws")?,
                workspace_reads_today: r.get("ws_today")?,
                month_elapsed: r.get("elapsed")?,
                projected_month_reads: r.get("projected")?,
            })
        },
    )?;
    Ok((usage, table))
}
