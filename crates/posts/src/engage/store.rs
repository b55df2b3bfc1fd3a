//! The `engagements` table as typed rows: what an action is, where it stands, and the rows the
//! API shows. The scheduler claims and settles due rows with its own statements.

use common::clock::rfc3339;
use common::db::{Db, Param, Row};
use common::error::AppError;
use common::x::Endpoint;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an engagement does at X.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Like,
    Unlike,
    Repost,
    Unrepost,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Like,
        Action::Unlike,
        Action::Repost,
        Action::Unrepost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Like => "like",
            Action::Unlike => "unlike",
            Action::Repost => "repost",
            Action::Unrepost => "unrepost",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.as_str() == s)
    }

    /// Reads an action column; a word outside the table's CHECK is a bug in our SQL.
    pub fn read(row: &Row<'_>, column: &str) -> Result<Action, AppError> {
        let word: String = row.get(column)?;
        Action::parse(&word)
            .ok_or_else(|| AppError::internal(format!("unknown engagement action {word:?}")))
    }

    /// The X endpoint whose rate-limit budget the action spends.
    pub fn endpoint(self) -> Endpoint {
        match self {
            Action::Like => Endpoint::Like,
            Action::Unlike => Endpoint::Unlike,
            Action::Repost => Endpoint::Repost,
            Action::Unrepost => Endpoint::Unrepost,
        }
    }
}

/// Where an engagement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngagementStatus {
    /// Waiting for its time (or for a retry, or a budget).
    Scheduled,
    /// Claimed by a tick, which holds its lease.
    Running,
    Done,
    Failed,
    Cancelled,
}

impl EngagementStatus {
    const ALL: [EngagementStatus; 5] = [
        EngagementStatus::Scheduled,
        EngagementStatus::Running,
        EngagementStatus::Done,
        EngagementStatus::Failed,
        EngagementStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EngagementStatus::Scheduled => "scheduled",
            EngagementStatus::Running => "running",
            EngagementStatus::Done => "done",
            EngagementStatus::Failed => "failed",
            EngagementStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<EngagementStatus> {
        EngagementStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Reads a status column; a word outside the table's CHECK is a bug in our SQL.
    pub fn read(row: &Row<'_>, column: &str) -> Result<EngagementStatus, AppError> {
        let word: String = row.get(column)?;
        EngagementStatus::parse(&word)
            .ok_or_else(|| AppError::internal(format!("unknown engagement status {word:?}")))
    }
}

/// The account that acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRef {
    pub id: Uuid,
    pub username: String,
}

/// An engagement as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Engagement {
    pub id: Uuid,
    pub account: AccountRef,
    pub action: Action,
    /// The X post acted on.
    pub post_id: String,
    pub status: EngagementStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub scheduled_at: String,
    pub done_at: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "e.id, e.account_id, a.username, e.action,
    e.x_post_id, e.status, e.attempts::int8 AS attempts, e.last_error,
    (extract(epoch FROM e.scheduled_at) * 1000)::int8 AS scheduled_ms,
    (extract(epoch FROM e.done_at) * 1000)::int8 AS done_ms,
    (extract(epoch FROM e.created_at) * 1000)::int8 AS created_ms,
    (extract(epoch FROM e.created_at) * 1000000)::int8 AS created_us";

impl Engagement {
    fn from_row(r: &Row<'_>) -> Result<Engagement, AppError> {
        Ok(Engagement {
            id: r.get("id")?,
            account: AccountRef {
                id: r.get("account_id")?,
                username: r.get("username")?,
            },
            action: Action::read(r, "action")?,
            post_id: r.get("x_post_id")?,
            status: EngagementStatus::read(r, "status")?,
            attempts: r.get("attempts")?,
            last_error: r.get("last_error")?,
            scheduled_at: rfc3339(r.get::<i64>("scheduled_ms")?),
            done_at: r.get::<Option<i64>>("done_ms")?.map(rfc3339),
            created_at: rfc3339(r.get::<i64>("created_ms")?),
        })
    }
}

/// A new engagement, `scheduled` at `at_ms`.
pub struct NewEngagement<'a> {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Uuid,
    pub action: Action,
    pub x_post_id: &'a str,
    pub at_ms: i64,
    pub created_by: Uuid,
}

pub fn insert(db: &Db, new: &NewEngagement<'_>) -> Result<(), AppError> {
    db.execute(
        "INSERT INTO engagements (id, workspace_id, account_id, action, x_post_id, status,
           scheduled_at, created_by)
         VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, 'scheduled',
           timestamptz 'epoch' + $6::int8 * interval '1 millisecond', $7::uuid)",
        &[
            Param::from(new.id),
            Param::from(new.workspace_id),
            Param::from(new.account_id),
            Param::Str(new.action.as_str().into()),
            Param::Str(new.x_post_id.into()),
            Param::Int64(new.at_ms),
            Param::from(new.created_by),
        ],
    )?;
    Ok(())
}

/// Records the outcome of an action performed at once: `done` (at `now_ms`) or `failed` with
/// its error, after one attempt.
pub fn record_outcome(
    db: &Db,
    id: Uuid,
    status: EngagementStatus,
    error: Option<String>,
    now_ms: i64,
) -> Result<(), AppError> {
    db.execute(
        "UPDATE engagements SET status = $2, last_error = $3, attempts = 1,
           done_at = CASE WHEN $2 = 'done'
             THEN timestamptz 'epoch' + $4::int8 * interval '1 millisecond' END
         WHERE id = $1::uuid",
        &[
            Param::from(id),
            Param::Str(status.as_str().into()),
            Param::from(error),
            Param::Int64(now_ms),
        ],
    )?;
    Ok(())
}

pub fn get(db: &Db, ws: Uuid, id: Uuid) -> Result<Engagement, AppError> {
    db.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM engagements e JOIN x_accounts a ON a.id = e.account_id
             WHERE e.workspace_id = $1::uuid AND e.id = $2::uuid"
        ),
        &[Param::from(ws), Param::from(id)],
        Engagement::from_row,
    )?
    .ok_or_else(|| AppError::not_found("Engagement"))
}

/// A page of the workspace's engagements, newest first, and the cursor of the next page.
pub fn page(
    db: &Db,
    ws: Uuid,
    limit: usize,
    cursor: Option<(i64, Uuid)>,
) -> Result<(Vec<Engagement>, Option<String>), AppError> {
    let mut rows = db.query_all(
        &format!(
            "SELECT {COLUMNS} FROM engagements e JOIN x_accounts a ON a.id = e.account_id
             WHERE e.workspace_id = $1::uuid
               AND ($2::int8 IS NULL OR (e.created_at, e.id) <
                    (timestamptz 'epoch' + $2::int8 * interval '1 microsecond', $3::uuid))
             ORDER BY e.created_at DESC, e.id DESC LIMIT $4"
        ),
        &[
            Param::from(ws),
            Param::from(cursor.map(|c| c.0)),
            Param::from(cursor.map(|c| c.1)),
            Param::Int64(limit as i64 + 1),
        ],
        |r| Ok((Engagement::from_row(r)?, r.get::<i64>("created_us")?)),
    )?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows
        .last()
        .filter(|_| more)
        .map(|(e, created_us)| common::pagination::encode(*created_us, e.id));
    Ok((rows.into_iter().map(|(e, _)| e).collect(), next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_engagement_serialises_with_every_field_as_the_api_shows_it() {
        let engagement = Engagement {
            id: Uuid::nil(),
            account: AccountRef {
                id: Uuid::nil(),
                username: "acme".into(),
            },
            action: Action::Unrepost,
            post_id: "1234".into(),
            status: EngagementStatus::Failed,
            attempts: 1,
            last_error: Some("X_FORBIDDEN: no".into()),
            scheduled_at: "2026-05-01T07:30:00.000Z".into(),
            done_at: None,
            created_at: "2026-04-30T10:00:00.000Z".into(),
        };
        assert_eq!(
            serde_json::to_value(&engagement).ok(),
            Some(json!({
                "id": Uuid::nil(), "account": { "id": Uuid::nil(), "username": "acme" },
                "action": "unrepost", "postId": "1234", "status": "failed", "attempts": 1,
                "lastError": "X_FORBIDDEN: no", "scheduledAt": "2026-05-01T07:30:00.000Z",
                "doneAt": null, "createdAt": "2026-04-30T10:00:00.000Z"
            }))
        );
    }

    #[test]
    fn actions_and_statuses_read_back_what_they_write() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action), "{action:?}");
            assert_eq!(
                serde_json::to_value(action).ok(),
                Some(json!(action.as_str())),
                "{action:?}"
            );
        }
        for status in EngagementStatus::ALL {
            assert_eq!(
                EngagementStatus::parse(status.as_str()),
                Some(status),
                "{status:?}"
            );
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(json!(status.as_str())),
                "{status:?}"
            );
        }
    }
}
