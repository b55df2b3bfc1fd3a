//! Builders: one function per X API v2 request the platform makes.

use crate::x::error::XError;
use crate::x::oauth1::{self, encode};
use crate::x::{Auth, Endpoint};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Fields asked for on users.
pub const USER_FIELDS: &str =
    "created_at,description,profile_image_url,protected,public_metrics,verified";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    /// Not covered by OAuth 1.0a signatures.
    Json(Value),
}

/// One request to the X API, ready to be authorized and sent.
#[derive(Debug, Clone, PartialEq)]
pub struct XRequest {
    pub endpoint: Endpoint,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Body,
}

impl XRequest {
    fn new(endpoint: Endpoint, method: Method, path: String) -> Self {
        XRequest {
            endpoint,
            method,
            path,
            query: Vec::new(),
            body: Body::Empty,
        }
    }

    fn query(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_string(), v.into()));
        self
    }

    fn json(mut self, v: Value) -> Self {
        self.body = Body::Json(v);
        self
    }

    /// The full URL under `base` (no trailing slash needed), query RFC 3986-encoded.
    pub fn url(&self, base: &str) -> String {
        let mut url = format!("{}{}", base.trim_end_matches('/'), self.path);
        if !self.query.is_empty() {
            let q: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        url
    }

    /// `(content-type, bytes)` of the body.
    pub fn body_bytes(&self) -> (Option<&'static str>, Vec<u8>) {
        match &self.body {
            Body::Empty => (None, Vec::new()),
            Body::Json(v) => (Some("application/json"), v.to_string().into_bytes()),
        }
    }

    /// The `Authorization` header for this request; `nonce` and `timestamp` (Unix seconds) only
    /// matter for OAuth 1.0a.
    pub fn authorization(&self, base: &str, auth: &Auth, nonce: &str, timestamp: i64) -> String {
        match auth {
            Auth::User(token) | Auth::App(token) => format!("Bearer {}", token.expose()),
            Auth::OAuth1(creds) => oauth1::authorization_header(
                self.method.as_str(),
                &self.url(base),
                &[],
                creds,
                nonce,
                timestamp,
            ),
        }
    }
}

/// X ids are 1–19 digits; checking them keeps path segments from being anything else.
pub fn check_id(name: &str, id: &str) -> Result<(), XError> {
    if !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(XError::InvalidRequest {
            detail: format!("`{name}` must be 1 to 19 digits"),
            details: json!({ "parameter": name, "value": id }),
        })
    }
}

pub fn me() -> XRequest {
    XRequest::new(Endpoint::Me, Method::Get, "/2/users/me".into()).query("user.fields", USER_FIELDS)
}

pub fn user(id: &str) -> Result<XRequest, XError> {
    check_id("id", id)?;
    Ok(
        XRequest::new(Endpoint::UserById, Method::Get, format!("/2/users/{id}"))
            .query("user.fields", USER_FIELDS),
    )
}

/// Who may reply to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplySettings {
    Following,
    MentionedUsers,
    Subscribers,
    Verified,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyTo {
    pub in_reply_to_tweet_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaIds {
    pub media_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub duration_minutes: u32,
}

/// The body of `POST /2/tweets`. Text rules (280 weighted characters) and media/poll/quote
/// exclusivity are checked by the domain before this point; X checks them again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewPost {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyTo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_tweet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaIds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll: Option<NewPoll>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_settings: Option<ReplySettings>,
}

impl NewPost {
    pub fn text(text: impl Into<String>) -> Self {
        NewPost {
            text: text.into(),
            ..Self::default()
        }
    }

    pub fn in_reply_to(mut self, post_id: impl Into<String>) -> Self {
        self.reply = Some(ReplyTo {
            in_reply_to_tweet_id: post_id.into(),
        });
        self
    }

    pub fn quoting(mut self, post_id: impl Into<String>) -> Self {
        self.quote_tweet_id = Some(post_id.into());
        self
    }

    pub fn with_media(mut self, media_ids: Vec<String>) -> Self {
        self.media = Some(MediaIds { media_ids });
        self
    }

    pub fn with_poll(mut self, options: Vec<String>, duration_minutes: u32) -> Self {
        self.poll = Some(NewPoll {
            options,
            duration_minutes,
        });
        self
    }

    pub fn with_reply_settings(mut self, settings: ReplySettings) -> Self {
        self.reply_settings = Some(settings);
        self
    }
}

pub fn create_post(post: &NewPost) -> XRequest {
    XRequest::new(Endpoint::CreatePost, Method::Post, "/2/tweets".into())
        .json(serde_json::to_value(post).unwrap_or(Value::Null))
}

pub fn delete_post(id: &str) -> Result<XRequest, XError> {
    check_id("id", id)?;
    Ok(XRequest::new(
        Endpoint::DeletePost,
        Method::Delete,
        format!("/2/tweets/{id}"),
    ))
}

/// `user_id` is the acting account's own X id (X refuses any other).
pub fn like(user_id: &str, post_id: &str) -> Result<XRequest, XError> {
    check_id("id", user_id)?;
    check_id("tweet_id", post_id)?;
    Ok(XRequest::new(
        Endpoint::Like,
        Method::Post,
        format!("/2/users/{user_id}/likes"),
    )
    .json(json!({ "tweet_id": post_id })))
}

pub fn unlike(user_id: &str, post_id: &str) -> Result<XRequest, XError> {
    check_id("id", user_id)?;
    check_id("tweet_id", post_id)?;
    Ok(XRequest::new(
        Endpoint::Unlike,
        Method::Delete,
        format!("/2/users/{user_id}/likes/{post_id}"),
    ))
}

pub fn repost(user_id: &str, post_id: &str) -> Result<XRequest, XError> {
    check_id("id", user_id)?;
    check_id("tweet_id", post_id)?;
    Ok(XRequest::new(
        Endpoint::Repost,
        Method::Post,
        format!("/2/users/{user_id}/retweets"),
    )
    .json(json!({ "tweet_id": post_id })))
}

pub fn unrepost(user_id: &str, post_id: &str) -> Result<XRequest, XError> {
    check_id("id", user_id)?;
    check_id("source_tweet_id", post_id)?;
    Ok(XRequest::new(
        Endpoint::Unrepost,
        Method::Delete,
        format!("/2/users/{user_id}/retweets/{post_id}"),
    ))
}

/// Which metrics a lookup asks for. Non-public and organic metrics exist only for the
/// author's own posts younger than 30 days; for others X answers with partial `errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricFields {
    Public,
    /// Public, non-public and organic.
    All,
}

impl MetricFields {
    fn tweet_fields(self) -> &'static str {
        match self {
            MetricFields::Public => "author_id,conversation_id,created_at,public_metrics",
            MetricFields::All => {
                "author_id,conversation_id,created_at,non_public_metrics,organic_metrics,public_metrics"
            }
        }
    }
}

/// The most ids one lookup takes.
pub const MAX_LOOKUP_IDS: usize = 100;

pub fn lookup_posts(ids: &[&str], fields: MetricFields) -> Result<XRequest, XError> {
    if ids.is_empty() || ids.len() > MAX_LOOKUP_IDS {
        return Err(XError::InvalidRequest {
            detail: format!(
                "a lookup takes 1 to {MAX_LOOKUP_IDS} ids, not {}",
                ids.len()
            ),
            details: Value::Null,
        });
    }
    for id in ids {
        check_id("ids", id)?;
    }
    Ok(
        XRequest::new(Endpoint::LookupPosts, Method::Get, "/2/tweets".into())
            .query("ids", ids.join(","))
            .query("tweet.fields", fields.tweet_fields()),
    )
}

/// Fields asked for on the account's own timeline.
pub const TIMELINE_FIELDS: &str = "author_id,conversation_id,created_at,entities,public_metrics";

/// One page (up to 100, newest first) of the account's own posts since `start_time`, used to
/// reconcile a create whose outcome is unknown.
pub fn user_posts(
    user_id: &str,
    start_time: DateTime<Utc>,
    pagination_token: Option<&str>,
) -> Result<XRequest, XError> {
    check_id("id", user_id)?;
    let mut req = XRequest::new(
        Endpoint::UserPosts,
        Method::Get,
        format!("/2/users/{user_id}/tweets"),
    )
    .query("max_results", "100")
    .query(
        "start_time",
        start_time.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
    // `entities` gives each t.co link's original URL: X answers the text with its URLs
    // shortened, and reconciliation compares texts.
    .query("tweet.fields", TIMELINE_FIELDS);
    if let Some(token) = pagination_token {
        req = req.query("pagination_token", token);
    }
    Ok(req)
}

/// X's media categories for posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaCategory {
    TweetImage,
    TweetGif,
    TweetVideo,
}

impl MediaCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaCategory::TweetImage => "tweet_image",
            MediaCategory::TweetGif => "tweet_gif",
            MediaCategory::TweetVideo => "tweet_video",
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One-shot upload (images), as JSON with base64 `media`.
pub fn media_upload(bytes: &[u8], category: MediaCategory) -> XRequest {
    XRequest::new(
        Endpoint::MediaUpload,
        Method::Post,
        "/2/media/upload".into(),
    )
    .json(json!({ "media": b64(bytes), "media_category": category.as_str() }))
}

pub fn media_initialize(total_bytes: u64, media_type: &str, category: MediaCategory) -> XRequest {
    XRequest::new(
        Endpoint::MediaUpload,
        Method::Post,
        "/2/media/upload/initialize".into(),
    )
    .json(json!({
        "total_bytes": total_bytes, "media_type": media_type, "media_category": category.as_str(),
    }))
}

pub fn media_append(media_id: &str, segment_index: u32, chunk: &[u8]) -> Result<XRequest, XError> {
    check_id("id", media_id)?;
    Ok(XRequest::new(
        Endpoint::MediaUpload,
        Method::Post,
        format!("/2/media/upload/{media_id}/append"),
    )
    .json(json!({ "media": b64(chunk), "segment_index": segment_index })))
}

pub fn media_finalize(media_id: &str) -> Result<XRequest, XError> {
    check_id("id", media_id)?;
    Ok(XRequest::new(
        Endpoint::MediaUpload,
        Method::Post,
        format!("/2/media/upload/{media_id}/finalize"),
    ))
}

pub fn media_status(media_id: &str) -> Result<XRequest, XError> {
    check_id("media_id", media_id)?;
    Ok(
        XRequest::new(Endpoint::MediaStatus, Method::Get, "/2/media/upload".into())
            .query("command", "STATUS")
            .query("media_id", media_id),
    )
}
