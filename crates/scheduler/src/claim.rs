//! Claiming work: due posts and expired leases, atomically (`FOR UPDATE SKIP LOCKED`), so any
//! number of ticks and instances can run at once without two of them holding the same post.

use common::db::{Db, Param, Row};
use common::error::AppError;
use uuid::Uuid;

/// A claimed thread head.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Option<Uuid>,
    pub attempts: i64,
    /// Claimed from an expired lease: an earlier tick may have sent it; reconcile first.
    pub recovered: bool,
}

/// What both claims answer for each post they take.
const RETURNING_CLAIMED: &str = "RETURNING posts.id, posts.workspace_id,
                   posts.account_id, posts.attempts::int8 AS attempts";

/// `$1` now, `$2` the lease owner, `$3` the lease's end, `$4` how many to take.
fn lease_params(owner: &str, now_ms: i64, lease_until_ms: i64, limit: i64) -> [Param; 4] {
    [
        ms(now_ms),
        Param::Str(owner.into()),
        ms(lease_until_ms),
        Param::Int64(limit),
    ]
}

fn ms(p: i64) -> Param {
    Param::Int64(p)
}

impl Claimed {
    /// Decodes one row of [`RETURNING_CLAIMED`].
    fn from_row(r: &Row<'_>, recovered: bool) -> Result<Claimed, AppError> {
        Ok(Claimed {
            id: r.get("id")?,
            workspace_id: r.get("workspace_id")?,
            account_id: r.get("account_id")?,
            attempts: r.get("attempts")?,
            recovered,
        })
    }
}

/// Claims up to `limit` due posts for `owner` until `lease_until_ms`. Accounts take turns: the
/// first due post of every account comes before the second of any, so one busy account cannot
/// starve the others of a shared budget.
pub fn due(
    db: &Db,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>, AppError> {
    db.query_all(
        &format!(
            "WITH due AS (
           SELECT id, coalesce(next_attempt_at, scheduled_at) AS due_at,
                  row_number() OVER (PARTITION BY account_id
                                     ORDER BY coalesce(next_attempt_at, scheduled_at), id) AS turn
           FROM (SELECT id, account_id, next_attempt_at, scheduled_at FROM posts
                 WHERE status = 'scheduled'
                   AND coalesce(next_attempt_at, scheduled_at)
                       <= timestamptz 'epoch' + $1::int8 * interval '1 millisecond'
                   AND thread_position = 0
                 ORDER BY coalesce(next_attempt_at, scheduled_at)
                 LIMIT $4::int8 * 20) candidates
         ), picked AS (
           -- Each candidate in turn order, locked through its primary key until $4 are held:
           -- only those are locked, and a join PostgreSQL might plan as a scan of the whole
           -- table (it did, on stale statistics mid-drain: 6 ms a claim) cannot happen.
           SELECT p.id FROM (SELECT id FROM due ORDER BY turn, due_at, id) d,
             LATERAL (SELECT id FROM posts WHERE posts.id = d.id AND status = 'scheduled'
                      FOR UPDATE SKIP LOCKED) p
           LIMIT $4
         )
         UPDATE posts SET status = 'publishing', lease_owner = $2,
           lease_expires_at = timestamptz 'epoch' + $3::int8 * interval '1 millisecond'
         FROM picked WHERE posts.id = picked.id
         {RETURNING_CLAIMED}"
        ),
        &lease_params(owner, now_ms, lease_until_ms, limit),
        |r| Claimed::from_row(r, false),
    )
}

/// Takes over posts whose lease ran out (their tick died or stalled).
pub fn expired(
    db: &Db,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>, AppError> {
    db.query_all(
        &format!(
            "WITH picked AS (
           SELECT id FROM posts
           WHERE status = 'publishing'
             AND lease_expires_at < timestamptz 'epoch' + $1::int8 * interval '1 millisecond'
             AND thread_position = 0
           ORDER BY lease_expires_at LIMIT $4
           FOR UPDATE SKIP LOCKED
         )
         UPDATE posts SET lease_owner = $2,
           lease_expires_at = timestamptz 'epoch' + $3::int8 * interval '1 millisecond'
         FROM picked WHERE posts.id = picked.id
         {RETURNING_CLAIMED}"
        ),
        &lease_params(owner, now_ms, lease_until_ms, limit),
        |r| Claimed::from_row(r, true),
    )
}
