//! A thread's parts as the tick publishes them: read with the claim, turned into X's create
//! request, and looked for on X's timeline when an earlier attempt may have reached it.

use crate::matching::same_text;
use chrono::DateTime;
use common::error::AppError;
use common::x::{NewPost, XClient, XError};
use posts::store::Poll;
use serde::Deserialize;
use uuid::Uuid;

/// One post of a thread.
#[derive(Debug, Clone)]
pub(crate) struct Part {
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

/// A part as `xmp_thread_parts_json` (migration 0017) writes it.
#[derive(Deserialize)]
struct Stored {
    id: Uuid,
    position: i64,
    content: String,
    media: Option<Vec<String>>,
    reply_to: Option<String>,
    quote_of: Option<String>,
    poll_options: Option<Vec<String>>,
    poll_minutes: Option<i64>,
    x_post_id: Option<String>,
    last_attempt_ms: Option<i64>,
}

impl Part {
    /// Every part of a thread, in order, as the claim read them.
    pub(crate) fn list_from_json(json: &str) -> Result<Vec<Part>, AppError> {
        let stored: Vec<Stored> = serde_json::from_str(json).map_err(AppError::internal)?;
        Ok(stored.into_iter().map(Part::from).collect())
    }
}

impl From<Stored> for Part {
    fn from(s: Stored) -> Part {
        Part {
            id: s.id,
            position: s.position,
            content: s.content,
            media_ids: s.media.unwrap_or_default(),
            reply_to: s.reply_to,
            quote_of: s.quote_of,
            poll: s.poll_options.map(|options| Poll {
                options,
                duration_minutes: s.poll_minutes.unwrap_or(1440),
            }),
            x_post_id: s.x_post_id,
            last_attempt_ms: s.last_attempt_ms,
        }
    }
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
