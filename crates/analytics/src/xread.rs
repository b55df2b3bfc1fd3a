//! X's answers as analytics reads them: every counter optional, so that what X did not return
//! is stored as NULL, never as 0. Posts and their counters are the X client's own types
//! (`x::api::Post`, which reads both `retweet_count` and `repost_count`).

use common::x::api::{Body, Method, PrivateMetrics, XRequest};
use common::x::{Endpoint, XError};
use serde::Deserialize;

/// The fields a metrics lookup asks for.
const PUBLIC_FIELDS: &str = "created_at,public_metrics";
const ALL_FIELDS: &str = "created_at,public_metrics,non_public_metrics,organic_metrics";

/// `GET /2/tweets?ids=…` for up to 100 posts; `private` adds the non-public and organic
/// metrics (the author's user token, posts younger than 30 days).
pub fn lookup(ids: &[&str], private: bool) -> XRequest {
    let fields = if private { ALL_FIELDS } else { PUBLIC_FIELDS };
    XRequest {
        endpoint: Endpoint::LookupPosts,
        method: Method::Get,
        path: "/2/tweets".into(),
        query: vec![
            ("ids".into(), ids.join(",")),
            ("tweet.fields".into(), fields.into()),
        ],
        body: Body::Empty,
    }
}

/// `GET /2/users/:id` with its public metrics.
pub fn user(x_user_id: &str) -> XRequest {
    XRequest {
        endpoint: Endpoint::UserById,
        method: Method::Get,
        path: format!("/2/users/{x_user_id}"),
        query: vec![("user.fields".into(), "public_metrics".into())],
        body: Body::Empty,
    }
}

/// One page (up to 100, newest first) of the account's posts newer than `since_id`.
pub fn timeline(x_user_id: &str, since_id: Option<&str>, token: Option<&str>) -> XRequest {
    let mut query = vec![
        ("max_results".to_string(), "100".to_string()),
        ("tweet.fields".into(), "created_at".into()),
    ];
    if let Some(s) = since_id {
        query.push(("since_id".into(), s.into()));
    }
    if let Some(t) = token {
        query.push(("pagination_token".into(), t.into()));
    }
    XRequest {
        endpoint: Endpoint::UserPosts,
        method: Method::Get,
        path: format!("/2/users/{x_user_id}/tweets"),
        query,
        body: Body::Empty,
    }
}

pub use common::x::api::Post;

/// The counters of one capture, as stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub impressions: Option<u64>,
    pub likes: Option<u64>,
    pub reposts: Option<u64>,
    pub quotes: Option<u64>,
    pub replies: Option<u64>,
    pub bookmarks: Option<u64>,
    pub url_clicks: Option<u64>,
    pub profile_clicks: Option<u64>,
    pub x_engagements: Option<u64>,
}

impl Counters {
    /// What one post's lookup says, the author-only counters from `non_public_metrics` or,
    /// failing that, `organic_metrics`.
    pub fn of(post: &Post) -> Counters {
        let p = post.public_metrics.clone().unwrap_or_default();
        let private = post
            .non_public_metrics
            .as_ref()
            .or(post.organic_metrics.as_ref());
        let pick = |f: fn(&PrivateMetrics) -> Option<u64>| {
            post.non_public_metrics
                .as_ref()
                .and_then(f)
                .or_else(|| post.organic_metrics.as_ref().and_then(f))
        };
        Counters {
            impressions: p
                .impression_count
                .or_else(|| private.and_then(|n| n.impression_count)),
            likes: p.like_count,
            reposts: p.reposts(),
            quotes: p.quote_count,
            replies: p.reply_count,
            bookmarks: p.bookmark_count,
            url_clicks: pick(|n| n.url_link_clicks),
            profile_clicks: pick(|n| n.user_profile_clicks),
            x_engagements: pick(|n| n.engagements),
        }
    }
}

pub use common::x::api::PartialError;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub next_token: Option<String>,
    pub newest_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Posts {
    pub data: Vec<Post>,
    pub errors: Vec<PartialError>,
    pub meta: Meta,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct UserMetrics {
    pub followers_count: Option<u64>,
    pub following_count: Option<u64>,
    pub tweet_count: Option<u64>,
    pub post_count: Option<u64>,
    pub listed_count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserData {
    pub public_metrics: Option<UserMetrics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserAnswer {
    pub data: Option<UserData>,
    pub errors: Vec<PartialError>,
}

pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, XError> {
    serde_json::from_slice(body).map_err(|e| XError::Decode {
        detail: format!("analytics: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_names_of_the_repost_count_are_accepted() {
        for (body, expected) in [
            (
                r#"{"data":[{"id":"1","text":"a","public_metrics":{"retweet_count":3}}]}"#,
                3,
            ),
            (
                r#"{"data":[{"id":"1","text":"a","public_metrics":{"repost_count":4}}]}"#,
                4,
            ),
            (
                r#"{"data":[{"id":"1","text":"a","public_metrics":{"retweet_count":5,"repost_count":5}}]}"#,
                5,
            ),
        ] {
            let posts: Posts = parse(body.as_bytes()).unwrap();
            assert_eq!(
                Counters::of(&posts.data[0]).reposts,
                Some(expected),
                "{body}"
            );
        }
    }

    #[test]
    fn what_x_did_not_return_stays_unknown() {
        let body = r#"{"data":[{"id":"1","text":"a","public_metrics":{"like_count":2,"impression_count":9}}],
            "errors":[{"value":"1","resource_id":"1","field":"non_public_metrics",
            "type":"https://api.twitter.com/2/problems/not-authorized-for-field"}]}"#;
        let posts: Posts = parse(body.as_bytes()).unwrap();
        let c = Counters::of(&posts.data[0]);
        assert_eq!(c.likes, Some(2));
        assert_eq!(c.impressions, Some(9));
        assert_eq!(c.bookmarks, None);
        assert_eq!(c.url_clicks, None);
        assert_eq!(c.profile_clicks, None);
        assert!(!posts.errors[0].is_not_found());
    }

    #[test]
    fn non_public_counters_are_read_when_present() {
        let body = r#"{"data":[{"id":"1","text":"a",
            "public_metrics":{"impression_count":9},
            "non_public_metrics":{"impression_count":9,"url_link_clicks":4,"user_profile_clicks":1}}]}"#;
        let posts: Posts = parse(body.as_bytes()).unwrap();
        let c = Counters::of(&posts.data[0]);
        assert_eq!((c.url_clicks, c.profile_clicks), (Some(4), Some(1)));
    }
}
