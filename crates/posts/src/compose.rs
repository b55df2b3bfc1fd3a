//! Validation of a whole post request (text, media, poll, thread, schedule) into a [`Draft`].
//!
//! Every rule is checked and every failure is collected with the path of its field
//! (`thread[2].content`, `poll.options[1]`), so a composer can mark all problems at once instead
//! of making the user resubmit once per mistake. Time is a parameter; media kinds come from the
//! caller (who knows the uploads), so this module stays pure.

use crate::media::MediaKind;
use crate::text::TweetText;
use chrono::{DateTime, Duration, Utc};
use common::error::AppError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use uuid::Uuid;

/// A post has up to four images, or exactly one GIF or video.
pub const MAX_IMAGES: usize = 4;
/// A thread has at most this many posts, the first one included.
pub const MAX_THREAD_POSTS: usize = 25;
pub const POLL_OPTIONS: std::ops::RangeInclusive<usize> = 2..=4;
pub const POLL_OPTION_MAX_CHARS: usize = 25;
/// Five minutes to seven days, as X allows.
pub const POLL_MINUTES: std::ops::RangeInclusive<i64> = 5..=10_080;
/// A time this far in the past still counts as "now": the client's clock and the request's
/// transit should not turn "publish at 09:30" sent at 09:30:05 into an error.
pub const CLOCK_SKEW_SECONDS: i64 = 30;
pub const MAX_DAYS_AHEAD: i64 = 365;

/// The body of `POST /api/tweets` (and of one row of a bulk import).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PostRequest {
    pub content: String,
    pub account_id: Option<String>,
    /// RFC 3339 with an offset: `2026-05-01T09:30:00+02:00` or `...Z`.
    pub scheduled_at: Option<String>,
    pub media_ids: Option<Vec<String>>,
    pub reply_to: Option<String>,
    pub quote_of: Option<String>,
    pub poll: Option<PollRequest>,
    /// Further posts of a thread, in order, each replying to the previous one.
    pub thread: Option<Vec<ThreadPartRequest>>,
    /// Schedule at the account's next free posting slot.
    pub queue: Option<bool>,
    /// `draft` or `scheduled`; defaults to `scheduled` when a time or the queue is given.
    pub status: Option<String>,
    /// Skip the platform's 24-hour duplicate check for this post.
    pub allow_duplicate: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PollRequest {
    pub options: Vec<String>,
    #[serde(deserialize_with = "common::json::integer")]
    pub duration_minutes: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThreadPartRequest {
    pub content: String,
    pub media_ids: Option<Vec<String>>,
}

/// A post request that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// `None`: the user's active account for the workspace.
    pub account_id: Option<Uuid>,
    /// The post itself first, then the rest of its thread (at least one part).
    pub parts: Vec<Part>,
    pub reply_to: Option<XId>,
    pub quote_of: Option<XId>,
    pub poll: Option<Poll>,
    pub status: Status,
    pub when: When,
    pub allow_duplicate: bool,
}

impl Draft {
    /// The post itself: the first part (every draft has one; [`check`] builds it so).
    pub fn first(&self) -> Result<&Part, AppError> {
        self.parts
            .first()
            .ok_or_else(|| AppError::internal("a draft without parts"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub text: TweetText,
    pub media_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// Trimmed.
    pub options: Vec<String>,
    pub duration_minutes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Scheduled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
        }
    }
}

/// When the post should go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A draft without a planned time.
    Unscheduled,
    At(DateTime<Utc>),
    /// The account's next free posting slot (see `posts::queue`), resolved when stored.
    NextFreeSlot,
}

/// An X post id: 1 to 19 ASCII digits (a snowflake fits in an `i64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XId(String);

impl XId {
    pub fn parse(s: &str) -> Option<XId> {
        let ok = (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| XId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One failed rule, with the JSON path of the field as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Validates a request; all failures become one 422 with `details.errors: [{field, message}]`.
pub fn validate(
    req: &PostRequest,
    now: DateTime<Utc>,
    media: impl Fn(&str) -> Option<MediaKind>,
) -> Result<Draft, AppError> {
    check(req, now, media).map_err(into_app_error)
}

/// [`validate`] without the HTTP error, for callers that report per item (bulk import).
pub fn check(
    req: &PostRequest,
    now: DateTime<Utc>,
    media: impl Fn(&str) -> Option<MediaKind>,
) -> Result<Draft, Vec<FieldError>> {
    let mut errs = Errors::default();

    let text = errs.text("content", &req.content);
    let account_id = req.account_id.as_deref().and_then(|s| {
        let id = Uuid::parse_str(s.trim()).ok();
        errs.require(id, "accountId", "must be a UUID")
    });
    let media_ids = check_media(&mut errs, "mediaIds", req.media_ids.as_deref(), &media);
    let poll = req.poll.as_ref().and_then(|p| check_poll(&mut errs, p));
    let reply_to = req.reply_to.as_deref().and_then(|s| {
        errs.require(
            XId::parse(s),
            "replyTo",
            "must be an X post id (1 to 19 digits)",
        )
    });
    let quote_of = req.quote_of.as_deref().and_then(|s| {
        errs.require(
            XId::parse(s),
            "quoteOf",
            "must be an X post id (1 to 19 digits)",
        )
    });

    // X takes one of media, a poll or a quote per post.
    let has_media = !media_ids.as_ref().is_none_or(Vec::is_empty);
    if has_media && req.poll.is_some() {
        errs.push("poll", "cannot be combined with mediaIds");
    }
    if req.quote_of.is_some() && has_media {
        errs.push("quoteOf", "cannot be combined with mediaIds");
    }
    if req.quote_of.is_some() && req.poll.is_some() {
        errs.push("quoteOf", "cannot be combined with poll");
    }

    let thread = req.thread.as_deref().unwrap_or_default();
    if thread.len() + 1 > MAX_THREAD_POSTS {
        errs.push(
            "thread",
            format!("a thread has at most {MAX_THREAD_POSTS} posts, the first one included"),
        );
    }
    let mut rest = Vec::with_capacity(thread.len());
    for (i, part) in thread.iter().enumerate() {
        let text = errs.text(&format!("thread[{i}].content"), &part.content);
        let prefix = format!("thread[{i}].mediaIds");
        let ids = check_media(&mut errs, &prefix, part.media_ids.as_deref(), &media);
        if let (Some(text), Some(media_ids)) = (text, ids) {
            rest.push(Part { text, media_ids });
        }
    }

    let (status, when) = check_schedule(&mut errs, req, now);

    match (errs.0.is_empty(), text, media_ids, status, when) {
        (true, Some(text), Some(media_ids), Some(status), Some(when)) => {
            let mut parts = vec![Part { text, media_ids }];
            parts.extend(rest);
            Ok(Draft {
                account_id,
                parts,
                reply_to,
                quote_of,
                poll,
                status,
                when,
                allow_duplicate: req.allow_duplicate.unwrap_or(false),
            })
        }
        _ => Err(errs.0),
    }
}

/// Parses an instant that names its offset; a naive local time is refused because the server
/// cannot know which zone the user meant.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The one 422 for a list of field errors; its message names the first problem.
pub fn into_app_error(errors: Vec<FieldError>) -> AppError {
    let message = match errors.as_slice() {
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more problems)",
            first.field,
            first.message,
            rest.len()
        ),
        [] => "the post is invalid".to_string(),
    };
    AppError::validation(message).with_details(json!({ "errors": errors }))
}

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn require<T>(&mut self, value: Option<T>, field: &str, message: &str) -> Option<T> {
        if value.is_none() {
            self.push(field, message);
        }
        value
    }

    fn text(&mut self, field: &str, content: &str) -> Option<TweetText> {
        TweetText::parse(content)
            .map_err(|e| self.push(field, e.message.clone()))
            .ok()
    }
}

/// `None` when a rule failed (already recorded); an absent list is an empty one.
fn check_media(
    errs: &mut Errors,
    field: &str,
    ids: Option<&[String]>,
    media: &impl Fn(&str) -> Option<MediaKind>,
) -> Option<Vec<String>> {
    let ids = ids.unwrap_or_default();
    let before = errs.0.len();
    let mut seen = HashSet::new();
    let mut kinds = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if !seen.insert(id.as_str()) {
            errs.push(&at, "is listed twice");
        } else {
            match media(id) {
                Some(kind) => kinds.push(kind),
                None => errs.push(&at, "is not an uploaded media id"),
            }
        }
    }
    let exclusive = kinds.iter().filter(|k| k.is_exclusive()).count();
    if exclusive > 0 && ids.len() > 1 {
        errs.push(field, "a GIF or video must be the only attachment");
    } else if ids.len() > MAX_IMAGES {
        errs.push(field, format!("at most {MAX_IMAGES} images"));
    }
    (errs.0.len() == before).then(|| ids.to_vec())
}

fn check_poll(errs: &mut Errors, poll: &PollRequest) -> Option<Poll> {
    let before = errs.0.len();
    if !POLL_OPTIONS.contains(&poll.options.len()) {
        errs.push("poll.options", "a poll has 2 to 4 options");
    }
    let options: Vec<String> = poll.options.iter().map(|o| o.trim().to_string()).collect();
    for (i, option) in options.iter().enumerate() {
        let chars = option.chars().count();
        if !(1..=POLL_OPTION_MAX_CHARS).contains(&chars) {
            errs.push(
                &format!("poll.options[{i}]"),
                format!("must be 1 to {POLL_OPTION_MAX_CHARS} characters"),
            );
        }
    }
    if !POLL_MINUTES.contains(&poll.duration_minutes) {
        errs.push(
            "poll.durationMinutes",
            "must be 5 to 10080 minutes (7 days)",
        );
    }
    (errs.0.len() == before).then_some(Poll {
        options,
        duration_minutes: poll.duration_minutes as u32,
    })
}

fn check_schedule(
    errs: &mut Errors,
    req: &PostRequest,
    now: DateTime<Utc>,
) -> (Option<Status>, Option<When>) {
    let at = req.scheduled_at.as_deref().and_then(|s| {
        let Some(at) = parse_instant(s) else {
            errs.push(
                "scheduledAt",
                "must be an RFC 3339 date-time with an offset, e.g. 2026-05-01T09:30:00+02:00",
            );
            return None;
        };
        if at < now - Duration::seconds(CLOCK_SKEW_SECONDS) {
            errs.push("scheduledAt", "must be in the future");
            None
        } else if at > now + Duration::days(MAX_DAYS_AHEAD) {
            errs.push("scheduledAt", "must be at most 365 days ahead");
            None
        } else {
            Some(at)
        }
    });
    let queue = req.queue.unwrap_or(false);
    if queue && req.scheduled_at.is_some() {
        errs.push("queue", "cannot be combined with scheduledAt");
    }
    let status = match req.status.as_deref().map(str::trim) {
        None if queue || req.scheduled_at.is_some() => Some(Status::Scheduled),
        None | Some("draft") => Some(Status::Draft),
        Some("scheduled") => Some(Status::Scheduled),
        Some(_) => errs.require(None, "status", "must be draft or scheduled"),
    };
    match status {
        Some(Status::Draft) if queue => {
            errs.push("queue", "a draft is not queued: use status scheduled");
        }
        Some(Status::Scheduled) if !queue && req.scheduled_at.is_none() => {
            errs.push(
                "scheduledAt",
                "is required for a scheduled post, unless queue is true",
            );
        }
        _ => {}
    }
    let when = match (at, queue) {
        (Some(at), _) => Some(When::At(at)),
        (None, true) => Some(When::NextFreeSlot),
        (None, false) if req.scheduled_at.is_none() => Some(When::Unscheduled),
        (None, false) => None,
    };
    (status, when)
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
