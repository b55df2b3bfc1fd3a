//! The writes of publishing, each guarded by the lease (`lease_owner = me AND status =
//! 'publishing'`): a tick that stalled past its lease and lost the post to another tick changes
//! nothing, and learns so (`false`, or [`Outcome::LostLease`]).

use super::parts::Part;
use super::{Ctx, Outcome, MAX_ATTEMPTS, RETRY_BASE_MS};
use crate::claim::Claimed;
use common::db::{Db, Param};
use common::error::AppError;
use posts::status::EventKind;
use posts::store;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use uuid::Uuid;

/// How a part came to have its X id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// This tick's create answered it.
    Created,
    /// X's timeline showed it: an earlier attempt had reached X.
    Reconciled,
}

impl Found {
    fn as_str(self) -> &'static str {
        match self {
            Found::Created => "created",
            Found::Reconciled => "reconciled",
        }
    }
}

fn head_params(ctx: &Ctx<'_>, head: Uuid) -> [Param; 2] {
    [Param::from(head), Param::Str(ctx.owner.into())]
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

/// A history event of the scheduler, with the context's `cause` when there is one.
fn event(ctx: &Ctx<'_>, c: &Claimed, kind: EventKind, details: Value) -> Result<(), AppError> {
    store::event(
        ctx.db,
        c.workspace_id,
        c.id,
        None,
        kind,
        caused(ctx, details),
    )
}

/// An event's details with the context's `cause` when there is one.
fn caused(ctx: &Ctx<'_>, mut details: Value) -> Value {
    if let (Some(cause), Some(map)) = (ctx.cause, details.as_object_mut()) {
        map.insert("cause".into(), json!(cause));
    }
    details
}

/// Back to `scheduled` at `until`; costs no attempt.
pub(super) fn defer(
    ctx: &Ctx<'_>,
    c: &Claimed,
    until_ms: i64,
    reason: &str,
) -> Result<Outcome, AppError> {
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
            Param::Int64(until_ms),
            Param::from(last_error.map(|e| e.chars().take(500).collect::<String>())),
        ],
    )?;
    if ok {
        common::json::set(
            &mut details,
            "until",
            json!(common::clock::rfc3339(until_ms)),
        );
        event(ctx, c, EventKind::Deferred, details)?;
    }
    Ok(ok)
}

/// Fails the post (and its unpublished parts) with a reason a person can act on.
pub(super) fn fail(ctx: &Ctx<'_>, c: &Claimed, reason: &str) -> Result<Outcome, AppError> {
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
                &[Param::from(c.id)],
            )?;
        }
        Ok(ok)
    })?;
    if !ok {
        return Ok(Outcome::LostLease);
    }
    event(ctx, c, EventKind::Failed, json!({ "reason": reason }))?;
    Ok(Outcome::Failed)
}

/// A transient failure: retry with backoff, or fail once the attempts are spent.
pub(super) fn retry(
    ctx: &Ctx<'_>,
    c: &Claimed,
    attempts: i64,
    reason: &str,
) -> Result<Outcome, AppError> {
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

/// The attempts a batch's lanes are about to make, recorded together: a lane that comes to its
/// attempt queues it and lets the other lanes run up to theirs (one turn of the event loop);
/// the first to resume records every queued attempt, with its `attempt` event, in one statement
/// (`xmp_record_attempts`, migration 0017), committed before any of their creates is sent.
#[derive(Default)]
pub struct Attempts {
    /// Each attempt not yet recorded: its post, and `{"head", "details"}`.
    queued: RefCell<Vec<(Uuid, Value)>>,
    /// By post: its attempts so far (this one included) and the attempt's instant (Unix
    /// milliseconds), `None` when the lease was lost; `Err` when the statement failed.
    recorded: RefCell<HashMap<Uuid, Result<Recorded, ()>>>,
}

/// A post's attempts so far and the attempt's instant, `None` when the lease was lost.
type Recorded = Option<(i64, i64)>;

impl Attempts {
    /// Records that `POST /2/tweets` is about to be sent for `part` (see [`Attempts`]): the
    /// post's attempts so far and the attempt's instant, or `None` when the lease was lost.
    pub(super) async fn record(
        &self,
        ctx: &Ctx<'_>,
        c: &Claimed,
        part: &Part,
    ) -> Result<Recorded, AppError> {
        let details = caused(ctx, json!({ "part": part.position }));
        self.queued
            .borrow_mut()
            .push((c.id, json!({ "head": c.id, "details": details })));
        common::task::yield_now().await;
        if let Some(recorded) = self.recorded.borrow_mut().remove(&c.id) {
            return recorded
                .map_err(|()| AppError::internal("the batch's attempts could not be recorded"));
        }
        self.write(ctx)?;
        let recorded = self.recorded.borrow_mut().remove(&c.id);
        Ok(recorded.and_then(Result::ok).flatten())
    }

    /// Records every queued attempt; on failure, every lane that queued one learns so.
    fn write(&self, ctx: &Ctx<'_>) -> Result<(), AppError> {
        let (heads, queued): (Vec<Uuid>, Vec<Value>) = self.queued.take().into_iter().unzip();
        let rows = ctx.db.query_all(
            "SELECT head, n, sent_ms FROM xmp_record_attempts($1, $2::text::jsonb)",
            &[
                Param::Str(ctx.owner.into()),
                Param::Str(Value::from(queued).to_string()),
            ],
            |r| {
                let n: Option<i64> = r.get("n")?;
                let sent_ms: Option<i64> = r.get("sent_ms")?;
                Ok((r.get::<Uuid>("head")?, n.zip(sent_ms)))
            },
        );
        let mut recorded = self.recorded.borrow_mut();
        match rows {
            Ok(rows) => {
                recorded.extend(rows.into_iter().map(|(head, r)| (head, Ok(r))));
                Ok(())
            }
            Err(e) => {
                recorded.extend(heads.into_iter().map(|head| (head, Err(()))));
                Err(e)
            }
        }
    }
}

/// Gives back the attempt just recorded: the create did not reach X (refused or deferred
/// before sending), so it costs nothing.
pub(super) fn refund_attempt(ctx: &Ctx<'_>, c: &Claimed) -> Result<(), AppError> {
    ctx.db.execute(
        "UPDATE posts SET attempts = greatest(attempts - 1, 0) WHERE id = $1::uuid",
        &[Param::from(c.id)],
    )?;
    Ok(())
}

/// The details of a part's `published` event.
fn marked_details(ctx: &Ctx<'_>, part: &Part, x_id: &str, how: Found) -> Value {
    caused(
        ctx,
        json!({ "part": part.position, "xPostId": x_id, "how": how.as_str() }),
    )
}

/// Records the X id of a part before the thread's last, with its `published` event, in one
/// statement (`xmp_mark_part`, migration 0012, the head locked first); `false`, and nothing
/// written, when the lease was lost. The last part's mark is kept in [`LastMarks`].
pub(super) fn mark_part(
    ctx: &Ctx<'_>,
    c: &Claimed,
    part: &Part,
    x_id: &str,
    how: Found,
) -> Result<bool, AppError> {
    let [head, owner] = head_params(ctx, c.id);
    ctx.db.query_one(
        "SELECT xmp_mark_part($1::uuid, $2, $3::uuid, $4, $5::int8, $6::text::jsonb, false)
           AS ok",
        &[
            head,
            owner,
            Param::from(part.id),
            Param::Str(x_id.into()),
            Param::Int64(ctx.now_ms),
            Param::Str(marked_details(ctx, part, x_id, how).to_string()),
        ],
        |r| r.get::<bool>("ok"),
    )
}

/// The last parts of a batch's posts, recorded together once its lanes are done
/// (`xmp_mark_last_parts`, migration 0017): one statement for the batch instead of one per
/// post. Nothing of a post follows its last mark, and its attempt was committed before its
/// create, so a tick that dies before writing them leaves leases that the next tick reconciles,
/// as after a lost answer.
#[derive(Default)]
pub struct LastMarks(RefCell<Vec<Value>>);

impl LastMarks {
    /// Keeps the mark of `part`, the last of the post, until [`LastMarks::write`].
    pub(super) fn keep(&self, ctx: &Ctx<'_>, c: &Claimed, part: &Part, x_id: &str, how: Found) {
        self.0.borrow_mut().push(json!({
            "head": c.id, "part": part.id, "xId": x_id, "atMs": ctx.now_ms,
            "details": marked_details(ctx, part, x_id, how),
        }));
    }

    /// Writes the marks kept: the posts whose lease was lost meanwhile (nothing was written
    /// for them).
    pub fn write(&self, db: &Db, owner: &str) -> Result<Vec<Uuid>, AppError> {
        let marks = self.0.take();
        if marks.is_empty() {
            return Ok(Vec::new());
        }
        db.query_all(
            "SELECT h FROM xmp_mark_last_parts($1, $2::text::jsonb) h",
            &[
                Param::Str(owner.into()),
                Param::Str(Value::from(marks).to_string()),
            ],
            |r| r.get("h"),
        )
    }
}

/// Every part is on X: the post is `published` and released (`xmp_finish`, migration 0012);
/// `false` when the lease was lost.
pub(super) fn finish(ctx: &Ctx<'_>, c: &Claimed) -> Result<bool, AppError> {
    ctx.db.query_one(
        "SELECT xmp_finish($1::uuid, $2) AS ok",
        &head_params(ctx, c.id),
        |r| r.get::<bool>("ok"),
    )
}
