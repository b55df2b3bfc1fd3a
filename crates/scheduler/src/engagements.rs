//! Due engagements (like, unlike, repost, unrepost), claimed like posts and run under the same
//! budget rules. These actions are idempotent at X, so an expired claim is simply run again.

use accounts::{self, AccountsConfig};
use chrono::DateTime;
use common::db::{Db, Param};
use common::error::AppError;
use common::x::{Budgets, Endpoint, XError};
use identity::audit::Meta;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub done: u32,
    pub deferred: u32,
    pub failed: u32,
}

const MAX_ATTEMPTS: i64 = 5;

struct Due {
    id: Uuid,
    ws: Uuid,
    account: Uuid,
    action: String,
    x_post_id: String,
    attempts: i64,
}

fn claim(db: &Db, owner: &str, now_ms: i64, limit: i64) -> Result<Vec<Due>, AppError> {
    let rows = db.query(
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
         RETURNING e.id::text AS id, e.workspace_id::text AS ws, e.account_id::text AS account,
                   e.action, e.x_post_id, e.attempts::int8 AS attempts",
        &[
            Param::Int64(now_ms),
            Param::Str(owner.into()),
            Param::Int64(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            let uuid = |s: String| Uuid::parse_str(&s).map_err(AppError::internal);
            Ok(Due {
                id: uuid(r.get("id")?)?,
                ws: uuid(r.get("ws")?)?,
                account: uuid(r.get("account")?)?,
                action: r.get("action")?,
                x_post_id: r.get("x_post_id")?,
                attempts: r.get("attempts")?,
            })
        })
        .collect()
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

/// Releases a claimed engagement (only while this tick still holds it).
fn settle(db: &Db, owner: &str, id: Uuid, how: Settle, now_ms: i64) -> Result<(), AppError> {
    let (status, error, next_ms, refund) = match how {
        Settle::Done => ("done", None, None, false),
        Settle::Failed(error) => ("failed", Some(error), None, false),
        Settle::Deferred { until_ms } => ("scheduled", None, Some(until_ms), true),
        Settle::Retry { at_ms, error } => ("scheduled", Some(error), Some(at_ms), false),
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
            Param::Uuid(id.to_string()),
            Param::Str(owner.into()),
            Param::Str(status.into()),
            error.map(Param::Str).unwrap_or(Param::DbNull),
            next_ms.map(Param::Int64).unwrap_or(Param::DbNull),
            Param::Boolean(refund),
            Param::Int64(now_ms),
        ],
    )?;
    Ok(())
}

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
            let now = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
            let endpoint = match e.action.as_str() {
                "like" => Endpoint::Like,
                "unlike" => Endpoint::Unlike,
                "repost" => Endpoint::Repost,
                _ => Endpoint::Unrepost,
            };
            let account = match accounts::store::get(db, e.ws, e.account) {
                Ok(a) if a.status == accounts::AccountStatus::Active => a,
                Ok(a) => {
                    let why = format!("the account is {}", a.status);
                    settle(db, owner, e.id, Settle::Failed(why), now_ms)?;
                    summary.failed += 1;
                    continue;
                }
                Err(_) => continue,
            };
            if let Err(wait) = budgets.may_call(&account.id.to_string(), endpoint, now) {
                let until = wait.until.timestamp_millis();
                settle(
                    db,
                    owner,
                    e.id,
                    Settle::Deferred { until_ms: until },
                    now_ms,
                )?;
                summary.deferred += 1;
                continue;
            }
            let result =
                match accounts::refresh::client_for(db, cfg, &Meta::default(), &account, now_ms)
                    .await
                {
                    Ok(client) => {
                        let me = account.x_user_id.as_str();
                        let r = match endpoint {
                            Endpoint::Like => client.like(me, &e.x_post_id).await,
                            Endpoint::Unlike => client.unlike(me, &e.x_post_id).await,
                            Endpoint::Repost => client.repost(me, &e.x_post_id).await,
                            _ => client.unrepost(me, &e.x_post_id).await,
                        };
                        r.map(|_| ())
                    }
                    Err(err) => Err(XError::Unauthorized {
                        detail: err.public_message().to_string(),
                    }),
                };
            match result {
                Ok(()) => {
                    settle(db, owner, e.id, Settle::Done, now_ms)?;
                    summary.done += 1;
                }
                Err(XError::Deferred { until } | XError::CircuitOpen { until })
                | Err(XError::RateLimited {
                    reset_at: until, ..
                }) => {
                    let until = until.timestamp_millis();
                    settle(
                        db,
                        owner,
                        e.id,
                        Settle::Deferred { until_ms: until },
                        now_ms,
                    )?;
                    summary.deferred += 1;
                }
                Err(err) if err.is_transient() && e.attempts < MAX_ATTEMPTS => {
                    let next = now_ms + (30_000 << (e.attempts - 1).clamp(0, 10));
                    let retry = Settle::Retry {
                        at_ms: next,
                        error: err.to_string(),
                    };
                    settle(db, owner, e.id, retry, now_ms)?;
                    summary.deferred += 1;
                }
                Err(err) => {
                    settle(db, owner, e.id, Settle::Failed(err.to_string()), now_ms)?;
                    summary.failed += 1;
                }
            }
        }
    }
    Ok(summary)
}
