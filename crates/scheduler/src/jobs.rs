//! `job_runs`: one row per tick (migration 0009), the scheduler's part of GET /api/metrics.

use crate::Report;
use common::db::{Db, Param, Row};
use common::error::AppError;

/// How a tick ended, as `job_runs.outcome` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickOutcome {
    Ok,
    /// The tick stopped at an error (its code is stored beside it).
    Error,
}

impl TickOutcome {
    pub const ALL: [TickOutcome; 2] = [TickOutcome::Ok, TickOutcome::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            TickOutcome::Ok => "ok",
            TickOutcome::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<TickOutcome> {
        TickOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Reads an outcome column; a word this code never writes is a bug in our SQL.
    pub fn read(row: &Row<'_>, column: &str) -> Result<TickOutcome, AppError> {
        let word: String = row.get(column)?;
        TickOutcome::parse(&word)
            .ok_or_else(|| AppError::internal(format!("unknown tick outcome {word:?}")))
    }
}

/// How long tick rows are kept; the metrics look back one hour, the rest is for people.
const KEEP_MS: i64 = 7 * 24 * 3_600_000;

/// Records one tick. A failure to record is logged and otherwise ignored: the tick's own
/// outcome is what the caller needs, and a database that refuses this insert has already
/// failed the tick (whose missing row the scheduler alert notices).
pub fn record_tick(
    db: &Db,
    owner: &str,
    started_ms: i64,
    finished_ms: i64,
    result: &Result<Report, AppError>,
) {
    let (outcome, code, report) = match result {
        Ok(report) => (
            TickOutcome::Ok,
            Param::DbNull,
            serde_json::to_string(report).unwrap_or_else(|_| "{}".into()),
        ),
        Err(e) => (
            TickOutcome::Error,
            Param::Str(e.code.to_string()),
            "{}".into(),
        ),
    };
    let written = db.execute(
        "WITH expired AS (
           DELETE FROM job_runs WHERE job = 'scheduler_tick'
             AND started_at < timestamptz 'epoch' + ($3::int8 - $7::int8) * interval '1 millisecond')
         INSERT INTO job_runs (job, owner, started_at, finished_at, outcome, error_code, report)
         VALUES ('scheduler_tick', $1,
                 timestamptz 'epoch' + $2::int8 * interval '1 millisecond',
                 timestamptz 'epoch' + $3::int8 * interval '1 millisecond',
                 $4, $5, $6::text::jsonb)",
        &[
            Param::Str(owner.into()),
            Param::Int64(started_ms),
            Param::Int64(finished_ms.max(started_ms)),
            Param::Str(outcome.as_str().into()),
            code,
            Param::Str(report),
            Param::Int64(KEEP_MS),
        ],
    );
    if let Err(e) = written {
        common::log::emit(
            common::log::Level::Error,
            owner,
            "could not record the scheduler tick in job_runs",
            serde_json::json!({
                "code": e.code,
                "fingerprint": e.fingerprint(),
                "cause": e.cause.as_deref().unwrap_or(e.message.as_str()),
            }),
        );
    }
}
