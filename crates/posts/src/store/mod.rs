//! The `posts` and `post_events` tables. A post is a thread of one or more parts: the head
//! (position 0) carries the status and schedule the API shows; later parts follow it. Every
//! query takes the workspace id; instants are read as epoch milliseconds. Writes are here,
//! reads (the typed [`Post`] and the list pages) in [`read`].

mod read;

pub use read::{from_thread, get, list, thread, Filter, HistoryEvent, Poll, Post, ThreadPart};

use crate::compose::Draft;
use crate::status::{EventKind, PostStatus};
use common::db::{Db, Param};
use common::error::AppError;
use serde_json::{json, Value};
use uuid::Uuid;

/// Where a new or edited post goes.
pub struct Placement {
    pub account_id: Uuid,
    pub scheduled_at_ms: Option<i64>,
    pub queued: bool,
}

/// Inserts every part of `draft` (in the caller's transaction); answers the head's id.
pub fn insert(
    db: &Db,
    ws: Uuid,
    author: Uuid,
    draft: &Draft,
    place: &Placement,
    idempotency_key: Option<&str>,
) -> Result<Uuid, AppError> {
    let head = Uuid::now_v7();
    insert_parts(db, ws, Some(author), head, draft, place, idempotency_key, 0)?;
    Ok(head)
}

/// The poll as `posts.poll` stores it.
fn poll_json(draft: &Draft) -> Option<String> {
    draft
        .poll
        .as_ref()
        .map(|p| json!({ "options": p.options, "durationMinutes": p.duration_minutes }).to_string())
}

/// `author` is `None` once the author's user is deleted (the parts keep no author, as the
/// head does).
#[allow(clippy::too_many_arguments)]
fn insert_parts(
    db: &Db,
    ws: Uuid,
    author: Option<Uuid>,
    head: Uuid,
    draft: &Draft,
    place: &Placement,
    idempotency_key: Option<&str>,
    from: usize,
) -> Result<(), AppError> {
    let poll = poll_json(draft);
    let status = PostStatus::from(draft.status);
    for (i, part) in draft.parts.iter().enumerate().skip(from) {
        let id = if i == 0 { head } else { Uuid::now_v7() };
        let first = i == 0;
        db.execute(
            "INSERT INTO posts (id, workspace_id, account_id, author_id, content, media_ids,
               reply_to, quote_of, poll, thread_id, thread_position, status, scheduled_at, queued,
               normalized_text_hash, idempotency_key)
             VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5,
               ARRAY(SELECT jsonb_array_elements_text($6::text::jsonb)), $7, $8, $9::text::jsonb,
               $10::uuid, $11::int8::int4, $12,
               timestamptz 'epoch' + $13::int8 * interval '1 millisecond', $14, $15, $16)",
            &[
                Param::from(id),
                Param::from(ws),
                Param::from(place.account_id),
                Param::from(author),
                Param::Str(part.text.as_str().to_string()),
                Param::Str(json!(part.media_ids).to_string()),
                Param::from(
                    first
                        .then(|| draft.reply_to.as_ref().map(|x| x.as_str().to_string()))
                        .flatten(),
                ),
                Param::from(
                    first
                        .then(|| draft.quote_of.as_ref().map(|x| x.as_str().to_string()))
                        .flatten(),
                ),
                Param::from(poll.clone().filter(|_| first)),
                Param::from(head),
                Param::Int64(i as i64),
                Param::Str(status.as_str().into()),
                Param::from(place.scheduled_at_ms),
                Param::Boolean(place.queued),
                Param::Str(part.text.duplicate_key()),
                Param::from(idempotency_key.filter(|_| first).map(str::to_string)),
            ],
        )?;
    }
    Ok(())
}

/// Appends a history event.
pub fn event(
    db: &Db,
    ws: Uuid,
    post: Uuid,
    actor: Option<Uuid>,
    kind: EventKind,
    details: Value,
) -> Result<(), AppError> {
    db.execute(
        "INSERT INTO post_events (post_id, workspace_id, actor_id, kind, details)
         VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::text::jsonb)",
        &[
            Param::from(post),
            Param::from(ws),
            Param::from(actor),
            Param::Str(kind.as_str().into()),
            Param::Str(details.to_string()),
        ],
    )?;
    Ok(())
}

/// Whether the account already has this text scheduled or published within 24 hours of `at`:
/// the id of such a post.
pub fn duplicate_of(
    db: &Db,
    account: Uuid,
    hash: &str,
    at_ms: i64,
    except: Option<Uuid>,
) -> Result<Option<Uuid>, AppError> {
    db.query_opt(
        "SELECT id FROM posts
         WHERE account_id = $1::uuid AND normalized_text_hash = $2
           AND status IN ('scheduled', 'publishing', 'published')
           AND coalesce(published_at, scheduled_at)
               BETWEEN timestamptz 'epoch' + ($3::int8 - 86400000) * interval '1 millisecond'
                   AND timestamptz 'epoch' + ($3::int8 + 86400000) * interval '1 millisecond'
           AND ($4::uuid IS NULL OR thread_id <> $4::uuid)
         LIMIT 1",
        &[
            Param::from(account),
            Param::Str(hash.into()),
            Param::Int64(at_ms),
            Param::from(except),
        ],
        |r| r.get("id"),
    )
}

/// The account's next free posting slot after `now_ms` (call with the account row locked).
pub fn next_slot(
    db: &Db,
    account: &accounts::Account,
    now_ms: i64,
) -> Result<Option<i64>, AppError> {
    db.query_opt(
        crate::queue::NEXT_FREE_SLOT_SQL,
        &[
            Param::Str(account.timezone.clone()),
            Param::Str(account.posting_slots.to_string()),
            Param::Int64(now_ms / 1000),
            Param::from(account.id),
        ],
        |r| r.get::<i64>("at").map(|s| s * 1000),
    )
}

/// A thread head as locked for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub status: PostStatus,
    /// `None` once the account was removed.
    pub account_id: Option<Uuid>,
}

/// The head's status and account, locked for a change.
pub fn lock(db: &Db, ws: Uuid, id: Uuid) -> Result<Locked, AppError> {
    db.query_opt(
        "SELECT status, account_id FROM posts
         WHERE workspace_id = $1::uuid AND id = $2::uuid AND thread_position = 0 FOR UPDATE",
        &[Param::from(ws), Param::from(id)],
        |r| {
            Ok(Locked {
                status: PostStatus::read(r, "status")?,
                account_id: r.get("account_id")?,
            })
        },
    )?
    .ok_or_else(|| AppError::not_found("Post"))
}

/// Replaces a draft's or scheduled post's content and placement (parts are rewritten).
pub fn replace(
    db: &Db,
    ws: Uuid,
    id: Uuid,
    draft: &Draft,
    place: &Placement,
) -> Result<(), AppError> {
    db.execute(
        "DELETE FROM posts WHERE workspace_id = $1::uuid AND thread_id = $2::uuid
           AND thread_position > 0",
        &[Param::from(ws), Param::from(id)],
    )?;
    let first = draft.first()?;
    db.execute(
        "UPDATE posts SET account_id = $3::uuid, content = $4,
           media_ids = ARRAY(SELECT jsonb_array_elements_text($5::text::jsonb)),
           reply_to = $6, quote_of = $7, poll = $8::text::jsonb, status = $9,
           scheduled_at = timestamptz 'epoch' + $10::int8 * interval '1 millisecond',
           queued = $11, normalized_text_hash = $12
         WHERE workspace_id = $1::uuid AND id = $2::uuid",
        &[
            Param::from(ws),
            Param::from(id),
            Param::from(place.account_id),
            Param::Str(first.text.as_str().to_string()),
            Param::Str(json!(first.media_ids).to_string()),
            Param::from(draft.reply_to.as_ref().map(|x| x.as_str().to_string())),
            Param::from(draft.quote_of.as_ref().map(|x| x.as_str().to_string())),
            Param::from(poll_json(draft)),
            Param::Str(PostStatus::from(draft.status).as_str().into()),
            Param::from(place.scheduled_at_ms),
            Param::Boolean(place.queued),
            Param::Str(first.text.duplicate_key()),
        ],
    )?;
    let author = db
        .query_opt(
            "SELECT author_id FROM posts WHERE id = $1::uuid",
            &[Param::from(id)],
            |r| r.get::<Option<Uuid>>("author_id"),
        )?
        .flatten();
    insert_parts(db, ws, author, id, draft, place, None, 1)
}

/// Sets the status of every part of a thread.
pub fn set_status(db: &Db, ws: Uuid, id: Uuid, status: PostStatus) -> Result<(), AppError> {
    db.execute(
        "UPDATE posts SET status = $3 WHERE workspace_id = $1::uuid AND thread_id = $2::uuid",
        &[
            Param::from(ws),
            Param::from(id),
            Param::Str(status.as_str().into()),
        ],
    )?;
    Ok(())
}

pub fn mark_deleted_on_x(db: &Db, ws: Uuid, id: Uuid, now_ms: i64) -> Result<(), AppError> {
    db.execute(
        "UPDATE posts SET deleted_on_x_at = timestamptz 'epoch' + $3::int8 * interval '1 millisecond'
         WHERE workspace_id = $1::uuid AND id = $2::uuid",
        &[Param::from(ws), Param::from(id), Param::Int64(now_ms)],
    )?;
    Ok(())
}
