//! X's answers as types, and the parsers that read them from bodies.

use crate::x::error::{problem_suffix, XError};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
