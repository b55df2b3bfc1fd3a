//! Reading posts: one post with its thread and history ([`get`]), and pages of thread heads
//! ([`list`]). A head is shown as `xmp_post_item` (migration 0018) builds it, for the list and
//! the single post alike, so the two can never disagree.

use crate::status::{EventKind, PostStatus};
use common::clock::rfc3339;
use common::db::{Arg, Call, Db, Param, Row, Rows};
use common::error::AppError;
use common::pagination::{self, invalid};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A post: what the rules read of its head as typed fields, the rest of its thread and its
/// history. The answer shows the head as PostgreSQL builds it ([`Post::to_json`]): decoding
/// that JSON into fields too would cost every component that links this crate about 15 KB of
/// deserialising code, for fields that only pass through.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: Uuid,
    pub status: PostStatus,
    pub content: String,
    pub media_ids: Vec<String>,
    /// As the answer shows it (RFC 3339, milliseconds).
    pub scheduled_at: Option<String>,
    pub deleted_on_x: bool,
    pub x_post_id: Option<String>,
    /// `None` once the account was removed.
    pub account_id: Option<Uuid>,
    pub reply_to: Option<String>,
    pub quote_of: Option<String>,
    /// The poll as `posts.poll` stores it (jsonb's canonical text, so equal polls are equal).
    pub poll: Option<String>,
    /// The parts after the head, in order.
    pub thread: Vec<ThreadPart>,
    pub history: Vec<HistoryEvent>,
    /// The head as `xmp_post_item` builds it.
    item: String,
}

impl Post {
    /// Every id the post has on X: the head's, then each published part's.
    pub fn x_post_ids(&self) -> Vec<String> {
        self.x_post_id
            .iter()
            .chain(self.thread.iter().filter_map(|p| p.x_post_id.as_ref()))
            .cloned()
            .collect()
    }

    /// The post as the API shows it: the head's fields, `thread` and `history`.
    pub fn to_json(&self) -> Result<Value, AppError> {
        let mut post: Value = serde_json::from_str(&self.item)
            .map_err(|e| AppError::internal(format!("xmp_post_item is not JSON: {e}")))?;
        let thread = serde_json::to_value(&self.thread).map_err(AppError::internal)?;
        let history = serde_json::to_value(&self.history).map_err(AppError::internal)?;
        common::json::set(&mut post, "thread", thread);
        common::json::set(&mut post, "history", history);
        Ok(post)
    }
}

/// A poll as stored in `posts.poll` (`{"options": [...], "durationMinutes": n}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    pub options: Vec<String>,
    pub duration_minutes: i64,
}

/// A part of a thread after its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadPart {
    pub id: Uuid,
    pub position: i64,
    pub content: String,
    pub media_ids: Vec<String>,
    pub status: PostStatus,
    pub x_post_id: Option<String>,
}

/// One entry of a post's history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub kind: EventKind,
    pub at: String,
    pub actor_id: Option<Uuid>,
    pub details: Value,
}

/// A JSON text column decoded into `T`; our SQL builds it, so a mismatch is an internal error.
pub(crate) fn json_column<T: for<'de> Deserialize<'de>>(
    r: &Row<'_>,
    column: &str,
) -> Result<T, AppError> {
    let text: String = r.get(column)?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::internal(format!("column {column} is not the JSON we built: {e}")))
}

impl ThreadPart {
    fn from_row(r: &Row<'_>) -> Result<ThreadPart, AppError> {
        Ok(ThreadPart {
            id: r.get("id")?,
            position: r.get("position")?,
            content: r.get("content")?,
            media_ids: json_column(r, "media_ids")?,
            status: PostStatus::read(r, "status")?,
            x_post_id: r.get("x_post_id")?,
        })
    }
}

impl Post {
    /// The head's row of `xmp_post_thread`, its thread and history still to be added.
    fn from_head(r: &Row<'_>, part: ThreadPart) -> Result<Post, AppError> {
        let item = r
            .get::<Option<String>>("item")?
            .ok_or_else(|| AppError::internal("a thread without its head"))?;
        Ok(Post {
            id: part.id,
            status: part.status,
            content: part.content,
            media_ids: part.media_ids,
            scheduled_at: r.get("scheduled_at")?,
            deleted_on_x: r.get("deleted_on_x")?,
            x_post_id: part.x_post_id,
            account_id: r.get("account_id")?,
            reply_to: r.get("reply_to")?,
            quote_of: r.get("quote_of")?,
            poll: r.get("poll")?,
            thread: Vec::new(),
            history: Vec::new(),
            item,
        })
    }
}

/// One post with its thread parts and history, in one statement: `xmp_post_thread` (migration
/// 0012) answers the thread's rows in order, what a part shows, and on the head's row also the
/// head as the API shows it, what the rules read of it and the history as JSON. The read the
/// post route folds into the guard's statement.
pub fn thread(id: Uuid) -> Call {
    Call::new(
        "xmp_post_thread",
        vec![Arg::Workspace, Arg::Value(Param::from(id), "uuid")],
    )
}

/// One post of workspace `ws`, read by [`thread`].
pub fn get(db: &Db, ws: Uuid, id: Uuid) -> Result<Post, AppError> {
    from_thread(thread(id).run(db, Some(ws), None)?)
}

/// The post in the rows of [`thread`]; none is a 404.
pub fn from_thread(rows: Rows) -> Result<Post, AppError> {
    // The head comes first (position 0), then the parts in order.
    let mut rows = rows.iter();
    let head = rows.next().ok_or_else(|| AppError::not_found("Post"))?;
    let mut post = Post::from_head(&head, ThreadPart::from_row(&head)?)?;
    for part in rows {
        post.thread.push(ThreadPart::from_row(&part)?);
    }
    post.history = json_column::<Vec<StoredEvent>>(&head, "history")?
        .into_iter()
        .map(StoredEvent::shown)
        .collect::<Result<_, _>>()?;
    Ok(post)
}

/// A history event as `xmp_post_thread` sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredEvent {
    kind: String,
    details: Value,
    actor_id: Option<Uuid>,
    at_ms: i64,
}

impl StoredEvent {
    fn shown(self) -> Result<HistoryEvent, AppError> {
        Ok(HistoryEvent {
            kind: EventKind::parse(&self.kind).ok_or_else(|| {
                AppError::internal(format!("unknown post event kind {:?}", self.kind))
            })?,
            at: rfc3339(self.at_ms),
            actor_id: self.actor_id,
            details: self.details,
        })
    }
}

/// List filters and the page position.
pub struct Filter {
    pub status: Option<PostStatus>,
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
        let status = nonempty("status")
            .map(|s| PostStatus::parse(&s).ok_or_else(|| invalid("status", "unknown status")))
            .transpose()?;
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

/// A page of posts (thread heads), newest first, cursor on (creation microsecond, id): the
/// items as one JSON array built by PostgreSQL (spliced into the answer as is, since decoding
/// every column of every row in the component cost more than the query), and the next cursor.
pub fn list(db: &Db, ws: Uuid, f: &Filter) -> Result<(String, Option<String>), AppError> {
    page_from_rows(page(f).run(db, Some(ws), None)?)
}

/// The read of [`list`], `xmp_post_page` (migration 0016, which says how its optional filters
/// keep to the indexes; 0020 builds the items from the rows the heads were found at): the one
/// `GET /api/tweets` folds into the guard's statement.
pub fn page(f: &Filter) -> Call {
    let status = f.status.map(|s| s.as_str().to_string());
    Call::new(
        "xmp_post_page",
        vec![
            Arg::Workspace,
            Arg::Value(Param::from(status), "text"),
            Arg::Value(Param::from(f.account), "uuid"),
            Arg::Value(Param::from(f.from_ms), "int8"),
            Arg::Value(Param::from(f.to_ms), "int8"),
            Arg::Value(Param::from(f.cursor.map(|c| c.0)), "int8"),
            Arg::Value(Param::from(f.cursor.map(|c| c.1)), "uuid"),
            Arg::Value(Param::Int64(f.limit as i64), "int8"),
        ],
    )
}

/// The page in the one row of [`page`]: its items and the next cursor.
pub fn page_from_rows(rows: Rows) -> Result<(String, Option<String>), AppError> {
    let row = rows
        .first()
        .ok_or_else(|| AppError::internal("xmp_post_page answered no row"))?;
    let more: bool = row.get("more")?;
    let last: Option<String> = row.get("last")?;
    Ok((
        row.get("items")?,
        last.filter(|_| more).map(|l| pagination::encode_text(&l)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn post(item: Value) -> Post {
        Post {
            id: Uuid::nil(),
            status: PostStatus::Scheduled,
            content: "Hello".into(),
            media_ids: vec![],
            scheduled_at: None,
            deleted_on_x: false,
            x_post_id: None,
            account_id: None,
            reply_to: None,
            quote_of: None,
            poll: None,
            thread: vec![],
            history: vec![],
            item: item.to_string(),
        }
    }

    #[test]
    fn a_post_answers_the_head_as_postgres_built_it_then_its_thread_and_history() {
        let head = json!({
            "id": "0190a3c2-7d1e-7c3a-9d2b-5e1f2a3b4c5d", "content": "Hello", "status": "scheduled",
            "scheduledAt": "2026-05-01T07:30:00.000Z", "publishedAt": null, "deletedOnXAt": null,
            "xPostId": null, "account": { "id": "0190a3c2-0000-7000-8000-000000000001",
            "username": "acme" }, "mediaIds": [], "replyTo": null, "quoteOf": null,
            "poll": { "options": ["yes", "no"], "durationMinutes": 1440 }, "queued": false,
            "attempts": 0, "lastError": null, "createdAt": "2026-04-30T10:00:00.000Z",
            "updatedAt": "2026-04-30T10:00:00.000Z"
        });
        let mut post = post(head.clone());
        post.thread = vec![ThreadPart {
            id: Uuid::nil(),
            position: 1,
            content: "Part two".into(),
            media_ids: vec!["111".into()],
            status: PostStatus::Scheduled,
            x_post_id: None,
        }];
        post.history = vec![HistoryEvent {
            kind: EventKind::DeletedOnX,
            at: "2026-04-30T10:00:00.000Z".into(),
            actor_id: None,
            details: json!({ "xPostIds": ["1"] }),
        }];

        let mut expected = head;
        common::json::set(
            &mut expected,
            "thread",
            json!([{ "id": Uuid::nil(), "position": 1, "content": "Part two",
                     "mediaIds": ["111"], "status": "scheduled", "xPostId": null }]),
        );
        common::json::set(
            &mut expected,
            "history",
            json!([{ "kind": "deleted_on_x", "at": "2026-04-30T10:00:00.000Z",
                     "actorId": null, "details": { "xPostIds": ["1"] } }]),
        );
        assert_eq!(post.to_json().ok(), Some(expected));
    }

    #[test]
    fn a_head_that_is_not_json_is_an_internal_error() {
        let mut post = post(Value::Null);
        post.item = "{".into();
        assert_eq!(post.to_json().map_err(|e| e.status()).err(), Some(500));
    }

    #[test]
    fn x_post_ids_are_the_head_then_each_published_part() {
        let mut post = post(json!({}));
        post.x_post_id = Some("10".into());
        let part = |x: Option<&str>| ThreadPart {
            id: Uuid::nil(),
            position: 1,
            content: "p".into(),
            media_ids: vec![],
            status: PostStatus::Published,
            x_post_id: x.map(str::to_string),
        };
        post.thread = vec![part(Some("11")), part(None), part(Some("13"))];
        assert_eq!(post.x_post_ids(), ["10", "11", "13"]);
    }
}
