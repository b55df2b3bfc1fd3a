//! X API v2 requests and responses, without I/O: builders that turn intentions into
//! [`XRequest`]s and parsers that turn bodies into types. Shapes follow X's OpenAPI document
//! (`shared/x-api/openapi.json`), with X's wire names (`tweet`, `retweet_count`).

use super::error::{problem_suffix, XError};
use super::oauth1::{self, encode};
use super::{Auth, Endpoint};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
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

// ---- Responses ----

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserMetrics {
    pub followers_count: u64,
    pub following_count: u64,
    pub tweet_count: u64,
    pub listed_count: u64,
    pub like_count: Option<u64>,
    pub media_count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub username: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub profile_image_url: Option<String>,
    #[serde(default)]
    pub protected: Option<bool>,
    #[serde(default)]
    pub verified: Option<bool>,
    #[serde(default)]
    pub public_metrics: Option<UserMetrics>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPost {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub edit_history_tweet_ids: Vec<String>,
}

/// A post's public counters. Each is optional: what X did not return is unknown, not 0.
/// X renamed `retweet_count` to `repost_count` (its OpenAPI says `repost_count`, the live API
/// still answers `retweet_count`); [`PublicMetrics::reposts`] reads either.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublicMetrics {
    pub impression_count: Option<u64>,
    pub like_count: Option<u64>,
    pub retweet_count: Option<u64>,
    pub repost_count: Option<u64>,
    pub quote_count: Option<u64>,
    pub reply_count: Option<u64>,
    pub bookmark_count: Option<u64>,
}

impl PublicMetrics {
    pub fn reposts(&self) -> Option<u64> {
        self.repost_count.or(self.retweet_count)
    }
}

/// The author-only counters, as `non_public_metrics` and `organic_metrics` carry them (X serves
/// them with the author's user token, for posts up to 30 days old).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrivateMetrics {
    pub impression_count: Option<u64>,
    pub url_link_clicks: Option<u64>,
    pub user_profile_clicks: Option<u64>,
    pub engagements: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub author_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub edit_history_tweet_ids: Vec<String>,
    #[serde(default)]
    pub public_metrics: Option<PublicMetrics>,
    #[serde(default)]
    pub non_public_metrics: Option<PrivateMetrics>,
    #[serde(default)]
    pub organic_metrics: Option<PrivateMetrics>,
    #[serde(default)]
    pub entities: Option<Entities>,
}

/// A URL of a post's text: X shows it as the t.co link `url`, which stands for `expanded_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UrlEntity {
    /// Code points, end exclusive.
    pub start: usize,
    pub end: usize,
    pub url: Option<String>,
    pub expanded_url: Option<String>,
    pub display_url: Option<String>,
    /// Set on the link X appends to a post with media.
    pub media_key: Option<String>,
}

impl UrlEntity {
    /// The link X adds for a post's media, which the text as written does not contain.
    pub fn is_media(&self) -> bool {
        self.media_key.is_some()
            || self
                .display_url
                .as_deref()
                .is_some_and(|d| d.starts_with("pic.x.com/") || d.starts_with("pic.twitter.com/"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MentionEntity {
    pub start: usize,
    pub end: usize,
    pub username: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagEntity {
    pub start: usize,
    pub end: usize,
    pub tag: String,
}

/// `entities` of a post (asked for with `tweet.fields=entities`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Entities {
    pub urls: Vec<UrlEntity>,
    pub mentions: Vec<MentionEntity>,
    pub hashtags: Vec<TagEntity>,
    pub cashtags: Vec<TagEntity>,
}

impl Post {
    /// The text as it was written, as far as X tells: each t.co link replaced by the URL it
    /// stands for (`expanded_url`), the link X appends for media removed. Without `entities`
    /// the text is X's, t.co links and all.
    pub fn expanded_text(&self) -> String {
        let Some(entities) = &self.entities else {
            return self.text.clone();
        };
        let mut text = self.text.clone();
        for u in &entities.urls {
            let Some(link) = u.url.as_deref().filter(|l| !l.is_empty()) else {
                continue;
            };
            let with = match (u.is_media(), &u.expanded_url) {
                (true, _) => "",
                (false, Some(original)) => original.as_str(),
                (false, None) => continue,
            };
            // By the link itself rather than by `start`/`end`: a t.co link is unique in its
            // text, and this stays right whatever unit X counts indices in.
            text = text.replacen(link, with, 1);
        }
        text.trim_end().to_string()
    }
}

/// One entry of a 200's partial `errors` (a deleted post, a field we may not see).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartialError {
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
    pub parameter: Option<String>,
    /// The id X could not answer for, where it names it as the parameter's value.
    pub value: Option<String>,
    pub field: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl PartialError {
    pub fn is_not_found(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|t| t.ends_with("/resource-not-found"))
    }

    /// The id the error is about.
    pub fn id(&self) -> Option<&str> {
        self.resource_id.as_deref().or(self.value.as_deref())
    }
}

/// A lookup's posts with the partial errors kept, so a deleted post is told from a failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    pub posts: Vec<Post>,
    pub errors: Vec<PartialError>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostPage {
    pub posts: Vec<Post>,
    pub next_token: Option<String>,
    pub errors: Vec<PartialError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingInfo {
    /// `pending`, `in_progress`, `succeeded` or `failed`.
    pub state: String,
    #[serde(default)]
    pub check_after_secs: Option<u64>,
    #[serde(default)]
    pub progress_percent: Option<u32>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub id: String,
    #[serde(default)]
    pub media_key: Option<String>,
    #[serde(default)]
    pub expires_after_secs: Option<u64>,
    #[serde(default)]
    pub processing_info: Option<ProcessingInfo>,
}

impl Media {
    /// Usable in a post: nothing to process, or processing done.
    pub fn is_ready(&self) -> bool {
        self.processing_info
            .as_ref()
            .is_none_or(|p| p.state == "succeeded")
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<PartialError>,
    #[serde(default)]
    meta: Option<Value>,
}

fn envelope<T: DeserializeOwned>(body: &[u8]) -> Result<Envelope<T>, XError> {
    serde_json::from_slice(body).map_err(|e| XError::Decode {
        detail: e.to_string(),
    })
}

/// `{"data": T}`; a 200 carrying only `errors` (X's answer for an unknown user) becomes the
/// matching error.
pub fn parse_data<T: DeserializeOwned>(body: &[u8]) -> Result<T, XError> {
    let env = envelope::<T>(body)?;
    match (env.data, env.errors.first()) {
        (Some(data), _) => Ok(data),
        (None, Some(e)) if e.is_not_found() => Err(XError::NotFound {
            detail: e.detail.clone().unwrap_or_default(),
        }),
        (None, Some(e)) => Err(XError::Forbidden {
            reason: e.detail.clone().or(e.title.clone()).unwrap_or_default(),
        }),
        (None, None) => Err(XError::Decode {
            detail: "no `data` in the response".into(),
        }),
    }
}

/// A `{"data": {"<flag>": bool}}` answer (deleted, liked, retweeted).
pub fn parse_flag(body: &[u8], flag: &str) -> Result<bool, XError> {
    let data: Value = parse_data(body)?;
    data.get(flag)
        .and_then(Value::as_bool)
        .ok_or_else(|| XError::Decode {
            detail: format!("no `{flag}` flag in the response"),
        })
}

pub fn parse_lookup(body: &[u8]) -> Result<Lookup, XError> {
    let env = envelope::<Vec<Post>>(body)?;
    Ok(Lookup {
        posts: env.data.unwrap_or_default(),
        errors: env.errors,
    })
}

pub fn parse_page(body: &[u8]) -> Result<PostPage, XError> {
    let env = envelope::<Vec<Post>>(body)?;
    let next_token = env
        .meta
        .as_ref()
        .and_then(|m| m.get("next_token"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(PostPage {
        posts: env.data.unwrap_or_default(),
        next_token,
        errors: env.errors,
    })
}

/// The problem type suffix of a body, for callers that need more than the variant.
pub fn problem_type(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .map(|v| problem_suffix(&v).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
