//! GET /api/metrics: what the platform is doing, in Prometheus' text format (0.0.4), built
//! only from shared state in PostgreSQL. Each request is a fresh instance, so nothing can be
//! counted in memory: counters are counts of append-only history (`post_events`), gauges are
//! counts of current rows (`posts`, `x_accounts`) or of the last hour of `job_runs`.
//!
//! Request rates and latencies are not here: Spin's own OpenTelemetry export measures every
//! request (see README "Deploy").

mod exposition;
mod publishing;
mod ticks;

use common::db::{Db, Param};
use common::error::AppError;
use exposition::{seconds, Exposition};
use posts::status::PostStatus;

/// The Content-Type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every account status, so each is exported (as 0 when there are none).
const ACCOUNT_STATUSES: [&str; 4] = ["active", "needs_reauth", "paused", "suspended"];
const HOUR_MS: i64 = 3_600_000;

/// Renders every metric as of `now_ms`.
pub fn render(db: &Db, now_ms: i64) -> Result<String, AppError> {
    let mut out = Exposition::default();
    posts(db, now_ms, &mut out)?;
    publishing::render(db, now_ms, &mut out)?;
    accounts(db, &mut out)?;
    ticks::render(db, now_ms, &mut out)?;
    Ok(out.0)
}

fn posts(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    by_status(
        db,
        "SELECT status, count(*)::int8 AS n FROM posts GROUP BY status",
        (
            "xmp_posts",
            "Posts by status (every part of a thread counts).",
        ),
        &PostStatus::ALL.map(PostStatus::as_str),
        out,
    )?;

    // The same condition as the scheduler's claim (`xmp_claim`, migration 0017): thread heads whose time came.
    let (due, oldest_ms) = db.query_one(
        "SELECT count(*)::int8 AS n,
                coalesce(min(extract(epoch FROM coalesce(next_attempt_at, scheduled_at)) * 1000),
                         $1::int8)::int8 AS oldest_ms
         FROM posts
         WHERE status = 'scheduled' AND thread_position = 0
           AND coalesce(next_attempt_at, scheduled_at)
               <= timestamptz 'epoch' + $1::int8 * interval '1 millisecond'",
        &[Param::Int64(now_ms)],
        |r| Ok((r.get::<i64>("n")?, r.get::<i64>("oldest_ms")?)),
    )?;
    out.gauge(
        "xmp_posts_due",
        "Scheduled posts (thread heads) whose time has come and that no tick has claimed yet.",
        due as f64,
    );
    out.gauge(
        "xmp_posts_oldest_due_age_seconds",
        "How long the oldest due post has waited to be claimed (0 when none is due).",
        seconds(now_ms - oldest_ms),
    );
    Ok(())
}

fn accounts(db: &Db, out: &mut Exposition) -> Result<(), AppError> {
    by_status(
        db,
        "SELECT status, count(*)::int8 AS n FROM x_accounts GROUP BY status",
        (
            "xmp_accounts",
            "Connected X accounts by status (needs_reauth: the owner must connect it again).",
        ),
        &ACCOUNT_STATUSES,
        out,
    )
}

/// A gauge family of counts by status (`sql` answers `status, n`), with a sample for every
/// known status, 0 when it has no rows.
fn by_status(
    db: &Db,
    sql: &str,
    (name, help): (&str, &str),
    statuses: &[&str],
    out: &mut Exposition,
) -> Result<(), AppError> {
    let counts = db.query_all(sql, &[], |r| {
        Ok((r.get::<String>("status")?, r.get::<i64>("n")?))
    })?;
    out.family(name, "gauge", help);
    for status in statuses {
        let n = counts.iter().find(|(s, _)| s == status).map_or(0, |c| c.1);
        out.sample(name, &[("status", status)], n as f64);
    }
    Ok(())
}
