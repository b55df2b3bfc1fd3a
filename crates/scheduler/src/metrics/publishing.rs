//! What publishing did: the last hour's publications and their lag, every create sent to X, and
//! the posts that failed, were retried or were held back.

use super::exposition::Exposition;
use super::HOUR_MS;
use common::db::{Db, Param};
use common::error::AppError;

pub(super) fn render(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    last_hour(db, now_ms, out)?;
    attempts(db, out)?;
    setbacks(db, out)
}

/// Thread heads published in the last hour, and how late they went out.
fn last_hour(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    let (n, p50, p99) = db.query_one(
        "SELECT count(*)::int8 AS n,
                coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), 0)::float8 AS p50,
                coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), 0)::float8 AS p99
         FROM (SELECT greatest(extract(epoch FROM published_at - scheduled_at), 0)::float8 AS lag
               FROM posts
               WHERE thread_position = 0 AND published_at IS NOT NULL
                 AND scheduled_at IS NOT NULL
                 AND published_at > timestamptz 'epoch' + ($1::int8 - $2::int8) * interval '1 millisecond'
                 AND published_at <= timestamptz 'epoch' + $1::int8 * interval '1 millisecond'
              ) published",
        &[Param::Int64(now_ms), Param::Int64(HOUR_MS)],
        |r| {
            Ok((
                r.get::<i64>("n")?,
                r.get::<f64>("p50")?,
                r.get::<f64>("p99")?,
            ))
        },
    )?;
    out.gauge(
        "xmp_posts_published_last_hour",
        "Posts (thread heads) published in the last hour.",
        n as f64,
    );
    out.family(
        "xmp_publish_lag_seconds",
        "gauge",
        "Publish lag (scheduled time to publication) of the last hour's posts, by quantile (0 when none).",
    );
    out.sample("xmp_publish_lag_seconds", &[("quantile", "0.5")], p50);
    out.sample("xmp_publish_lag_seconds", &[("quantile", "0.99")], p99);
    Ok(())
}

fn attempts(db: &Db, out: &mut Exposition) -> Result<(), AppError> {
    let attempts = db.query_one(
        "SELECT count(*)::int8 AS n FROM post_events WHERE kind = 'attempt'",
        &[],
        |r| r.get::<i64>("n"),
    )?;
    out.family(
        "xmp_publish_attempts_total",
        "counter",
        "Calls to X's create-post endpoint (each recorded before it is sent).",
    );
    out.sample("xmp_publish_attempts_total", &[], attempts as f64);
    Ok(())
}

/// Failed: the post gave up. Retried: a transient X error, tried again later. Deferred: held
/// back for a rate limit, a spent budget, an open breaker or an unavailable account.
fn setbacks(db: &Db, out: &mut Exposition) -> Result<(), AppError> {
    let counts = db.query_all(
        "SELECT CASE WHEN kind = 'failed' THEN 'failed'
                     WHEN details ? 'retry' THEN 'retried'
                     ELSE 'deferred' END AS what,
                coalesce(details->>'cause', 'none') AS cause,
                count(*)::int8 AS n
         FROM post_events WHERE kind IN ('failed', 'deferred')
         GROUP BY 1, 2 ORDER BY 1, 2",
        &[],
        |r| {
            Ok((
                r.get::<String>("what")?,
                r.get::<String>("cause")?,
                r.get::<i64>("n")?,
            ))
        },
    )?;
    for (what, family, label, help) in [
        (
            "failed",
            "xmp_publish_failures_total",
            "x_error",
            "Posts that failed for good, by X error kind (none: not an X error, e.g. the account was removed).",
        ),
        (
            "retried",
            "xmp_publish_retries_total",
            "x_error",
            "Publish attempts that met a transient X error and were scheduled again, by X error kind.",
        ),
        (
            "deferred",
            "xmp_publish_deferrals_total",
            "cause",
            "Posts held back without spending an attempt, by cause (rate_limited, budget, circuit_open, usage_capped, account_unavailable).",
        ),
    ] {
        out.family(family, "counter", help);
        for (_, cause, n) in counts.iter().filter(|(w, _, _)| w == what) {
            out.sample(family, &[(label, cause.as_str())], *n as f64);
        }
    }
    Ok(())
}
