//! Publishing one claimed post (a thread of one or more parts) at X, exactly once.
//!
//! Every write is guarded by the lease (`lease_owner = me AND status = 'publishing'`): a tick that
//! stalled past its lease and lost the post to another tick changes nothing. An attempt is
//! recorded (and committed) before `POST /2/tweets` is sent, so after a crash the next tick knows
//! a create may have happened and reconciles before sending again.

use crate::claim::Claimed;
use crate::matching::comparable;
use accounts::{self, AccountsConfig};
use chrono::DateTime;
use common::db::{Db, Param};
use common::error::{AppError, Code};
use common::x::{Budgets, Endpoint, NewPost, XClient, XError};
use identity::audit::Meta;
use posts::store as posts;
use serde_json::{json, Value};
use uuid::Uuid;

/// Transient failures (5xx, network) are retried this many times in all, then the post fails.
pub const MAX_ATTEMPTS: i64 = 5;
/// Backoff after the n-th transient failure: 30 s, 60 s, 120 s, 240 s.
pub const RETRY_BASE_MS: i64 = 30_000;
/// A paused or suspended account's due posts wait this long before being looked at again.
pub const PAUSED_RECHECK_MS: i64 = 5 * 60_000;

/// How one post ended in this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Published,
    /// Reconciliation found it already on X.
    Reconciled,
    Deferred,
    Retrying,
    Failed,
    /// Another tick took the post over (this one's lease had run out).
    LostLease,
}

struct Part {
    id: Uuid,
    position: i64,
    content: String,
    media_ids: Vec<String>,
    reply_to: Option<String>,
    quote_of: Option<String>,
    poll: Option<Value>,
    x_post_id: Option<String>,
}

fn load_parts(db: &Db, head: Uuid) -> Result<Vec<Part>, AppError> {
    let rows = db.query(
        "SELECT id::text AS id, thread_position::int8 AS position, content,
           array_to_json(media_ids)::text AS media, reply_to, quote_of, poll::text AS poll,
           x_post_id
         FROM posts WHERE thread_id = $1::uuid ORDER BY thread_position",
        &[Param::Uuid(head.to_string())],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Part {
                id: Uuid::parse_str(&r.get::<String>("id")?).map_err(AppError::internal)?,
                position: r.get("position")?,
                content: r.get("content")?,
                media_ids: serde_json::from_str(&r.get::<String>("media")?).unwrap_or_default(),
                reply_to: r.get("reply_to")?,
                quote_of: r.get("quote_of")?,
                poll: r
                    .get::<Option<String>>("poll")?
                    .and_then(|p| serde_json::from_str(&p).ok()),
                x_post_id: r.get("x_post_id")?,
            })
        })
        .collect()
}

/// What the tick needs to publish.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub budgets: &'a Budgets,
    pub cfg: &'a AccountsConfig,
    pub owner: &'a str,
    pub now_ms: i64,
    /// Why the post is being deferred, retried or failed (an `XError::kind`, or `budget`,
    /// `account_unavailable`): recorded as `cause` in its history event, which the metrics
    /// count by.
    pub cause: Option<&'static str>,
}

fn at(ms: i64) -> Param {
    Param::Int64(ms)
}

fn head_params(ctx: &Ctx<'_>, head: Uuid) -> [Param; 2] {
    [Param::Uuid(head.to_string()), Param::Str(ctx.owner.into())]
}

/// Runs `sql` (with `$1` head, `$2` owner, then `extra`) against the head under the lease.
fn guarded(ctx: &Ctx<'_>, head: Uuid, sql: &str, extra: Vec<Param>) -> Result<bool, AppError> {
    let mut params = head_params(ctx, head).to_vec();
    params.extend(extra);
    let n = ctx.db.execute(
        &format!("{sql} WHERE id = $1::uuid AND lease_owner = $2 AND status = 'publishing'"),
        &params,
    )?;
    Ok(n == 1)
}

fn event(ctx: &Ctx<'_>, c: &Claimed, kind: &str, mut details: Value) -> Result<(), AppError> {
    if let (Some(cause), Some(map)) = (ctx.cause, details.as_object_mut()) {
        map.insert("cause".into(), json!(cause));
    }
    posts::event(ctx.db, c.workspace_id, c.id, None, kind, details)
}

/// Back to `scheduled` at `until`; costs no attempt.
fn defer(ctx: &Ctx<'_>, c: &Claimed, until_ms: i64, reason: &str) -> Result<Outcome, AppError> {
    let details = json!({ "reason": reason });
    Ok(match reschedule(ctx, c, until_ms, None, details)? {
        true => Outcome::Deferred,
        false => Outcome::LostLease,
    })
}

/// Releases the post back to `scheduled` for `until_ms` (recording `last_error` when given)
/// and writes a `deferred` event with `details` and the time; `false` when the lease was lost.
fn reschedule(
    ctx: &Ctx<'_>,
    c: &Claimed,
    until_ms: i64,
    last_error: Option<&str>,
    mut details: Value,
) -> Result<bool, AppError> {
    let ok = guarded(
        ctx,
        c.id,
        "UPDATE posts SET status = 'scheduled', lease_owner = NULL, lease_expires_at = NULL,
           next_attempt_at = timestamptz 'epoch' + $3::int8 * interval '1 millisecond',
           last_error = coalesce($4, last_error)",
        vec![
            at(until_ms),
            last_error
                .map(|e| Param::Str(e.chars().take(500).collect()))
                .unwrap_or(Param::DbNull),
        ],
    )?;
    if ok {
        common::json::set(
            &mut details,
            "until",
            json!(common::clock::rfc3339(until_ms)),
        );
        event(ctx, c, "deferred", details)?;
    }
    Ok(ok)
}

/// Fails the post (and its unpublished parts) with a reason a person can act on.
fn fail(ctx: &Ctx<'_>, c: &Claimed, reason: &str) -> Result<Outcome, AppError> {
    let ok = ctx.db.transaction(|db| {
        let ok = guarded(
            &Ctx { db, ..*ctx },
            c.id,
            "UPDATE posts SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL,
               last_error = $3",
            vec![Param::Str(reason.chars().take(500).collect())],
        )?;
        if ok {
            db.execute(
                "UPDATE posts SET status = 'failed' WHERE thread_id = $1::uuid
                   AND thread_position > 0 AND x_post_id IS NULL",
                &[Param::Uuid(c.id.to_string())],
            )?;
        }
        Ok(ok)
    })?;
    if !ok {
        return Ok(Outcome::LostLease);
    }
    event(ctx, c, "failed", json!({ "reason": reason }))?;
    Ok(Outcome::Failed)
}

/// A transient failure: retry with backoff, or fail once the attempts are spent.
fn retry(ctx: &Ctx<'_>, c: &Claimed, attempts: i64, reason: &str) -> Result<Outcome, AppError> {
    if attempts >= MAX_ATTEMPTS {
        return fail(
            ctx,
            c,
            &format!("X kept failing ({attempts} attempts); last error: {reason}"),
        );
    }
    let wait = RETRY_BASE_MS << (attempts - 1).clamp(0, 10);
    let details = json!({ "reason": reason, "retry": attempts });
    if !reschedule(ctx, c, ctx.now_ms + wait, Some(reason), details)? {
        return Ok(Outcome::LostLease);
    }
    Ok(Outcome::Retrying)
}

/// Records that `POST /2/tweets` is about to be sent for `part` (committed before sending).
fn record_attempt(ctx: &Ctx<'_>, c: &Claimed, part: &Part) -> Result<Option<i64>, AppError> {
    let rows = ctx.db.query(
        "UPDATE posts SET attempts = attempts + 1
         WHERE id = $1::uuid AND lease_owner = $2 AND status = 'publishing'
         RETURNING attempts::int8 AS attempts",
        &head_params(ctx, c.id),
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let attempts: i64 = row.get("attempts")?;
    event(
        ctx,
        c,
        "attempt",
        json!({ "part": part.position, "attempt": attempts }),
    )?;
    Ok(Some(attempts))
}

/// The instant of the last attempt at this part, if there was one.
fn last_attempt_ms(ctx: &Ctx<'_>, c: &Claimed, part: &Part) -> Result<Option<i64>, AppError> {
    let rows = ctx.db.query(
        "SELECT (extract(epoch FROM max(at)) * 1000)::int8 AS at FROM post_events
         WHERE post_id = $1::uuid AND kind = 'attempt' AND (details->>'part')::int8 = $2",
        &[Param::Uuid(c.id.to_string()), Param::Int64(part.position)],
    )?;
    Ok(rows
        .first()
        .map(|r| r.get::<Option<i64>>("at"))
        .transpose()?
        .flatten())
}

fn mark_part(
    ctx: &Ctx<'_>,
    c: &Claimed,
    part: &Part,
    x_id: &str,
    how: &str,
) -> Result<bool, AppError> {
    let ok = ctx.db.transaction(|db| {
        // Still ours? (Locks the head for the rest of this transaction.)
        let mine = db.query(
            "SELECT 1 FROM posts WHERE id = $1::uuid AND lease_owner = $2 AND status = 'publishing'
             FOR UPDATE",
            &head_params(ctx, c.id),
        )?;
        if mine.is_empty() {
            return Ok(false);
        }
        db.execute(
            "UPDATE posts SET x_post_id = $2,
               published_at = timestamptz 'epoch' + $3::int8 * interval '1 millisecond'
             WHERE id = $1::uuid",
            &[
                Param::Uuid(part.id.to_string()),
                Param::Str(x_id.into()),
                at(ctx.now_ms),
            ],
        )?;
        Ok(true)
    })?;
    if ok {
        event(
            ctx,
            c,
            "published",
            json!({ "part": part.position, "xPostId": x_id, "how": how }),
        )?;
    }
    Ok(ok)
}

fn finish(ctx: &Ctx<'_>, c: &Claimed) -> Result<bool, AppError> {
    ctx.db.transaction(|db| {
        let ok = guarded(
            &Ctx { db, ..*ctx },
            c.id,
            "UPDATE posts SET status = 'published', lease_owner = NULL, lease_expires_at = NULL,
               last_error = NULL, next_attempt_at = NULL",
            vec![],
        )?;
        if ok {
            db.execute(
                "UPDATE posts SET status = 'published' WHERE thread_id = $1::uuid
                   AND thread_position > 0",
                &[Param::Uuid(c.id.to_string())],
            )?;
        }
        Ok(ok)
    })
}

/// Looks for the part among the account's posts since `since_ms` (minus a minute of clock
/// skew). `Ok(None)` means proven absent.
async fn reconcile(
    client: &XClient,
    user_id: &str,
    part: &Part,
    since_ms: i64,
) -> Result<Option<String>, XError> {
    let since = DateTime::from_timestamp_millis(since_ms - 60_000).unwrap_or_default();
    let wanted = comparable(&part.content);
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let page = client.user_posts(user_id, since, token.as_deref()).await?;
        if let Some(found) = page
            .posts
            .iter()
            .find(|p| comparable(&p.expanded_text()) == wanted)
        {
            return Ok(Some(found.id.clone()));
        }
        match page.next_token {
            Some(next) => token = Some(next),
            None => return Ok(None),
        }
    }
    Ok(None)
}

fn new_post(part: &Part, previous: Option<&str>) -> NewPost {
    let mut post = NewPost::text(part.content.clone());
    if let Some(prev) = previous.or(part.reply_to.as_deref()) {
        post = post.in_reply_to(prev);
    }
    if let Some(q) = &part.quote_of {
        post = post.quoting(q.clone());
    }
    if !part.media_ids.is_empty() {
        post = post.with_media(part.media_ids.clone());
    }
    if let Some(poll) = &part.poll {
        let options = poll["options"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let minutes = poll["durationMinutes"].as_u64().unwrap_or(1440) as u32;
        post = post.with_poll(options, minutes);
    }
    post
}

const REAUTH: &str = "The X account must be reconnected (its token was revoked or expired); reconnect it and reschedule";

/// Publishes one claimed post: the parts still without an X id, in order, each replying to the
/// previous one.
pub async fn publish(ctx: &Ctx<'_>, c: &Claimed) -> Result<Outcome, AppError> {
    let Some(account_id) = c.account_id else {
        return fail(ctx, c, "The account was removed");
    };
    let account = match accounts::store::get(ctx.db, c.workspace_id, account_id) {
        Ok(a) => a,
        Err(_) => return fail(ctx, c, "The account was removed"),
    };
    match account.status.as_str() {
        "active" => {}
        "needs_reauth" => return fail(ctx, c, REAUTH),
        other => {
            let reason = format!("the account is {other}");
            let ctx = &Ctx {
                cause: Some("account_unavailable"),
                ..*ctx
            };
            return defer(ctx, c, ctx.now_ms + PAUSED_RECHECK_MS, &reason);
        }
    }
    let meta = Meta::default();
    let client =
        match accounts::refresh::client_for(ctx.db, ctx.cfg, &meta, &account, ctx.now_ms).await {
            Ok(client) => client,
            Err(e) if e.code == Code::XReauth => return fail(ctx, c, REAUTH),
            Err(e) if e.status() >= 500 || e.status() == 429 => {
                return retry(
                    ctx,
                    c,
                    c.attempts.max(1),
                    &format!("token refresh: {}", e.code),
                )
            }
            Err(e) => return fail(ctx, c, &format!("{}: {}", e.code, e.public_message())),
        };
    // The client's budget checks run on the tick's clock.
    let real_now = chrono::Utc::now().timestamp_millis();
    let client = client.with_clock_offset(ctx.now_ms - real_now);
    let parts = load_parts(ctx.db, c.id)?;
    let mut previous: Option<String> = None;
    let mut reconciled = false;
    for part in &parts {
        if let Some(id) = &part.x_post_id {
            previous = Some(id.clone());
            continue;
        }
        let reply_to = if part.position == 0 {
            None
        } else {
            previous.as_deref()
        };
        // An earlier attempt at this part may have reached X: look before sending again.
        if let Some(since) = last_attempt_ms(ctx, c, part)? {
            match reconcile(&client, &account.x_user_id, part, since).await {
                Ok(Some(x_id)) => {
                    if !mark_part(ctx, c, part, &x_id, "reconciled")? {
                        return Ok(Outcome::LostLease);
                    }
                    reconciled = true;
                    previous = Some(x_id);
                    continue;
                }
                Ok(None) => {}
                Err(e) => return x_failure(ctx, c, &account, e, c.attempts).await,
            }
        }
        // The budget first: work that would exceed it waits for the reset and costs nothing.
        let now = DateTime::from_timestamp_millis(ctx.now_ms).unwrap_or_default();
        if let Err(wait) = ctx
            .budgets
            .may_call(&account.id.to_string(), Endpoint::CreatePost, now)
        {
            let why = format!("X rate-limit budget ({:?}, {:?})", wait.scope, wait.window);
            let ctx = &Ctx {
                cause: Some("budget"),
                ..*ctx
            };
            return defer(ctx, c, wait.until.timestamp_millis(), &why);
        }
        let Some(attempts) = record_attempt(ctx, c, part)? else {
            return Ok(Outcome::LostLease);
        };
        match client.create_post(&new_post(part, reply_to)).await {
            Ok(created) => {
                if !mark_part(ctx, c, part, &created.id, "created")? {
                    return Ok(Outcome::LostLease);
                }
                previous = Some(created.id);
            }
            Err(XError::DuplicateContent | XError::UnknownOutcome { .. } | XError::Timeout) => {
                // X may hold it: the duplicate 403 is evidence, a lost answer is a question.
                let since = last_attempt_ms(ctx, c, part)?.unwrap_or(ctx.now_ms);
                match reconcile(&client, &account.x_user_id, part, since).await {
                    Ok(Some(x_id)) => {
                        if !mark_part(ctx, c, part, &x_id, "reconciled")? {
                            return Ok(Outcome::LostLease);
                        }
                        reconciled = true;
                        previous = Some(x_id);
                    }
                    Ok(None) => {
                        return retry(ctx, c, attempts, "the outcome at X was unknown and the post is not there; it will be sent again");
                    }
                    Err(e) => return x_failure(ctx, c, &account, e, attempts).await,
                }
            }
            Err(e) => {
                // The attempt did not reach X's create (refused or deferred): it costs nothing.
                if matches!(
                    e,
                    XError::Deferred { .. }
                        | XError::RateLimited { .. }
                        | XError::CircuitOpen { .. }
                ) {
                    ctx.db.execute(
                        "UPDATE posts SET attempts = greatest(attempts - 1, 0) WHERE id = $1::uuid",
                        &[Param::Uuid(c.id.to_string())],
                    )?;
                }
                return x_failure(ctx, c, &account, e, attempts).await;
            }
        }
    }
    if !finish(ctx, c)? {
        return Ok(Outcome::LostLease);
    }
    Ok(if reconciled {
        Outcome::Reconciled
    } else {
        Outcome::Published
    })
}

async fn x_failure(
    ctx: &Ctx<'_>,
    c: &Claimed,
    account: &accounts::Account,
    e: XError,
    attempts: i64,
) -> Result<Outcome, AppError> {
    let ctx = &Ctx {
        cause: Some(e.kind()),
        ..*ctx
    };
    match e {
        XError::Deferred { until } | XError::CircuitOpen { until } => defer(
            ctx,
            c,
            until.timestamp_millis(),
            "X rate-limit budget or circuit breaker",
        ),
        XError::RateLimited { reset_at, .. } => defer(
            ctx,
            c,
            reset_at.timestamp_millis(),
            "X answered 429 (rate limit)",
        ),
        XError::UsageCapped => defer(ctx, c, ctx.now_ms + 3_600_000, "X usage cap reached"),
        XError::Unauthorized { .. } => {
            accounts::store::record_error(
                ctx.db,
                account.workspace_id,
                account.id,
                "X refused the account's token while publishing",
                true,
                ctx.now_ms,
            )?;
            fail(ctx, c, REAUTH)
        }
        e if e.is_transient() => retry(ctx, c, attempts.max(1), &e.to_string()),
        XError::Forbidden { reason } => fail(ctx, c, &format!("X refused the post: {reason}")),
        XError::InvalidRequest { detail, .. } => {
            fail(ctx, c, &format!("X rejected the post: {detail}"))
        }
        XError::DuplicateContent => fail(
            ctx,
            c,
            "X refused the text as a duplicate of an earlier post of this account",
        ),
        XError::NotFound { detail } => fail(
            ctx,
            c,
            &format!("X could not find what the post refers to: {detail}"),
        ),
        other => retry(ctx, c, attempts.max(1), &other.to_string()),
    }
}
