//! Reads of X (calls and the objects they returned) per workspace and UTC day, which the
//! monthly read budget is measured against.

use super::ts;
use common::db::{Db, Param};
use common::error::AppError;
use uuid::Uuid;

/// Counts collection reads (calls to X and the objects they returned) for a workspace's UTC day.
pub fn count_reads(
    db: &Db,
    workspace: Uuid,
    now_ms: i64,
    calls: i64,
    objects: i64,
) -> Result<(), AppError> {
    db.execute(
        &format!(
            "INSERT INTO analytics_reads AS r (workspace_id, day, calls, objects)
             VALUES ($1, ({} AT TIME ZONE 'UTC')::date, $3, $4)
             ON CONFLICT (workspace_id, day) DO UPDATE
               SET calls = r.calls + excluded.calls, objects = r.objects + excluded.objects",
            ts(2)
        ),
        &[
            workspace.into(),
            Param::Int64(now_ms),
            Param::Int64(calls),
            Param::Int64(objects),
        ],
    )?;
    Ok(())
}

/// Reads of every workspace in the UTC month of `now_ms`, and how much of that month has
/// passed (0..1).
pub fn month_reads(db: &Db, now_ms: i64) -> Result<(i64, f64), AppError> {
    db.query_one(
        &format!(
            "WITH m AS (SELECT date_trunc('month', {now} AT TIME ZONE 'UTC') AS start)
             SELECT coalesce((SELECT sum(calls) FROM analytics_reads, m
                              WHERE day >= m.start::date
                                AND day < (m.start + interval '1 month')::date), 0)::int8 AS used,
               (extract(epoch FROM ({now} AT TIME ZONE 'UTC') - m.start)
                 / extract(epoch FROM (m.start + interval '1 month') - m.start))::float8
                 AS elapsed
             FROM m",
            now = ts(1)
        ),
        &[Param::Int64(now_ms)],
        |r| Ok((r.get("used")?, r.get("elapsed")?)),
    )
}
