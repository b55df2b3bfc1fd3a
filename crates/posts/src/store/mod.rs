//! The `posts` and `post_events` tables. A post is a thread of one or more parts: the head
//! (position 0) carries the status and schedule the API shows; later parts follow it. Every
//! query takes the workspace id; instants are read as epoch milliseconds. Writes are here,
//! reads (the typed [`Post`] and the list pages) in [`read`].

mod read;

pub use read::{
    from_thread, get, list, page, page_from_rows, thread, Filter, HistoryEvent, Poll, Post,
    ThreadPart,
};

use crate::compose::{Draft, XId};
use crate::status::{EventKind, PostStatus};
use common::db::{Db, Param, Row};
use common::error::AppError;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// What a draft asks of its placement: the account named (`None`: the user's active one), its
/// instant, and its text's duplicate key when the 24-hour rule applies (a scheduled post at an
/// instant that did not ask to keep a duplicate).
pub struct Target {
    pub user: Uuid,
    pub named: Option<Uuid>,
    pub scheduled: bool,
    pub at_ms: Option<i64>,
    pub queued: bool,
    pub hash: Option<String>,
}

/// Where a new or edited post goes.
pub struct Placement {
    pub account_id: Uuid,
    pub scheduled_at_ms: Option<i64>,
    pub queued: bool,
}

/// What `xmp_place` (migration 0019) found for a [`Target`]: the account, its state, another
/// post of it with the same text within 24 hours, and whether the draft may go there.
pub struct Found {
    pub account: Option<Uuid>,
    pub status: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub placed: bool,
}

impl Found {
    fn from_row(r: &Row) -> Result<Found, AppError> {
        Ok(Found {
            account: r.get("placed_account")?,
            status: r.get("placed_status")?,
            duplicate_of: r.get("duplicate_of")?,
            placed: r.get("placed")?,
        })
    }
}

/// A new post, or what its placement found instead when the draft may not go there.
pub enum Created {
    Post(Box<Post>),
    Refused(Found),
}

/// Where `target` may go, by one statement (`xmp_place`); `except` is the post being edited,
/// which is no duplicate of itself.
pub fn place(db: &Db, ws: Uuid, target: &Target, except: Option<Uuid>) -> Result<Found, AppError> {
    db.query_one(
        "SELECT * FROM xmp_place($1::uuid, $2::uuid, $3::uuid, $4::bool, $5::int8, $6, $7::uuid)",
        &[
            Param::from(ws),
            Param::from(target.user),
            Param::from(target.named),
            Param::Boolean(target.scheduled),
            Param::from(target.at_ms),
            Param::from(target.hash.clone()),
            Param::from(except),
        ],
        Found::from_row,
    )
}

/// Inserts every part of `draft` (in the caller's transaction); answers the head's id.
pub fn insert(
    db: &Db,
    ws: Uuid,
    author: Uuid,
    draft: &Draft,
    place: &Placement,
) -> Result<Uuid, AppError> {
    let head = Uuid::now_v7();
    NewParts::of(ws, Some(author), head, draft, 0)
        .placed(place)
        .insert(db)?;
    Ok(head)
}

/// A new post in one statement (`xmp_create_placed`, migration 0019): the placement of
/// `target`, then, when placed, its parts, its `created` event with `details`, the audit row
/// `audit` (`identity::audit::Entry::row`; the statement adds the account to its details), and
/// the post read back as [`get`] reads it.
pub fn create(
    db: &Db,
    ws: Uuid,
    draft: &Draft,
    target: &Target,
    details: &Value,
    audit: impl FnOnce(Uuid) -> Value,
) -> Result<Created, AppError> {
    let head = Uuid::now_v7();
    let parts = NewParts::of(ws, Some(target.user), head, draft, 0).aimed(target);
    let rows = db.query(
        "SELECT * FROM xmp_create_placed($1::text::jsonb, $2::text::jsonb, $3::text::jsonb,
                                         $4::uuid, $5)",
        &[
            Param::Str(parts.to_json()?),
            Param::Str(details.to_string()),
            Param::Str(audit(head).to_string()),
            Param::from(target.user),
            Param::from(target.hash.clone()),
        ],
    )?;
    let first = rows
        .first()
        .ok_or_else(|| AppError::internal("xmp_create_placed answered no row"))?;
    let found = Found::from_row(&first)?;
    match found.placed {
        true => Ok(Created::Post(Box::new(from_thread(rows)?))),
        false => Ok(Created::Refused(found)),
    }
}

/// The poll as `posts.poll` stores it.
fn poll_json(draft: &Draft) -> Option<String> {
    poll_value(draft).map(|p| p.to_string())
}

fn poll_value(draft: &Draft) -> Option<Value> {
    draft
        .poll
        .as_ref()
        .map(|p| json!({ "options": p.options, "durationMinutes": p.duration_minutes }))
}

/// A thread's parts as `xmp_insert_parts` (migration 0015) takes them: what they share, and each
/// part from position `from` on. Only position 0 keeps the reply, quote and poll.
#[derive(Serialize)]
struct NewParts<'a> {
    workspace_id: Uuid,
    /// `None` until placed: the account the statement that stores the parts finds.
    account_id: Option<Uuid>,
    /// `None` once the author's user is deleted (the parts keep no author, as the head does).
    author_id: Option<Uuid>,
    thread_id: Uuid,
    status: &'static str,
    scheduled_ms: Option<i64>,
    queued: bool,
    reply_to: Option<&'a str>,
    quote_of: Option<&'a str>,
    poll: Option<Value>,
    parts: Vec<NewPart<'a>>,
}

#[derive(Serialize)]
struct NewPart<'a> {
    id: Uuid,
    position: usize,
    content: &'a str,
    media_ids: &'a [String],
    hash: String,
}

impl<'a> NewParts<'a> {
    fn of(
        ws: Uuid,
        author: Option<Uuid>,
        head: Uuid,
        draft: &'a Draft,
        from: usize,
    ) -> NewParts<'a> {
        let parts = draft.parts.iter().enumerate().skip(from);
        NewParts {
            workspace_id: ws,
            account_id: None,
            author_id: author,
            thread_id: head,
            status: PostStatus::from(draft.status).as_str(),
            scheduled_ms: None,
            queued: false,
            reply_to: draft.reply_to.as_ref().map(XId::as_str),
            quote_of: draft.quote_of.as_ref().map(XId::as_str),
            poll: poll_value(draft),
            parts: parts
                .map(|(i, part)| NewPart {
                    id: if i == 0 { head } else { Uuid::now_v7() },
                    position: i,
                    content: part.text.as_str(),
                    media_ids: &part.media_ids,
                    hash: part.text.duplicate_key(),
                })
                .collect(),
        }
    }

    /// The parts where `place` puts them.
    fn placed(self, place: &Placement) -> NewParts<'a> {
        NewParts {
            account_id: Some(place.account_id),
            scheduled_ms: place.scheduled_at_ms,
            queued: place.queued,
            ..self
        }
    }

    /// The parts as `target` asks, for the statement that places them.
    fn aimed(self, target: &Target) -> NewParts<'a> {
        NewParts {
            account_id: target.named,
            scheduled_ms: target.at_ms,
            queued: target.queued,
            ..self
        }
    }

    fn to_json(&self) -> Result<String, AppError> {
        serde_json::to_string(self).map_err(AppError::internal)
    }

    /// Writes the parts on their own (`xmp_insert_parts`).
    fn insert(&self, db: &Db) -> Result<(), AppError> {
        db.execute(
            "SELECT xmp_insert_parts($1::text::jsonb)",
            &[Param::Str(self.to_json()?)],
        )?;
        Ok(())
    }
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
    NewParts::of(ws, author, id, draft, 1)
        .placed(place)
        .insert(db)
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
