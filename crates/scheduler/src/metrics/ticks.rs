//! What the scheduler's ticks did, from their `job_runs` rows: how many ran in the last hour
//! and how long they took, the token refreshes they made, and when the last ones ran.

use super::exposition::{seconds, Exposition};
use super::HOUR_MS;
use crate::jobs::TickOutcome;
use common::db::{Db, Param};
use common::error::AppError;

/// The outcomes of token refreshes, as the tick's report counts them.
const REFRESH_OUTCOMES: [&str; 4] = ["refreshed", "skipped", "failed", "needs_reauth"];

pub(super) fn render(db: &Db, now_ms: i64, out: &mut Exposition) -> Result<(), AppError> {
    let recent = last_hour(db, now_ms)?;
    counts(&recent, out);
    durations(&recent, out);
    token_refreshes(&recent, out);
    last_runs(db, out)?;
    out.gauge(
        "xmp_metrics_generated_timestamp_seconds",
        "The instant these metrics describe (Unix seconds).",
        seconds(now_ms),
    );
    Ok(())
}

/// The last hour's ticks of one outcome.
struct Recent {
    outcome: TickOutcome,
    runs: i64,
    p50: f64,
    p99: f64,
    longest: f64,
    /// Token refreshes by [`REFRESH_OUTCOMES`].
    tokens: [i64; 4],
}

fn last_hour(db: &Db, now_ms: i64) -> Result<Vec<Recent>, AppError> {
    db.query_all(
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
        &[Param::Int64(now_ms), Param::Int64(HOUR_MS)],
        |r| {
            Ok(Recent {
                outcome: TickOutcome::read(r, "outcome")?,
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
            })
        },
    )
}

fn counts(recent: &[Recent], out: &mut Exposition) {
    out.family(
        "xmp_scheduler_ticks_last_hour",
        "gauge",
        "Scheduler ticks started in the last hour, by outcome.",
    );
    for outcome in TickOutcome::ALL {
        let n = recent
            .iter()
            .find(|r| r.outcome == outcome)
            .map_or(0, |r| r.runs);
        out.sample(
            "xmp_scheduler_ticks_last_hour",
            &[("outcome", outcome.as_str())],
            n as f64,
        );
    }
}

fn durations(recent: &[Recent], out: &mut Exposition) {
    let ok = recent.iter().find(|r| r.outcome == TickOutcome::Ok);
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
}

fn token_refreshes(recent: &[Recent], out: &mut Exposition) {
    out.family(
        "xmp_token_refreshes_last_hour",
        "gauge",
        "OAuth 2.0 token refreshes the scheduler's ticks made in the last hour, by outcome.",
    );
    for (i, outcome) in REFRESH_OUTCOMES.iter().enumerate() {
        let n: i64 = recent
            .iter()
            .map(|r| r.tokens.get(i).copied().unwrap_or(0))
            .sum();
        out.sample(
            "xmp_token_refreshes_last_hour",
            &[("outcome", *outcome)],
            n as f64,
        );
    }
}

/// When the last successful tick finished and the last tick of any outcome started.
fn last_runs(db: &Db, out: &mut Exposition) -> Result<(), AppError> {
    let (last_ok, last_run) = db.query_one(
        "SELECT (SELECT coalesce(extract(epoch FROM max(finished_at)) * 1000, 0)::int8
                 FROM job_runs WHERE job = 'scheduler_tick' AND outcome = 'ok') AS last_ok,
                (SELECT coalesce(extract(epoch FROM max(started_at)) * 1000, 0)::int8
                 FROM job_runs WHERE job = 'scheduler_tick') AS last_run",
        &[],
        |r| Ok((r.get::<i64>("last_ok")?, r.get::<i64>("last_run")?)),
    )?;
    out.gauge(
        "xmp_scheduler_last_success_timestamp_seconds",
        "When the last successful tick finished (Unix seconds; 0: never).",
        seconds(last_ok),
    );
    out.gauge(
        "xmp_scheduler_last_run_timestamp_seconds",
        "When the last tick started, whatever its outcome (Unix seconds; 0: never).",
        seconds(last_run),
    );
    Ok(())
}
