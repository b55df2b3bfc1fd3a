//! Publishing one claimed post (a thread of one or more parts) at X, exactly once.
//!
//! Every write is guarded by the lease ([`lease`]): a tick that stalled past its lease and lost
//! the post to another tick changes nothing. An attempt is recorded (and committed) before
//! `POST /2/tweets` is sent, so after a crash the next tick knows a create may have happened
//! and reconciles ([`parts::reconcile`]) before sending again.

mod lease;
mod parts;

use crate::claim::Claimed;
use accounts::{self, AccountStatus, AccountsConfig};
use chrono::DateTime;
use common::db::Db;
use common::error::AppError;
use common::x::{Budgets, Endpoint, XClient, XError};
use identity::audit::Meta;
use lease::{defer, fail, retry, Found};
pub use lease::{Attempts, LastMarks};
pub(crate) use parts::Part;

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
    /// Where the last mark of each post is kept, to be written with the batch's.
    pub last_marks: &'a LastMarks,
    /// Where each attempt is queued, to be recorded with those of the batch's other lanes.
    pub attempts: &'a Attempts,
}

impl<'a> Ctx<'a> {
    /// The same context, recording `cause` in the events it writes.
    fn because(&self, cause: &'static str) -> Ctx<'a> {
        Ctx {
            cause: Some(cause),
            ..*self
        }
    }
}

/// A step of publishing: go on with a value, or stop with how the post ended.
enum Step<T> {
    Go(T),
    Stop(Outcome),
}

const REAUTH: &str = "The X account must be reconnected (its token was revoked or expired); reconnect it and reschedule";

/// Publishes one claimed post: the parts still without an X id, in order, each replying to the
/// previous one.
pub async fn publish(ctx: &Ctx<'_>, c: &Claimed) -> Result<Outcome, AppError> {
    let (account, client) = match connect(ctx, c).await? {
        Step::Go(ready) => ready,
        Step::Stop(outcome) => return Ok(outcome),
    };
    let mut previous: Option<String> = None;
    let mut reconciled = false;
    // Recording the last part also finishes the post; a thread whose parts were all on X
    // already (an earlier tick stopped before finishing) is finished on its own.
    let mut finished = false;
    let parts = &c.parts;
    for (i, part) in parts.iter().enumerate() {
        if let Some(id) = &part.x_post_id {
            previous = Some(id.clone());
            continue;
        }
        let reply_to = if part.position == 0 {
            None
        } else {
            previous.as_deref()
        };
        let last = i + 1 == parts.len();
        match publish_part(ctx, c, account, &client, part, reply_to, last).await? {
            Step::Go((x_id, how)) => {
                reconciled |= how == Found::Reconciled;
                previous = Some(x_id);
                finished = last;
            }
            Step::Stop(outcome) => return Ok(outcome),
        }
    }
    if !finished && !lease::finish(ctx, c)? {
        return Ok(Outcome::LostLease);
    }
    Ok(if reconciled {
        Outcome::Reconciled
    } else {
        Outcome::Published
    })
}

/// The post's account, if it may publish now, and an X client for it (on the tick's clock).
async fn connect<'c>(
    ctx: &Ctx<'_>,
    c: &'c Claimed,
) -> Result<Step<(&'c accounts::Account, XClient)>, AppError> {
    let Some((account, sealed)) = &c.account else {
        return fail(ctx, c, "The account was removed").map(Step::Stop);
    };
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::NeedsReauth => return fail(ctx, c, REAUTH).map(Step::Stop),
        other => {
            let reason = format!("the account is {}", other.as_str());
            let ctx = &ctx.because("account_unavailable");
            return defer(ctx, c, ctx.now_ms + PAUSED_RECHECK_MS, &reason).map(Step::Stop);
        }
    }
    let meta = Meta::default();
    let client =
        accounts::refresh::client_with(ctx.db, ctx.cfg, &meta, account, Some(sealed), ctx.now_ms);
    let outcome = match client.await {
        Ok(client) => {
            // The client's budget checks run on the tick's clock.
            let real_now = chrono::Utc::now().timestamp_millis();
            let client = client.with_clock_offset(ctx.now_ms - real_now);
            return Ok(Step::Go((account, client)));
        }
        Err(e) if e.needs_reauth() => fail(ctx, c, REAUTH),
        Err(e) => match AppError::from(e) {
            e if e.status() >= 500 || e.status() == 429 => retry(
                ctx,
                c,
                c.attempts.max(1),
                &format!("token refresh: {}", e.code),
            ),
            e => fail(ctx, c, &format!("{}: {}", e.code, e.public_message())),
        },
    };
    outcome.map(Step::Stop)
}

/// Publishes one part: its X id and how it was found, or how the post ends here. Recording the
/// `last` part finishes the post.
async fn publish_part(
    ctx: &Ctx<'_>,
    c: &Claimed,
    account: &accounts::Account,
    client: &XClient,
    part: &Part,
    reply_to: Option<&str>,
    last: bool,
) -> Result<Step<(String, Found)>, AppError> {
    // An earlier attempt at this part may have reached X: look before sending again.
    if let Some(since) = part.last_attempt_ms {
        match parts::reconcile(client, &account.x_user_id, part, since).await {
            Ok(Some(x_id)) => return marked(ctx, c, part, x_id, Found::Reconciled, last),
            Ok(None) => {}
            Err(e) => return x_failure(ctx, c, account, e, c.attempts).map(Step::Stop),
        }
    }
    // The budget first: work that would exceed it waits for the reset and costs nothing.
    let now = DateTime::from_timestamp_millis(ctx.now_ms).unwrap_or_default();
    if let Err(wait) = ctx
        .budgets
        .may_call(&account.id.to_string(), Endpoint::CreatePost, now)
    {
        let why = format!("X rate-limit budget ({:?}, {:?})", wait.scope, wait.window);
        let ctx = &ctx.because("budget");
        return defer(ctx, c, wait.until.timestamp_millis(), &why).map(Step::Stop);
    }
    let Some((attempts, sent_ms)) = ctx.attempts.record(ctx, c, part).await? else {
        return Ok(Step::Stop(Outcome::LostLease));
    };
    match client.create_post(&parts::new_post(part, reply_to)).await {
        Ok(created) => marked(ctx, c, part, created.id, Found::Created, last),
        Err(XError::DuplicateContent | XError::UnknownOutcome { .. } | XError::Timeout) => {
            // X may hold it: the duplicate 403 is evidence, a lost answer is a question.
            match parts::reconcile(client, &account.x_user_id, part, sent_ms).await {
                Ok(Some(x_id)) => marked(ctx, c, part, x_id, Found::Reconciled, last),
                Ok(None) => retry(
                    ctx,
                    c,
                    attempts,
                    "the outcome at X was unknown and the post is not there; it will be sent again",
                )
                .map(Step::Stop),
                Err(e) => x_failure(ctx, c, account, e, attempts).map(Step::Stop),
            }
        }
        Err(e) => {
            // The attempt did not reach X's create (refused or deferred): it costs nothing.
            if matches!(
                e,
                XError::Deferred { .. } | XError::RateLimited { .. } | XError::CircuitOpen { .. }
            ) {
                lease::refund_attempt(ctx, c)?;
            }
            x_failure(ctx, c, account, e, attempts).map(Step::Stop)
        }
    }
}

/// The part is on X as `x_id`: recorded, unless the lease was lost meanwhile; the last part
/// (`finish`) is kept to be recorded, and the post finished, with the batch's
/// ([`LastMarks`]).
fn marked(
    ctx: &Ctx<'_>,
    c: &Claimed,
    part: &Part,
    x_id: String,
    how: Found,
    finish: bool,
) -> Result<Step<(String, Found)>, AppError> {
    if finish {
        ctx.last_marks.keep(ctx, c, part, &x_id, how);
        return Ok(Step::Go((x_id, how)));
    }
    Ok(match lease::mark_part(ctx, c, part, &x_id, how)? {
        true => Step::Go((x_id, how)),
        false => Step::Stop(Outcome::LostLease),
    })
}

/// How the post ends after X refused or failed a call: deferred (limits, breakers), failed
/// (refusals a retry cannot fix, a revoked token) or retried (transient errors).
fn x_failure(
    ctx: &Ctx<'_>,
    c: &Claimed,
    account: &accounts::Account,
    e: XError,
    attempts: i64,
) -> Result<Outcome, AppError> {
    let ctx = &ctx.because(e.kind());
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
