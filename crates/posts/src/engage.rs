//! Engagement actions (like, unlike, repost, unrepost) by one of the workspace's accounts on an
//! X post: run now through the X client, or stored with a time for the scheduler. Every action
//! is a row in `engagements`, whatever its outcome.

use crate::compose::{parse_instant, XId, CLOCK_SKEW_SECONDS, MAX_DAYS_AHEAD};
use accounts::{self, AccountsConfig};
use chrono::DateTime;
use common::clock::rfc3339;
use common::db::{Db, Param, Row};
use common::error::{AppError, Code};
use common::pagination;
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Like,
    Unlike,
    Repost,
    Unrepost,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Like => "like",
            Action::Unlike => "unlike",
            Action::Repost => "repost",
            Action::Unrepost => "unrepost",
        }
    }
}

/// `POST /api/engagements`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngagementBody {
    pub account_id: Option<String>,
    pub action: Action,
    pub post_id: String,
    pub scheduled_at: Option<String>,
}

fn field(field: &str, message: &str) -> AppError {
    AppError::validation(message)
        .with_details(json!({ "errors": [{ "field": field, "message": message }] }))
}

/// The named account, else the caller's active one (422 when neither exists).
fn account(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    named: Option<&str>,
) -> Result<accounts::Account, AppError> {
    let id = match named {
        Some(s) => Uuid::parse_str(s.trim()).map_err(|_| field("accountId", "must be a UUID"))?,
        None => accounts::store::active(db, ws, caller.user.id)?
            .ok_or_else(|| field("accountId", "required (no active account)"))?,
    };
    accounts::store::get(db, ws, id)
        .map_err(|_| field("accountId", "not an account of this workspace"))
}

pub async fn create(
    env: &Env,
    caller: &Caller,
    body: EngagementBody,
) -> Result<(u16, Value), AppError> {
    let ws = caller.acting_workspace()?;
    let post = XId::parse(body.post_id.trim())
        .ok_or_else(|| field("postId", "must be an X post id (1 to 19 digits)"))?;
    let at_ms = match body.scheduled_at.as_deref() {
        None => None,
        Some(raw) => {
            let at = parse_instant(raw)
                .ok_or_else(|| field("scheduledAt", "must be RFC 3339 with an offset"))?
                .timestamp_millis();
            if at < env.now_ms - CLOCK_SKEW_SECONDS * 1000 {
                return Err(field("scheduledAt", "must be in the future"));
            }
            if at > env.now_ms + MAX_DAYS_AHEAD * 86_400_000 {
                return Err(field("scheduledAt", "must be within a year"));
            }
            Some(at)
        }
    };
    let account = account(&env.db, ws, caller, body.account_id.as_deref())?;
    if account.status != accounts::AccountStatus::Active {
        return Err(AppError::new(
            Code::EngagementAccountInactive,
            format!("The account is {}; it must be active", account.status),
        ));
    }
    run(env, caller, ws, &account, body.action, post.as_str(), at_ms).await
}

/// Records the action and, when it is not scheduled, performs it at X now.
pub async fn run(
    env: &Env,
    caller: &Caller,
    ws: Uuid,
    account: &accounts::Account,
    action: Action,
    x_post_id: &str,
    at_ms: Option<i64>,
) -> Result<(u16, Value), AppError> {
    let id = Uuid::now_v7();
    env.db.execute(
        "INSERT INTO engagements (id, workspace_id, account_id, action, x_post_id, status,
           scheduled_at, created_by)
         VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, 'scheduled',
           timestamptz 'epoch' + $6::int8 * interval '1 millisecond', $7::uuid)",
        &[
            Param::Uuid(id.to_string()),
            Param::Uuid(ws.to_string()),
            Param::Uuid(account.id.to_string()),
            Param::Str(action.as_str().into()),
            Param::Str(x_post_id.into()),
            Param::Int64(at_ms.unwrap_or(env.now_ms)),
            Param::Uuid(caller.user.id.to_string()),
        ],
    )?;
    let mut outcome = Ok(());
    if at_ms.is_none() {
        outcome = perform(env, account, action, x_post_id).await;
        let (status, error) = match &outcome {
            Ok(()) => ("done", None),
            Err(e) => (
                "failed",
                Some(format!("{}: {}", e.code, e.public_message())),
            ),
        };
        env.db.execute(
            "UPDATE engagements SET status = $2, last_error = $3, attempts = 1,
               done_at = CASE WHEN $2 = 'done'
                 THEN timestamptz 'epoch' + $4::int8 * interval '1 millisecond' END
             WHERE id = $1::uuid",
            &[
                Param::Uuid(id.to_string()),
                Param::Str(status.into()),
                error.map(Param::Str).unwrap_or(Param::DbNull),
                Param::Int64(env.now_ms),
            ],
        )?;
    }
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("engagement.created")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("engagement", id)
            .details(json!({ "action": action.as_str(), "postId": x_post_id,
                             "accountId": account.id, "scheduled": at_ms.is_some() })),
    )?;
    outcome?;
    let data = get(&env.db, ws, id)?;
    Ok((if at_ms.is_some() { 202 } else { 201 }, data))
}

async fn perform(
    env: &Env,
    account: &accounts::Account,
    action: Action,
    x_post_id: &str,
) -> Result<(), AppError> {
    let cfg = AccountsConfig::load()?;
    let client =
        accounts::refresh::client_for(&env.db, &cfg, &env.meta, account, env.now_ms).await?;
    let me = account.x_user_id.as_str();
    let result = match action {
        Action::Like => client.like(me, x_post_id).await,
        Action::Unlike => client.unlike(me, x_post_id).await,
        Action::Repost => client.repost(me, x_post_id).await,
        Action::Unrepost => client.unrepost(me, x_post_id).await,
    };
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    result.map(|_| ()).map_err(|e| e.to_app_error(now))
}

const COLUMNS: &str = "e.id::text AS id, e.account_id::text AS account_id, a.username, e.action,
    e.x_post_id, e.status, e.attempts::int8 AS attempts, e.last_error,
    (extract(epoch FROM e.scheduled_at) * 1000)::int8 AS scheduled_ms,
    (extract(epoch FROM e.done_at) * 1000)::int8 AS done_ms,
    (extract(epoch FROM e.created_at) * 1000)::int8 AS created_ms,
    (extract(epoch FROM e.created_at) * 1000000)::int8 AS created_us";

fn to_json(r: &Row<'_>) -> Result<Value, AppError> {
    Ok(json!({
        "id": r.get::<String>("id")?,
        "account": { "id": r.get::<String>("account_id")?, "username": r.get::<String>("username")? },
        "action": r.get::<String>("action")?,
        "postId": r.get::<String>("x_post_id")?,
        "status": r.get::<String>("status")?,
        "attempts": r.get::<i64>("attempts")?,
        "lastError": r.get::<Option<String>>("last_error")?,
        "scheduledAt": rfc3339(r.get::<i64>("scheduled_ms")?),
        "doneAt": r.get::<Option<i64>>("done_ms")?.map(rfc3339),
        "createdAt": rfc3339(r.get::<i64>("created_ms")?),
    }))
}

pub fn get(db: &Db, ws: Uuid, id: Uuid) -> Result<Value, AppError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM engagements e JOIN x_accounts a ON a.id = e.account_id
             WHERE e.workspace_id = $1::uuid AND e.id = $2::uuid"
        ),
        &[Param::Uuid(ws.to_string()), Param::Uuid(id.to_string())],
    )?;
    rows.first()
        .map(|r| to_json(&r))
        .transpose()?
        .ok_or_else(|| AppError::not_found("Engagement"))
}

/// `GET /api/engagements?limit&cursor`, newest first.
pub fn list(
    db: &Db,
    caller: &Caller,
    q: impl Fn(&str) -> Option<String>,
) -> Result<Value, AppError> {
    let ws = caller.acting_workspace()?;
    let limit = pagination::limit(q("limit"))? as i64;
    let cursor = pagination::cursor(q("cursor"))?;
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM engagements e JOIN x_accounts a ON a.id = e.account_id
             WHERE e.workspace_id = $1::uuid
               AND ($2::int8 IS NULL OR (e.created_at, e.id) <
                    (timestamptz 'epoch' + $2::int8 * interval '1 microsecond', $3::uuid))
             ORDER BY e.created_at DESC, e.id DESC LIMIT $4"
        ),
        &[
            Param::Uuid(ws.to_string()),
            cursor.map(|c| Param::Int64(c.0)).unwrap_or(Param::DbNull),
            cursor
                .map(|c| Param::Uuid(c.1.to_string()))
                .unwrap_or(Param::DbNull),
            Param::Int64(limit + 1),
        ],
    )?;
    let mut items = Vec::new();
    let mut last = None;
    for r in rows.iter().take(limit as usize) {
        items.push(to_json(&r)?);
        last = Some((r.get::<i64>("created_us")?, r.get::<String>("id")?));
    }
    let next = (rows.len() as i64 > limit)
        .then(|| last.map(|(us, id)| pagination::encode(us, id)))
        .flatten();
    Ok(json!({ "items": items, "nextCursor": next }))
}

/// `POST /api/tweets/:id/like|retweet` (`{accountId?}`): the action on one of our published
/// posts, by the named or the active account.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnPostBody {
    pub account_id: Option<String>,
}

pub async fn on_post(
    env: &Env,
    caller: &Caller,
    post: Uuid,
    action: Action,
    body: OnPostBody,
) -> Result<(u16, Value), AppError> {
    let ws = caller.acting_workspace()?;
    let rows = env.db.query(
        "SELECT x_post_id, status FROM posts
         WHERE workspace_id = $1::uuid AND id = $2::uuid AND thread_position = 0",
        &[Param::Uuid(ws.to_string()), Param::Uuid(post.to_string())],
    )?;
    let row = rows.first().ok_or_else(|| AppError::not_found("Post"))?;
    let x_post_id: Option<String> = row.get("x_post_id")?;
    let Some(x_post_id) =
        x_post_id.filter(|_| row.get::<String>("status").ok().as_deref() == Some("published"))
    else {
        return Err(AppError::new(
            Code::PostNotPublished,
            "Only a published post can be liked or reposted",
        ));
    };
    let account = account(&env.db, ws, caller, body.account_id.as_deref())?;
    run(env, caller, ws, &account, action, &x_post_id, None).await
}

/// The route handlers of the tweets component over the functions above: each reads its input
/// from the request and shapes the answer.
pub mod routes {
    use super::{Action, OnPostBody};
    use common::error::AppError;
    use common::http::{Ctx, Reply};
    use identity::{Caller, Env};

    /// `POST /api/tweets/:id/like` and `/retweet`: the body (`{accountId?}`) is optional.
    pub async fn on_post(
        env: &Env,
        ctx: &mut Ctx,
        caller: &Caller,
        action: Action,
    ) -> Result<Reply, AppError> {
        let post = crate::api::post_id(ctx)?;
        let body = match ctx.header("content-type") {
            Some(_) => ctx.json().await?,
            None => OnPostBody::default(),
        };
        let (status, data) = super::on_post(env, caller, post, action, body).await?;
        Ok(Reply::with_status(status, data))
    }

    /// `POST /api/engagements`.
    pub async fn create(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
        let body = ctx.json().await?;
        let (status, data) = super::create(env, caller, body).await?;
        Ok(Reply::with_status(status, data))
    }

    /// `GET /api/engagements`.
    pub fn list(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
        Ok(Reply::ok(super::list(&env.db, caller, |n| {
            ctx.query_param(n)
        })?))
    }
}
