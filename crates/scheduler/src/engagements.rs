//! Due engagements (like, unlike, repost, unrepost), claimed like posts and run under the same
//! budget rules. These actions are idempotent at X, so an expired claim is simply run again.

use accounts::refresh::RefreshError;
use accounts::{self, AccountStatus, AccountsConfig};
use chrono::DateTime;
use common::db::{Db, Param};
use common::error::AppError;
use common::x::{Budgets, XError};
use identity::audit::Meta;
use posts::engage::{self, Action, EngagementStatus};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub done: u32,
    pub deferred: u32,
    pub failed: u32,
}

const MAX_ATTEMPTS: i64 = 5;

/// A claimed engagement.
struct Due {
    id: Uuid,
    ws: Uuid,
    account: Uuid,
    action: Action,
    x_post_id: String,
    /// Counting this one.
    attempts: i64,
}

fn claim(db: &Db, owner: &str, now_ms: i64, limit: i64) -> Result<Vec<Due>, AppError> {
    db.query_all(
        "WITH picked AS (
           SELECT id FROM engagements
           WHERE (status = 'scheduled'
                  AND coalesce(next_attempt_at, scheduled_at)
                      <= timestamptz 'epoch' + $1::int8 * interval '1 millisecond')
              OR (status = 'running'
                  AND lease_expires_at < timestamptz 'epoch' + $1::int8 * interval '1 millisecond')
           ORDER BY coalesce(next_attempt_at, scheduled_at) LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         UPDATE engagements e SET status = 'running', lease_owner = $2,
           lease_expires_at = timestamptz 'epoch' + ($1::int8 + 60000) * interval '1 millisecond',
           attempts = attempts + 1
         FROM picked WHERE e.id = picked.id
         RETURNING e.id, e.workspace_id, e.account_id, e.action, e.x_post_id,
                   e.attempts::int8 AS attempts",
        &[
            Param::Int64(now_ms),
            Param::Str(owner.into()),
            Param::Int64(limit),
        ],
        |r| {
            Ok(Due {
                id: r.get("id")?,
                ws: r.get("workspace_id")?,
                account: r.get("account_id")?,
                action: Action::read(r, "action")?,
                x_post_id: r.get("x_post_id")?,
                attempts: r.get("attempts")?,
            })
        },
    )
}

/// How a claimed engagement ends this tick.
enum Settle {
    Done,
    Failed(String),
    /// Waiting for an X budget or an open breaker: back to `scheduled`, the attempt given back.
    Deferred {
        until_ms: i64,
    },
    /// A transient failure, tried again at `at_ms`.
    Retry {
        at_ms: i64,
        error: String,
    },
}

impl Settle {
    /// How an attempt that X answered (or that never reached X) ends.
    fn after(result: Result<(), XError>, attempts: i64, now_ms: i64) -> Settle {
        match result {
            Ok(()) => Settle::Done,
            Err(XError::Deferred { until } | XError::CircuitOpen { until })
            | Err(XError::RateLimited {
                reset_at: until, ..
            }) => Settle::Deferred {
                until_ms: until.timestamp_millis(),
            },
            Err(err) if err.is_transient() && attempts < MAX_ATTEMPTS => Settle::Retry {
                at_ms: now_ms + (30_000 << (attempts - 1).clamp(0, 10)),
                error: err.to_string(),
            },
            Err(err) => Settle::Failed(err.to_string()),
        }
    }

    fn count(&self, summary: &mut Summary) {
        match self {
            Settle::Done => summary.done += 1,
            Settle::Failed(_) => summary.failed += 1,
            Settle::Deferred { .. } | Settle::Retry { .. } => summary.deferred += 1,
        }
    }
}

/// Releases a claimed engagement (only while this tick still holds it).
fn settle(db: &Db, owner: &str, id: Uuid, how: Settle, now_ms: i64) -> Result<(), AppError> {
    let (status, error, next_ms, refund) = match how {
        Settle::Done => (EngagementStatus::Done, None, None, false),
        Settle::Failed(error) => (EngagementStatus::Failed, Some(error), None, false),
        Settle::Deferred { until_ms } => (EngagementStatus::Scheduled, None, Some(until_ms), true),
        Settle::Retry { at_ms, error } => {
            (EngagementStatus::Scheduled, Some(error), Some(at_ms), false)
        }
    };
    db.execute(
        "UPDATE engagements SET status = $3, last_error = $4, lease_owner = NULL,
           lease_expires_at = NULL,
           next_attempt_at = CASE WHEN $5::int8 IS NULL THEN next_attempt_at
             ELSE timestamptz 'epoch' + $5::int8 * interval '1 millisecond' END,
           attempts = CASE WHEN $6 THEN greatest(attempts - 1, 0) ELSE attempts END,
           done_at = CASE WHEN $3 = 'done'
             THEN timestamptz 'epoch' + $7::int8 * interval '1 millisecond' END
         WHERE id = $1::uuid AND lease_owner = $2 AND status = 'running'",
        &[
            Param::from(id),
            Param::Str(owner.into()),
            Param::Str(status.as_str().into()),
            Param::from(error),
            Param::from(next_ms),
            Param::Boolean(refund),
            Param::Int64(now_ms),
        ],
    )?;
    Ok(())
}

/// Runs due engagements in batches of ten until none is due or `deadline` has passed.
pub async fn run_due(
    db: &Db,
    cfg: &AccountsConfig,
    budgets: &Budgets,
    owner: &str,
    clock: &dyn Fn() -> i64,
    deadline: i64,
) -> Result<Summary, AppError> {
    let mut summary = Summary::default();
    while clock() < deadline {
        let batch = claim(db, owner, clock(), 10)?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
            let now_ms = clock();
            if let Some(how) = run_one(db, cfg, budgets, &e, now_ms).await? {
                how.count(&mut summary);
                settle(db, owner, e.id, how, now_ms)?;
            }
        }
    }
    Ok(summary)
}

/// Performs one claimed engagement: how it ends, or `None` when its account could not be read
/// (the claim then runs out and a later tick takes it again).
async fn run_one(
    db: &Db,
    cfg: &AccountsConfig,
    budgets: &Budgets,
    e: &Due,
    now_ms: i64,
) -> Result<Option<Settle>, AppError> {
    let now = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    let account = match accounts::store::get(db, e.ws, e.account) {
        Ok(a) if a.status == AccountStatus::Active => a,
        Ok(a) => {
            let why = format!("the account is {}", a.status.as_str());
            return Ok(Some(Settle::Failed(why)));
        }
        Err(_) => return Ok(None),
    };
    if let Err(wait) = budgets.may_call(&account.id.to_string(), e.action.endpoint(), now) {
        let until_ms = wait.until.timestamp_millis();
        return Ok(Some(Settle::Deferred { until_ms }));
    }
    let result = match accounts::refresh::client_for(db, cfg, &Meta::default(), &account, now_ms)
        .await
    {
        Ok(client) => engage::perform(&client, &account.x_user_id, e.action, &e.x_post_id).await,
        // X's own answer decides as it does for the action itself (a 5xx retries, a 429
        // defers); a failure of ours ends the engagement with its public message.
        Err(RefreshError::X { error, .. }) => Err(error),
        Err(RefreshError::Ours(err)) => Err(XError::Unauthorized {
            detail: err.public_message().to_string(),
        }),
    };
    Ok(Some(Settle::after(result, e.attempts, now_ms)))
}
