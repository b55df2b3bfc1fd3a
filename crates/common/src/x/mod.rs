//! The X API v2 client: OAuth 2.0 with PKCE and OAuth 1.0a signing, the endpoints the platform
//! uses, typed errors, rate-limit budgets, retries and circuit breakers.
//!
//! The pure parts (request building, signing, response and header parsing, budget math, the
//! breaker state machine, backoff) are plain functions with native unit tests. Only
//! [`client`], [`oauth2`]'s token calls, the key-value halves of [`budget`] and [`breaker`] and
//! the private `transport` do I/O, through `spin_sdk::http::send` against the base URL of the Spin
//! variable `x_api_base_url` (production: `https://api.x.com`; tests: the `xsim` simulator).
//!
//! Architecture invariant: `POST /2/tweets` is sent at most once per call; an unknown outcome
//! is reported as [`XError::UnknownOutcome`], never retried here.

pub mod api;
pub mod breaker;
pub mod budget;
pub mod client;
pub mod error;
pub mod oauth1;
pub mod oauth2;
pub mod rate;
pub mod retry;
mod transport;

pub use api::{
    CreatedPost, Lookup, Media, MediaCategory, MetricFields, NewPost, Post, PostPage,
    ReplySettings, User, XRequest,
};
pub use breaker::{Breakers, Circuit};
pub use budget::{Budgets, DeferUntil};
pub use client::{XClient, XResponse};
pub use error::XError;
pub use oauth1::OAuth1Credentials;
pub use oauth2::{OAuthApp, Pkce, TokenSet};
pub use rate::{RateHeaders, RateScope, RateWindow};
pub use retry::RetryPolicy;

use crate::config::Secret;
use serde::{Deserialize, Serialize};

/// The key-value namespace of budgets and breakers.
pub const KV_NAMESPACE: &str = "x";

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// An OAuth 2.0 user access token (`Authorization: Bearer`).
    User(Secret<String>),
    /// OAuth 1.0a user context (HMAC-SHA1 signature per request).
    OAuth1(OAuth1Credentials),
    /// The app-only bearer token; read endpoints only.
    App(Secret<String>),
}

/// The endpoints the client knows, as budgets and retry rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Me,
    UserById,
    CreatePost,
    DeletePost,
    Like,
    Unlike,
    Repost,
    Unrepost,
    LookupPosts,
    UserPosts,
    /// Simple upload and the chunked initialize/append/finalize steps (one X budget).
    MediaUpload,
    MediaStatus,
}

impl Endpoint {
    /// The stable name used in key-value keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Me => "users_me",
            Endpoint::UserById => "users_id",
            Endpoint::CreatePost => "tweets_create",
            Endpoint::DeletePost => "tweets_delete",
            Endpoint::Like => "likes_create",
            Endpoint::Unlike => "likes_delete",
            Endpoint::Repost => "retweets_create",
            Endpoint::Unrepost => "retweets_delete",
            Endpoint::LookupPosts => "tweets_lookup",
            Endpoint::UserPosts => "users_tweets",
            Endpoint::MediaUpload => "media_upload",
            Endpoint::MediaStatus => "media_status",
        }
    }

    /// Whether sending the same request twice has the effect of sending it once. Creating a
    /// post is the one exception: X has no idempotency key.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Endpoint::CreatePost)
    }
}
