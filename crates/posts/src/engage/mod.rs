//! Engagement actions (like, unlike, repost, unrepost) by one of the workspace's accounts on an
//! X post: run now through the X client, or stored with a time for the scheduler. Every action
//! is a row in `engagements` ([`store`]), whatever its outcome.

pub mod store;

pub use store::{Action, Engagement, EngagementStatus};

use crate::api::data;
use crate::compose::{parse_instant, XId, CLOCK_SKEW_SECONDS, MAX_DAYS_AHEAD};
use crate::status::PostStatus;
use accounts::{self, AccountStatus, AccountsConfig};
use chrono::DateTime;
use common::db::{Db, Param};
use common::error::{AppError, Code};
use common::pagination;
use common::x::{XClient, XError};
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use store::NewEngagement;
use uuid::Uuid;

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

/// The instant an engagement asks for, if any: in the future (give or take the clock skew) and
/// within a year.
fn scheduled_at(raw: Option<&str>, now_ms: i64) -> Result<Option<i64>, AppError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let at = parse_instant(raw)
        .ok_or_else(|| field("scheduledAt", "must be RFC 3339 with an offset"))?
        .timestamp_millis();
    if at < now_ms - CLOCK_SKEW_SECONDS * 1000 {
        return Err(field("scheduledAt", "must be in the future"));
    }
    if at > now_ms + MAX_DAYS_AHEAD * 86_400_000 {
        return Err(field("scheduledAt", "must be within a year"));
    }
    Ok(Some(at))
}

pub async fn create(
    env: &Env,
    caller: &Caller,
    body: EngagementBody,
) -> Result<(u16, Value), AppError> {
    let ws = caller.acting_workspace()?;
    let post = XId::parse(body.post_id.trim())
        .ok_or_else(|| field("postId", "must be an X post id (1 to 19 digits)"))?;
    let at_ms = scheduled_at(body.scheduled_at.as_deref(), env.now_ms)?;
    let account = account(&env.db, ws, caller, body.account_id.as_deref())?;
    if account.status != AccountStatus::Active {
        return Err(AppError::new(
            Code::EngagementAccountInactive,
            format!(
                "The account is {}; it must be active",
                account.status.as_str()
            ),
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
    store::insert(
        &env.db,
        &NewEngagement {
            id,
            workspace_id: ws,
            account_id: account.id,
            action,
            x_post_id,
            at_ms: at_ms.unwrap_or(env.now_ms),
            created_by: caller.user.id,
        },
    )?;
    let mut outcome = Ok(());
    if at_ms.is_none() {
        outcome = perform_now(env, account, action, x_post_id).await;
        let (status, error) = match &outcome {
            Ok(()) => (EngagementStatus::Done, None),
            Err(e) => (
                EngagementStatus::Failed,
                Some(format!("{}: {}", e.code, e.public_message())),
            ),
        };
        store::record_outcome(&env.db, id, status, error, env.now_ms)?;
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
    let engagement = store::get(&env.db, ws, id)?;
    Ok((if at_ms.is_some() { 202 } else { 201 }, data(&engagement)?))
}

/// Performs `action` at X as the account whose X user id is `me`.
pub async fn perform(
    client: &XClient,
    me: &str,
    action: Action,
    x_post_id: &str,
) -> Result<(), XError> {
    let result = match action {
        Action::Like => client.like(me, x_post_id).await,
        Action::Unlike => client.unlike(me, x_post_id).await,
        Action::Repost => client.repost(me, x_post_id).await,
        Action::Unrepost => client.unrepost(me, x_post_id).await,
    };
    result.map(|_| ())
}

async fn perform_now(
    env: &Env,
    account: &accounts::Account,
    action: Action,
    x_post_id: &str,
) -> Result<(), AppError> {
    let cfg = AccountsConfig::load()?;
    let client =
        accounts::refresh::client_for(&env.db, &cfg, &env.meta, account, env.now_ms).await?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    perform(&client, &account.x_user_id, action, x_post_id)
        .await
        .map_err(|e| e.to_app_error(now))
}

/// A page of engagements as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    items: Vec<Engagement>,
    next_cursor: Option<String>,
}

/// `GET /api/engagements?limit&cursor`, newest first.
pub fn list(
    db: &Db,
    caller: &Caller,
    q: impl Fn(&str) -> Option<String>,
) -> Result<Value, AppError> {
    let ws = caller.acting_workspace()?;
    let limit = pagination::limit(q("limit"))?;
    let cursor = pagination::cursor(q("cursor"))?;
    let (items, next_cursor) = store::page(db, ws, limit, cursor)?;
    data(&Page { items, next_cursor })
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
    let (status, x_post_id) = env
        .db
        .query_opt(
            "SELECT x_post_id, status FROM posts
             WHERE workspace_id = $1::uuid AND id = $2::uuid AND thread_position = 0",
            &[Param::from(ws), Param::from(post)],
            |r| {
                Ok((
                    PostStatus::read(r, "status")?,
                    r.get::<Option<String>>("x_post_id")?,
                ))
            },
        )?
        .ok_or_else(|| AppError::not_found("Post"))?;
    let Some(x_post_id) = x_post_id.filter(|_| status == PostStatus::Published) else {
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
