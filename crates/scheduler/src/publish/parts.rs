//! A thread's parts as the tick publishes them: read from `posts`, turned into X's create
//! request, and looked for on X's timeline when an earlier attempt may have reached it.

use crate::matching::same_text;
use chrono::DateTime;
use common::db::{Db, Param, Row};
use common::error::AppError;
use common::x::{NewPost, XClient, XError};
use posts::store::Poll;
use uuid::Uuid;

/// One post of a thread.
pub(super) struct Part {
    pub(super) id: Uuid,
    pub(super) position: i64,
    pub(super) content: String,
    pub(super) media_ids: Vec<String>,
    pub(super) reply_to: Option<String>,
    pub(super) quote_of: Option<String>,
    pub(super) poll: Option<Poll>,
    /// Set once the part is on X.
    pub(super) x_post_id: Option<String>,
    /// When the create of this part was last sent (Unix milliseconds), as loaded.
    pub(super) last_attempt_ms: Option<i64>,
}

/// Every part of the thread whose head is `head`, in order, each with its last attempt
/// (`xmp_thread_parts`, migration 0012).
pub(super) fn load(db: &Db, head: Uuid) -> Result<Vec<Part>, AppError> {
    db.query_all(
        "SELECT * FROM xmp_thread_parts($1::uuid)",
        &[Param::from(head)],
        |r| {
            Ok(Part {
                id: r.get("id")?,
                position: r.get("position")?,
                content: r.get("content")?,
                media_ids: serde_json::from_str(&r.get::<String>("media")?).unwrap_or_default(),
                reply_to: r.get("reply_to")?,
                quote_of: r.get("quote_of")?,
                poll: poll(r)?,
                x_post_id: r.get("x_post_id")?,
                last_attempt_ms: r.get("last_attempt_ms")?,
            })
        },
    )
}

/// The part's poll, read as columns (`posts.poll` is `{"options": [...], "durationMinutes": n}`).
fn poll(r: &Row<'_>) -> Result<Option<Poll>, AppError> {
    let Some(options) = r.get::<Option<String>>("poll_options")? else {
        return Ok(None);
    };
    Ok(Some(Poll {
        options: serde_json::from_str(&options).unwrap_or_default(),
        duration_minutes: r.get::<Option<i64>>("poll_minutes")?.unwrap_or(1440),
    }))
}

/// X's create request for `part`, replying to `previous` (the part before it) when there is
/// one, else to what the post itself replies to.
pub(super) fn new_post(part: &Part, previous: Option<&str>) -> NewPost {
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
        let minutes = u32::try_from(poll.duration_minutes).unwrap_or(1440);
        post = post.with_poll(poll.options.clone(), minutes);
    }
    post
}

/// Looks for the part among the account's posts since `since_ms` (minus a minute of clock
/// skew). `Ok(None)` means proven absent.
pub(super) async fn reconcile(
    client: &XClient,
    user_id: &str,
    part: &Part,
    since_ms: i64,
) -> Result<Option<String>, XError> {
    let since = DateTime::from_timestamp_millis(since_ms - 60_000).unwrap_or_default();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let page = client.user_posts(user_id, since, token.as_deref()).await?;
        if let Some(found) = page.posts.iter().find(|p| same_text(&part.content, p)) {
            return Ok(Some(found.id.clone()));
        }
        match page.next_token {
            Some(next) => token = Some(next),
            None => return Ok(None),
        }
    }
    Ok(None)
}
