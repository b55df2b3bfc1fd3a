//! GET /api/metrics: what the platform is doing, in Prometheus' text format (0.0.4), built
//! only from shared state in PostgreSQL. Each request is a fresh instance, so nothing can be
//! counted in memory: counters are counts of append-only history (`post_events`), gauges are
//! counts of current rows (`posts`, `x_accounts`) or of the last hour of `job_runs`.
//!
//! Request rates and latencies are not here: Spin's own OpenTelemetry export measures every
//! request (see README "Deploy").

use common::db::{Db, Param};
use common::error::AppError;
use std::fmt::Write;

/// The Content-Type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every post status, so each is exported (as 0 when there are none).
const POST_STATUSES: [&str; 6] = [
    "draft",
    "scheduled",
    "publishing",
    "published",
    "failed",
    "cancelled",
];
const ACCOUNT_STATUSES: [&str; 4] = ["active", "needs_reauth", "paused", "suspended"];
const REFRESH_OUTCOMES: [&str; 4] = ["refreshed", "skipped", "failed", "needs_reauth"];
const TICK_OUTCOMES: [&str; 2] = ["ok", "error"];
const HOUR_MS: i64 = 3_600_000;

/// Renders every metric as of `now_ms`.
pub fn render(db: &Db, now_ms: i64) -> Result<String, AppError> {
    let mut out = Exposition::default();
    posts(db, now_ms, &mut out)?;
    publishing(db, now_ms, &mut out)?;
    accounts(db, &mut out)?;
    scheduler(db, now_ms, &mut out)?;
    Ok(out.0)
}

fn now(now_ms: i64) -> Param {
    Param::Int64(now_ms)
}

fn posts(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    by_status(
        db,
        "SELECT status, count(*)::int8 AS n FROM posts GROUP BY status",
        (
            "xmp_posts",
            "Posts by status (every part of a thread counts).",
        ),
        &POST_STATUSES,
        out,
    )?;

    // The same condition as the scheduler's claim (claim::due): thread heads whose time came.
    let rows = db.query(
        "SELECT count(*)::int8 AS n,
                coalesce(min(extract(epoch FROM coalesce(next_attempt_at, scheduled_at)) * 1000),
                         $1::int8)::int8 AS oldest_ms
         FROM posts
         WHERE status = 'scheduled' AND thread_position = 0
           AND coalesce(next_attempt_at, scheduled_at)
               <= timestamptz 'epoch' + $1::int8 * interval '1 millisecond'",
        &[now(now_ms)],
    )?;
    let (due, oldest_ms) = match rows.first() {
        Some(r) => (r.get::<i64>("n")?, r.get::<i64>("oldest_ms")?),
        None => (0, now_ms),
    };
    out.family(
        "xmp_posts_due",
        "gauge",
        "Scheduled posts (thread heads) whose time has come and that no tick has claimed yet.",
    );
    out.sample("xmp_posts_due", &[], due as f64);
    out.family(
        "xmp_posts_oldest_due_age_seconds",
        "gauge",
        "How long the oldest due post has waited to be claimed (0 when none is due).",
    );
    out.sample(
        "xmp_posts_oldest_due_age_seconds",
        &[],
        seconds(now_ms - oldest_ms),
    );
    Ok(())
}

fn publishing(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    let rows = db.query(
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
        &[now(now_ms), Param::Int64(HOUR_MS)],
    )?;
    let (n, p50, p99) = match rows.first() {
        Some(r) => (
            r.get::<i64>("n")?,
            r.get::<f64>("p50")?,
            r.get::<f64>("p99")?,
        ),
        None => (0, 0.0, 0.0),
    };
    out.family(
        "xmp_posts_published_last_hour",
        "gauge",
        "Posts (thread heads) published in the last hour.",
    );
    out.sample("xmp_posts_published_last_hour", &[], n as f64);
    out.family(
        "xmp_publish_lag_seconds",
        "gauge",
        "Publish lag (scheduled time to publication) of the last hour's posts, by quantile (0 when none).",
    );
    out.sample("xmp_publish_lag_seconds", &[("quantile", "0.5")], p50);
    out.sample("xmp_publish_lag_seconds", &[("quantile", "0.99")], p99);

    let rows = db.query(
        "SELECT count(*)::int8 AS n FROM post_events WHERE kind = 'attempt'",
        &[],
    )?;
    let attempts = match rows.first() {
        Some(r) => r.get::<i64>("n")?,
        None => 0,
    };
    out.family(
        "xmp_publish_attempts_total",
        "counter",
        "Calls to X's create-post endpoint (each recorded before it is sent).",
    );
    out.sample("xmp_publish_attempts_total", &[], attempts as f64);

    // Failed: the post gave up. Retried: a transient X error, tried again later. Deferred: held
    // back for a rate limit, a spent budget, an open breaker or an unavailable account.
    let rows = db.query(
        "SELECT CASE WHEN kind = 'failed' THEN 'failed'
                     WHEN details ? 'retry' THEN 'retried'
                     ELSE 'deferred' END AS what,
                coalesce(details->>'cause', 'none') AS cause,
                count(*)::int8 AS n
         FROM post_events WHERE kind IN ('failed', 'deferred')
         GROUP BY 1, 2 ORDER BY 1, 2",
        &[],
    )?;
    let mut by_what: Vec<(String, String, i64)> = Vec::new();
    for r in rows.iter() {
        by_what.push((r.get("what")?, r.get("cause")?, r.get("n")?));
    }
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
        for (_, cause, n) in by_what.iter().filter(|(w, _, _)| w == what) {
            out.sample(family, &[(label, cause.as_str())], *n as f64);
        }
    }
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
    let rows = db.query(sql, &[])?;
    let mut counts = Vec::new();
    for r in rows.iter() {
        counts.push((r.get::<String>("status")?, r.get::<i64>("n")?));
    }
    out.family(name, "gauge", help);
    for status in statuses {
        let n = counts.iter().find(|(s, _)| s == status).map_or(0, |c| c.1);
        out.sample(name, &[("status", status)], n as f64);
    }
    Ok(())
}

fn scheduler(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    let rows = db.query(
        "SELECT outcome, count(*)::int8 AS n,
                coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY secs), 0)::float8 AS p50,
                coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY secs), 0)::float8 AS p99,
                coalesce(max(secs), 0)::float8 AS longest,
                coalesce(sum((report->'tokens'->>'refreshed')::int8), 0)::int8 AS refreshed,
                coalesce(sum((report->'tokens'->>'skipped')::int8), 0)::int8 AS skipped,
                coalesce(sum((report->'tokens'->>'failed')::int8), 0)::int8 AS failed,
                coalesce(sum((report->'tokens'->>'needsReauth')::int8), 0)::int8 AS needs_reauth
         FROM (SELECT outcome, report,
                      extract(epoch FROM finished_at - started_at)::float8 AS secs
               FROM job_runs
               WHERE job = 'scheduler_tick'
                 AND started_at > timestamptz 'epoch' + ($1::int8 - $2::int8) * interval '1 millisecond'
              ) recent
         GROUP BY outcome",
        &[now(now_ms), Param::Int64(HOUR_MS)],
    )?;
    struct Outcome {
        name: String,
        runs: i64,
        p50: f64,
        p99: f64,
        longest: f64,
        tokens: [i64; 4],
    }
    let mut outcomes = Vec::new();
    for r in rows.iter() {
        outcomes.push(Outcome {
            name: r.get("outcome")?,
            runs: r.get("n")?,
            p50: r.get("p50")?,
            p99: r.get("p99")?,
            longest: r.get("longest")?,
            tokens: [
                r.get("refreshed")?,
                r.get("skipped")?,
                r.get("failed")?,
                r.get("needs_reauth")?,
            ],
        });
    }
    out.family(
        "xmp_scheduler_ticks_last_hour",
        "gauge",
        "Scheduler ticks started in the last hour, by outcome.",
    );
    for outcome in TICK_OUTCOMES {
        let n = outcomes
            .iter()
            .find(|o| o.name == outcome)
            .map_or(0, |o| o.runs);
        out.sample(
            "xmp_scheduler_ticks_last_hour",
            &[("outcome", outcome)],
            n as f64,
        );
    }
    let ok = outcomes.iter().find(|o| o.name == "ok");
    out.family(
        "xmp_scheduler_tick_duration_seconds",
        "gauge",
        "Duration of the last hour's successful ticks: quantile 0.5, 0.99 and the longest (1).",
    );
    for (q, v) in [
        ("0.5", ok.map_or(0.0, |o| o.p50)),
        ("0.99", ok.map_or(0.0, |o| o.p99)),
        ("1", ok.map_or(0.0, |o| o.longest)),
    ] {
        out.sample("xmp_scheduler_tick_duration_seconds", &[("quantile", q)], v);
    }
    out.family(
        "xmp_token_refreshes_last_hour",
        "gauge",
        "OAuth 2.0 token refreshes the scheduler's ticks made in the last hour, by outcome.",
    );
    for (i, outcome) in REFRESH_OUTCOMES.iter().enumerate() {
        let n: i64 = outcomes
            .iter()
            .map(|o| o.tokens.get(i).copied().unwrap_or(0))
            .sum();
        out.sample(
            "xmp_token_refreshes_last_hour",
            &[("outcome", *outcome)],
            n as f64,
        );
    }

    let rows = db.query(
        "SELECT (SELECT coalesce(extract(epoch FROM max(finished_at)) * 1000, 0)::int8
                 FROM job_runs WHERE job = 'scheduler_tick' AND outcome = 'ok') AS last_ok,
                (SELECT coalesce(extract(epoch FROM max(started_at)) * 1000, 0)::int8
                 FROM job_runs WHERE job = 'scheduler_tick') AS last_run",
        &[],
    )?;
    let (last_ok, last_run) = match rows.first() {
        Some(r) => (r.get::<i64>("last_ok")?, r.get::<i64>("last_run")?),
        None => (0, 0),
    };
    out.family(
        "xmp_scheduler_last_success_timestamp_seconds",
        "gauge",
        "When the last successful tick finished (Unix seconds; 0: never).",
    );
    out.sample(
        "xmp_scheduler_last_success_timestamp_seconds",
        &[],
        seconds(last_ok),
    );
    out.family(
        "xmp_scheduler_last_run_timestamp_seconds",
        "gauge",
        "When the last tick started, whatever its outcome (Unix seconds; 0: never).",
    );
    out.sample(
        "xmp_scheduler_last_run_timestamp_seconds",
        &[],
        seconds(last_run),
    );
    out.family(
        "xmp_metrics_generated_timestamp_seconds",
        "gauge",
        "The instant these metrics describe (Unix seconds).",
    );
    out.sample(
        "xmp_metrics_generated_timestamp_seconds",
        &[],
        seconds(now_ms),
    );
    Ok(())
}

fn seconds(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

/// The text exposition format: `# HELP` and `# TYPE` once per family, then its samples.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape(help, false));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v, true)))
                .collect();
            let _ = write!(self.0, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }
}

/// Escapes `\` and newlines (and `"` in label values), as the format requires.
fn escape(s: &str, label: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if label => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_follow_the_text_format() {
        let mut out = Exposition::default();

        out.family("xmp_x", "gauge", "Line one\nline \\two");
        out.sample("xmp_x", &[("a", "q\"uote"), ("b", "back\\slash\n")], 1.5);
        out.sample("xmp_x", &[], 0.0);

        assert_eq!(
            out.0,
            "# HELP xmp_x Line one\\nline \\\\two\n# TYPE xmp_x gauge\n\
             xmp_x{a=\"q\\\"uote\",b=\"back\\\\slash\\n\"} 1.5\nxmp_x 0\n"
        );
    }
}
