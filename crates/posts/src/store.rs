//! The `posts` and `post_events` tables. A post is a thread of one or more parts: the head
//! (position 0) carries the status and schedule the API shows; later parts follow it. Every
//! query takes the workspace id; instants are read as epoch milliseconds.

use crate::compose::{Draft, Status};
use common::clock::rfc3339;
use common::db::{Db, Param, Row};
use common::error::AppError;
use common::pagination::{self, invalid};
use serde_json::{json, Value};
use uuid::Uuid;

pub const STATUSES: [&str; 6] = [
    "draft",
    "scheduled",
    "publishing",
    "published",
    "failed",
    "cancelled",
];

/// A thread's rows: the head as the API shows it (`xmp_post_item`, migration 0011) and what a
/// part shows.
const COLUMNS: &str = "CASE WHEN p.thread_position = 0 THEN xmp_post_item(p, a.username)::text END
      AS item,
    p.id::text AS id, p.content, array_to_json(p.media_ids)::text AS media_ids, p.status,
    p.x_post_id, p.thread_position::int8 AS position";

fn uuid(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(AppError::internal)
}

fn json_text(r: &Row<'_>, col: &str) -> Result<Value, AppError> {
    Ok(r.get::<Option<String>>(col)?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null))
}

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
    insert_parts(db, ws, author, head, draft, place, idempotency_key, 0)?;
    Ok(head)
}

#[allow(clippy::too_many_arguments)]
fn insert_parts(
    db: &Db,
    ws: Uuid,
    author: Uuid,
    head: Uuid,
    draft: &Draft,
    place: &Placement,
    idempotency_key: Option<&str>,
    from: usize,
) -> Result<(), AppError> {
    let poll = draft.poll.as_ref().map(|p| {
        json!({ "options": p.options, "durationMinutes": p.duration_minutes }).to_string()
    });
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
                Param::Uuid(id.to_string()),
                Param::Uuid(ws.to_string()),
                Param::Uuid(place.account_id.to_string()),
                Param::Uuid(author.to_string()),
                Param::Str(part.text.as_str().to_string()),
                Param::Str(json!(part.media_ids).to_string()),
                opt_str(
                    first
                        .then(|| draft.reply_to.as_ref().map(|x| x.as_str().to_string()))
                        .flatten(),
                ),
                opt_str(
                    first
                        .then(|| draft.quote_of.as_ref().map(|x| x.as_str().to_string()))
                        .flatten(),
                ),
                opt_str(poll.clone().filter(|_| first)),
                Param::Uuid(head.to_string()),
                Param::Int64(i as i64),
                Param::Str(draft.status.as_str().into()),
                place
                    .scheduled_at_ms
                    .map(Param::Int64)
                    .unwrap_or(Param::DbNull),
                Param::Boolean(place.queued),
                Param::Str(part.text.duplicate_key()),
                opt_str(idempotency_key.filter(|_| first).map(str::to_string)),
            ],
        )?;
    }
    Ok(())
}

fn opt_str(v: Option<String>) -> Param {
    v.map(Param::Str).unwrap_or(Param::DbNull)
}

/// Appends a history event.
pub fn event(
    db: &Db,
    ws: Uuid,
    post: Uuid,
    actor: Option<Uuid>,
    kind: &str,
    details: Value,
) -> Result<(), AppError> {
    db.execute(
        "INSERT INTO post_events (post_id, workspace_id, actor_id, kind, details)
         VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::text::jsonb)",
        &[
            Param::Uuid(post.to_string()),
            Param::Uuid(ws.to_string()),
            actor
                .map(|a| Param::Uuid(a.to_string()))
                .unwrap_or(Param::DbNull),
            Param::Str(kind.into()),
            Param::Str(details.to_string()),
        ],
    )?;
    Ok(())
}

/// Whether the account already has this text scheduled or published within 24 hours of `at`.
pub fn duplicate_of(
    db: &Db,
    account: Uuid,
    hash: &str,
    at_ms: i64,
    except: Option<Uuid>,
) -> Result<Option<String>, AppError> {
    let rows = db.query(
        "SELECT id::text AS id FROM posts
         WHERE account_id = $1::uuid AND normalized_text_hash = $2
           AND status IN ('scheduled', 'publishing', 'published')
           AND coalesce(published_at, scheduled_at)
               BETWEEN timestamptz 'epoch' + ($3::int8 - 86400000) * interval '1 millisecond'
                   AND timestamptz 'epoch' + ($3::int8 + 86400000) * interval '1 millisecond'
           AND ($4::uuid IS NULL OR thread_id <> $4::uuid)
         LIMIT 1",
        &[
            Param::Uuid(account.to_string()),
            Param::Str(hash.into()),
            Param::Int64(at_ms),
            except
                .map(|e| Param::Uuid(e.to_string()))
                .unwrap_or(Param::DbNull),
        ],
    )?;
    rows.first().map(|r| r.get::<String>("id")).transpose()
}

/// The account's next free posting slot after `now_ms` (call with the account row locked).
pub fn next_slot(
    db: &Db,
    account: &accounts::Account,
    now_ms: i64,
) -> Result<Option<i64>, AppError> {
    let rows = db.query(
        crate::queue::NEXT_FREE_SLOT_SQL,
        &[
            Param::Str(account.timezone.clone()),
            Param::Str(account.posting_slots.to_string()),
            Param::Int64(now_ms / 1000),
            Param::Uuid(account.id.to_string()),
        ],
    )?;
    rows.first()
        .map(|r| r.get::<i64>("at").map(|s| s * 1000))
        .transpose()
}

/// One post with its thread parts and history.
pub fn get(db: &Db, ws: Uuid, id: Uuid) -> Result<Value, AppError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM posts p LEFT JOIN x_accounts a ON a.id = p.account_id
             WHERE p.workspace_id = $1::uuid AND p.thread_id = $2::uuid
             ORDER BY p.thread_position"
        ),
        &[Param::Uuid(ws.to_string()), Param::Uuid(id.to_string())],
    )?;
    let mut parts = rows.iter();
    let head = parts.next().ok_or_else(|| AppError::not_found("Post"))?;
    let mut post = json_text(&head, "item")?;
    let thread: Vec<Value> = parts
        .map(|r| {
            Ok(json!({
                "id": r.get::<String>("id")?,
                "position": r.get::<i64>("position")?,
                "content": r.get::<String>("content")?,
                "mediaIds": json_text(&r, "media_ids")?,
                "status": r.get::<String>("status")?,
                "xPostId": r.get::<Option<String>>("x_post_id")?,
            }))
        })
        .collect::<Result<_, AppError>>()?;
    common::json::set(&mut post, "thread", json!(thread));
    let events = db.query(
        "SELECT kind, details::text AS details, actor_id::text AS actor,
           (extract(epoch FROM at) * 1000)::int8 AS at_ms
         FROM post_events WHERE workspace_id = $1::uuid AND post_id = $2::uuid ORDER BY id",
        &[Param::Uuid(ws.to_string()), Param::Uuid(id.to_string())],
    )?;
    let history: Vec<Value> = events
        .iter()
        .map(|r| {
            Ok(json!({
                "kind": r.get::<String>("kind")?,
                "at": rfc3339(r.get::<i64>("at_ms")?),
                "actorId": r.get::<Option<String>>("actor")?,
                "details": json_text(&r, "details")?,
            }))
        })
        .collect::<Result<_, AppError>>()?;
    common::json::set(&mut post, "history", Value::Array(history));
    Ok(post)
}

/// List filters and the page position.
pub struct Filter {
    pub status: Option<String>,
    pub account: Option<Uuid>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: usize,
    pub cursor: Option<(i64, Uuid)>,
}

impl Filter {
    pub fn from_query(q: impl Fn(&str) -> Option<String>) -> Result<Filter, AppError> {
        let nonempty = |n: &str| q(n).filter(|v| !v.is_empty());
        let limit = pagination::limit(q("limit"))?;
        let status = nonempty("status");
        if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            return Err(invalid("status", "unknown status"));
        }
        let account = nonempty("accountId")
            .map(|a| Uuid::parse_str(&a).map_err(|_| invalid("accountId", "must be a UUID")))
            .transpose()?;
        let instant = |name: &str| {
            nonempty(name)
                .map(|v| {
                    crate::compose::parse_instant(&v)
                        .map(|t| t.timestamp_millis())
                        .ok_or_else(|| invalid(name, "must be RFC 3339 with an offset"))
                })
                .transpose()
        };
        let cursor = pagination::cursor(q("cursor"))?;
        Ok(Filter {
            status,
            account,
            from_ms: instant("from")?,
            to_ms: instant("to")?,
            limit,
            cursor,
        })
    }
}

/// A page of posts (thread heads), newest first, cursor on (creation microsecond, id).
/// One page of heads as a JSON array (built by PostgreSQL), and the next cursor.
pub fn list(db: &Db, ws: Uuid, f: &Filter) -> Result<(String, Option<String>), AppError> {
    let ms = |v: Option<i64>| v.map(Param::Int64).unwrap_or(Param::DbNull);
    let rows = db.query(
        "SELECT xmp_post_item(p, a.username)::text AS item, p.id::text AS id,
           (extract(epoch FROM p.created_at) * 1000000)::int8 AS created_us
         FROM posts p LEFT JOIN x_accounts a ON a.id = p.account_id
         WHERE p.workspace_id = $1::uuid AND p.thread_position = 0
           AND ($2::text IS NULL OR p.status = $2)
           AND ($3::uuid IS NULL OR p.account_id = $3::uuid)
           AND ($4::int8 IS NULL OR p.scheduled_at >=
                timestamptz 'epoch' + $4::int8 * interval '1 millisecond')
           AND ($5::int8 IS NULL OR p.scheduled_at <
                timestamptz 'epoch' + $5::int8 * interval '1 millisecond')
           AND ($6::int8 IS NULL OR (p.created_at, p.id) <
                (timestamptz 'epoch' + $6::int8 * interval '1 microsecond', $7::uuid))
         ORDER BY p.created_at DESC, p.id DESC LIMIT $8",
        &[
            Param::Uuid(ws.to_string()),
            opt_str(f.status.clone()),
            f.account
                .map(|a| Param::Uuid(a.to_string()))
                .unwrap_or(Param::DbNull),
            ms(f.from_ms),
            ms(f.to_ms),
            ms(f.cursor.map(|c| c.0)),
            f.cursor
                .map(|c| Param::Uuid(c.1.to_string()))
                .unwrap_or(Param::DbNull),
            Param::Int64(f.limit as i64 + 1),
        ],
    )?;
    let mut items = String::from("[");
    let mut last = None;
    for r in rows.iter().take(f.limit) {
        if last.is_some() {
            items.push(',');
        }
        items.push_str(&r.get::<String>("item")?);
        last = Some((r.get::<i64>("created_us")?, r.get::<String>("id")?));
    }
    items.push(']');
    let next = (rows.len() > f.limit)
        .then(|| last.map(|(us, id)| pagination::encode(us, id)))
        .flatten();
    Ok((items, next))
}

/// The head's status and account, locked for a change.
pub fn lock(
    db: &Db,
    ws: Uuid,
    id: Uuid,
) -> Result<(String, Option<Uuid>, Option<String>), AppError> {
    let rows = db.query(
        "SELECT status, account_id::text AS account, x_post_id FROM posts
         WHERE workspace_id = $1::uuid AND id = $2::uuid AND thread_position = 0 FOR UPDATE",
        &[Param::Uuid(ws.to_string()), Param::Uuid(id.to_string())],
    )?;
    let r = rows.first().ok_or_else(|| AppError::not_found("Post"))?;
    let account = r
        .get::<Option<String>>("account")?
        .map(|a| uuid(&a))
        .transpose()?;
    Ok((r.get("status")?, account, r.get("x_post_id")?))
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
        &[Param::Uuid(ws.to_string()), Param::Uuid(id.to_string())],
    )?;
    let first = draft.first()?;
    let poll = draft.poll.as_ref().map(|p| {
        json!({ "options": p.options, "durationMinutes": p.duration_minutes }).to_string()
    });
    db.execute(
        "UPDATE posts SET account_id = $3::uuid, content = $4,
           media_ids = ARRAY(SELECT jsonb_array_elements_text($5::text::jsonb)),
           reply_to = $6, quote_of = $7, poll = $8::text::jsonb, status = $9,
           scheduled_at = timestamptz 'epoch' + $10::int8 * interval '1 millisecond',
           queued = $11, normalized_text_hash = $12
         WHERE workspace_id = $1::uuid AND id = $2::uuid",
        &[
            Param::Uuid(ws.to_string()),
            Param::Uuid(id.to_string()),
            Param::Uuid(place.account_id.to_string()),
            Param::Str(first.text.as_str().to_string()),
            Param::Str(json!(first.media_ids).to_string()),
            opt_str(draft.reply_to.as_ref().map(|x| x.as_str().to_string())),
            opt_str(draft.quote_of.as_ref().map(|x| x.as_str().to_string())),
            opt_str(poll),
            Param::Str(draft.status.as_str().into()),
            place
                .scheduled_at_ms
                .map(Param::Int64)
                .unwrap_or(Param::DbNull),
            Param::Boolean(place.queued),
            Param::Str(first.text.duplicate_key()),
        ],
    )?;
    let author = db.query(
        "SELECT author_id::text AS author FROM posts WHERE id = $1::uuid",
        &[Param::Uuid(id.to_string())],
    )?;
    let author = author
        .first()
        .map(|r| r.get::<Option<String>>("author"))
        .transpose()?
        .flatten()
        .map(|a| uuid(&a))
        .transpose()?
        .unwrap_or_default();
    insert_parts(db, ws, author, id, draft, place, None, 1)
}

/// Sets the status of every part of a thread.
pub fn set_status(db: &Db, ws: Uuid, id: Uuid, status: &str) -> Result<(), AppError> {
    db.execute(
        "UPDATE posts SET status = $3 WHERE workspace_id = $1::uuid AND thread_id = $2::uuid",
        &[
            Param::Uuid(ws.to_string()),
            Param::Uuid(id.to_string()),
            Param::Str(status.into()),
        ],
    )?;
    Ok(())
}

pub fn mark_deleted_on_x(db: &Db, ws: Uuid, id: Uuid, now_ms: i64) -> Result<(), AppError> {
    db.execute(
        "UPDATE posts SET deleted_on_x_at = timestamptz 'epoch' + $3::int8 * interval '1 millisecond'
         WHERE workspace_id = $1::uuid AND id = $2::uuid",
        &[
            Param::Uuid(ws.to_string()),
            Param::Uuid(id.to_string()),
            Param::Int64(now_ms),
        ],
    )?;
    Ok(())
}

/// Whether the head is still in an editable state.
pub fn editable(status: &str) -> bool {
    matches!(status, "draft" | "scheduled")
}

/// The status a draft asks for, as stored.
pub fn status_of(draft: &Draft) -> &'static str {
    match draft.status {
        Status::Draft => "draft",
        Status::Scheduled => "scheduled",
    }
}
