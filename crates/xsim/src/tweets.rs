//! POST /2/tweets, DELETE /2/tweets/:id.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::ctx::{parse_id, Ctx};
use crate::entities::{self, MediaLink};
use crate::problem::{json_response, ok, ApiError, ApiResult};
use crate::ratelimit::{self, Ep};
use crate::state::{Inner, Poll, Post, SimState};
use crate::text;

pub const WRITE_SCOPES: &[&str] = &["tweet.read", "tweet.write", "users.read"];
const DUPLICATE: &str = "You are not allowed to create a Tweet with duplicate content.";
const NOT_PERMITTED: &str = "You are not permitted to perform this action.";
const REPLY_SETTINGS: &[&str] = &["following", "mentionedUsers", "subscribers", "verified"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyReq {
    in_reply_to_tweet_id: String,
    #[serde(default)]
    #[allow(dead_code)]
    exclude_reply_user_ids: Option<Value>,
    #[serde(default)]
    #[allow(dead_code)]
    auto_populate_reply_metadata: Option<Value>,
}

#[derive(Deserialize)]
struct MediaReq {
    media_ids: Vec<String>,
}

#[derive(Deserialize)]
struct PollReq {
    options: Vec<String>,
    duration_minutes: i64,
    reply_settings: Option<String>,
}

/// The body of POST /2/tweets (unknown fields are rejected, as X's schema says).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CreateReq {
    #[serde(default)]
    text: Option<String>,
    reply: Option<ReplyReq>,
    quote_tweet_id: Option<String>,
    media: Option<MediaReq>,
    poll: Option<PollReq>,
    reply_settings: Option<String>,
    card_uri: Option<Value>,
    community_id: Option<Value>,
    direct_message_deep_link: Option<Value>,
    edit_options: Option<Value>,
    for_super_followers_only: Option<Value>,
    geo: Option<Value>,
    made_with_ai: Option<Value>,
    nullcast: Option<Value>,
    paid_partnership: Option<Value>,
    share_with_followers: Option<Value>,
}

struct Checked {
    text: String,
    /// What X stores: the text NFC, trimmed, URLs shortened; and its entities.
    stored: (String, entities::Entities),
    dup_key: Option<u64>,
    reply_to: Option<u64>,
    quote_of: Option<u64>,
    media_ids: Vec<u64>,
    poll: Option<Poll>,
    reply_settings: Option<String>,
}

fn id_param(param: &str, v: &str) -> Result<u64, ApiError> {
    parse_id(v).ok_or_else(|| {
        ApiError::invalid(
            param,
            v,
            &format!("The `{param}` value [{v}] does not match ^[0-9]{{1,19}}$"),
        )
    })
}

fn validate(req: CreateReq) -> Result<Checked, ApiError> {
    let text = req.text.unwrap_or_default();
    let attachments = [
        req.media.is_some(),
        req.poll.is_some(),
        req.quote_tweet_id.is_some(),
        req.card_uri.is_some(),
    ];
    if attachments.iter().filter(|b| **b).count() > 1 {
        return Err(ApiError::invalid(
            "",
            "",
            "You can only specify one of the following: media, poll, quote_tweet_id, card_uri.",
        ));
    }
    let media_ids = match &req.media {
        Some(m) => checked_media_ids(m)?,
        None => Vec::new(),
    };
    if text.trim().is_empty() && media_ids.is_empty() {
        return Err(ApiError::invalid(
            "text",
            &text,
            "Post text must not be empty unless the post has media.",
        ));
    }
    let poll = req.poll.map(checked_poll).transpose()?;
    if let Some(rs) = &req.reply_settings {
        check_reply_settings("reply_settings", rs)?;
    }
    let reply_to = req
        .reply
        .as_ref()
        .map(|r| id_param("reply.in_reply_to_tweet_id", &r.in_reply_to_tweet_id))
        .transpose()?;
    let quote_of = req
        .quote_tweet_id
        .as_deref()
        .map(|q| id_param("quote_tweet_id", q))
        .transpose()?;
    if text::weighted_length(&text) > text::MAX_WEIGHTED_LENGTH {
        return Err(ApiError::forbidden(NOT_PERMITTED));
    }
    let dup_key = (!text.trim().is_empty()).then(|| {
        let mut h = DefaultHasher::new();
        text::nfc(text.trim()).hash(&mut h);
        h.finish()
    });
    // Outside the simulator's lock: twitter-text's parser is the costly part of a create.
    let stored = entities::shorten(&text::nfc(text.trim()));
    Ok(Checked {
        stored,
        text,
        dup_key,
        reply_to,
        quote_of,
        media_ids,
        poll,
        reply_settings: req.reply_settings,
    })
}

/// One to four media ids, each a number of up to 19 digits.
fn checked_media_ids(m: &MediaReq) -> Result<Vec<u64>, ApiError> {
    if m.media_ids.is_empty() || m.media_ids.len() > 4 {
        return Err(ApiError::invalid(
            "media.media_ids",
            &m.media_ids.join(","),
            "Posts can have between 1 and 4 media ids.",
        ));
    }
    m.media_ids
        .iter()
        .map(|id| id_param("media.media_ids", id))
        .collect()
}

/// X's limits in the order X checks them: the option count, each option's length, the duration.
fn checked_poll(p: PollReq) -> Result<Poll, ApiError> {
    if !(2..=4).contains(&p.options.len()) {
        return Err(ApiError::invalid(
            "poll.options",
            &p.options.join(","),
            "A poll needs between 2 and 4 options.",
        ));
    }
    if let Some(o) = p
        .options
        .iter()
        .find(|o| !(1..=25).contains(&o.chars().count()))
    {
        return Err(ApiError::invalid(
            "poll.options",
            o,
            "Poll options must be between 1 and 25 characters.",
        ));
    }
    if !(5..=10_080).contains(&p.duration_minutes) {
        return Err(ApiError::invalid(
            "poll.duration_minutes",
            &p.duration_minutes.to_string(),
            "Poll duration must be between 5 and 10080 minutes.",
        ));
    }
    if let Some(rs) = &p.reply_settings {
        check_reply_settings("poll.reply_settings", rs)?;
    }
    Ok(Poll {
        options: p.options,
        duration_minutes: p.duration_minutes as u32,
    })
}

fn check_reply_settings(param: &str, v: &str) -> Result<(), ApiError> {
    if REPLY_SETTINGS.contains(&v) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            v,
            &format!("The `{param}` value [{v}] is not one of [following, mentionedUsers, subscribers, verified]"),
        ))
    }
}

pub async fn create(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    let user_id = auth.user_with(WRITE_SCOPES)?;
    let rl = ratelimit::check(&mut st.inner.lock(), st.clock.now(), Ep::CreatePost, &auth)?;
    let result = ctx
        .json::<CreateReq>()
        .and_then(validate)
        .and_then(|c| insert(&st, user_id, auth.app_id(), c));
    Ok(rl.apply(match result {
        Ok(post) => json_response(
            StatusCode::CREATED,
            &json!({"data": {"id": post.0.to_string(), "text": post.1, "edit_history_tweet_ids": [post.0.to_string()]}}),
        ),
        Err(e) => axum::response::IntoResponse::into_response(e),
    }))
}

fn insert(st: &SimState, user_id: u64, app_id: u64, c: Checked) -> Result<(u64, String), ApiError> {
    let now_ms = st.clock.now_ms();
    let mut inner = st.inner.lock();
    let inner = &mut *inner;
    let has_video = check_media(inner, user_id, now_ms.div_euclid(1000), &c.media_ids)?;
    let reply_to = check_targets(inner, &c)?;
    check_duplicate(inner, user_id, c.dup_key, now_ms)?;
    let id = inner.next_id(now_ms);
    if let Some(k) = c.dup_key {
        inner.dups.insert((user_id, k), id);
    }
    if let Some((pid, _)) = reply_to {
        inner.posts.get_mut(&pid).expect("checked").replies += 1;
    }
    if let Some(q) = c.quote_of {
        inner.posts.get_mut(&q).expect("checked").quotes += 1;
    }
    inner.timeline.entry(user_id).or_default().push(id);
    let (mut text, mut entities) = c.stored;
    if let Some(m) = c.media_ids.first() {
        let username = inner
            .users
            .get(&user_id)
            .map_or("i", |u| u.username.as_str());
        let kind = if has_video { "video" } else { "photo" };
        let media = MediaLink {
            media_key: format!("3_{m}"),
            expanded_url: format!("https://x.com/{username}/status/{id}/{kind}/1"),
        };
        entities::append_media(&mut text, &mut entities, media);
    }
    entities.resolve_mentions(|name| inner.usernames.get(&name.to_lowercase()).copied());
    inner.posts.insert(
        id,
        Post {
            id,
            author_id: user_id,
            app_id,
            text: text.clone(),
            sent_text: c.text,
            entities,
            created_at_ms: now_ms,
            deleted: false,
            reply_to,
            quote_of: c.quote_of,
            media_ids: c.media_ids,
            poll: c.poll,
            reply_settings: c.reply_settings,
            likes: 0,
            retweets: 0,
            replies: 0,
            quotes: 0,
        },
    );
    Ok((id, text))
}

/// Every id is the user's own finished upload, and a GIF or a video comes alone; answers
/// whether the media is a video.
fn check_media(inner: &Inner, user_id: u64, now: i64, ids: &[u64]) -> Result<bool, ApiError> {
    let mut kinds = (0, 0, 0); // images, gifs, videos
    for id in ids {
        match inner.media.get(id) {
            Some(m) if m.owner == user_id && m.ready(now) => {
                if m.is_video() {
                    kinds.2 += 1
                } else if m.is_gif() {
                    kinds.1 += 1
                } else {
                    kinds.0 += 1
                }
            }
            _ => {
                return Err(ApiError::invalid(
                    "media.media_ids",
                    &id.to_string(),
                    "Your media IDs are invalid.",
                ))
            }
        }
    }
    if (kinds.1 + kinds.2 > 0) && ids.len() > 1 {
        return Err(ApiError::invalid(
            "media.media_ids",
            "",
            "A post can have up to 4 images, or 1 GIF, or 1 video.",
        ));
    }
    Ok(kinds.2 > 0)
}

/// The replied-to and quoted posts exist and are not deleted; answers the replied-to post
/// and its author.
fn check_targets(inner: &Inner, c: &Checked) -> Result<Option<(u64, u64)>, ApiError> {
    let reply_to = match c.reply_to {
        Some(pid) => match inner.posts.get(&pid) {
            Some(p) if !p.deleted => Some((pid, p.author_id)),
            _ => {
                return Err(ApiError::forbidden(
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                ))
            }
        },
        None => None,
    };
    if let Some(q) = c.quote_of {
        if inner.posts.get(&q).is_none_or(|p| p.deleted) {
            return Err(ApiError::forbidden(
                "You attempted to quote a Tweet that is deleted or not visible to you.",
            ));
        }
    }
    Ok(reply_to)
}

/// X refuses the same text from the same user within 24 hours while the first post stands.
fn check_duplicate(
    inner: &Inner,
    user_id: u64,
    dup_key: Option<u64>,
    now_ms: i64,
) -> Result<(), ApiError> {
    let Some(k) = dup_key else {
        return Ok(());
    };
    let prev = inner
        .dups
        .get(&(user_id, k))
        .and_then(|id| inner.posts.get(id));
    match prev {
        Some(prev) if !prev.deleted && now_ms - prev.created_at_ms < 86_400_000 => {
            Err(ApiError::forbidden(DUPLICATE))
        }
        _ => Ok(()),
    }
}

pub async fn delete(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    let user_id = auth.user_with(WRITE_SCOPES)?;
    let mut inner = st.inner.lock();
    let rl = ratelimit::check(&mut inner, st.clock.now(), Ep::DeletePost, &auth)?;
    let result = match parse_id(&id) {
        None => Err(id_param("id", &id).unwrap_err()),
        Some(pid) => match inner.posts.get_mut(&pid) {
            Some(p) if !p.deleted && p.author_id == user_id => {
                p.deleted = true;
                Ok(ok(&json!({"data": {"deleted": true}})))
            }
            Some(p) if !p.deleted => Err(ApiError::forbidden(
                "You are not allowed to delete a Tweet you did not create.",
            )),
            _ => Err(ApiError::not_found("tweet", &id)),
        },
    };
    drop(inner);
    Ok(rl.apply(result.unwrap_or_else(axum::response::IntoResponse::into_response)))
}

/// Shorthand used by the other handlers.
pub fn respond(rl: ratelimit::RateInfo, r: Result<Response, ApiError>) -> ApiResult {
    Ok(rl.apply(r.unwrap_or_else(axum::response::IntoResponse::into_response)))
}
