//! In-memory state of the simulator: users, apps, tokens, posts, media, rate-limit buckets.
//!
//! Everything lives in one `Inner` behind a `parking_lot::Mutex`; handlers do their parsing,
//! hashing and serialisation outside the lock and hold it only for map look-ups and inserts.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::faults::Fault;
use crate::ratelimit::{Bucket, BucketKey, Profile};
use crate::SimConfig;

/// X's snowflake epoch (ms).
const TWEPOCH_MS: i64 = 1_288_834_974_657;

/// The simulator's clock: wall time plus an offset that the admin API moves, or a frozen
/// instant (metrics evolve with the clock, so a frozen clock makes them exact in tests).
#[derive(Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    frozen: AtomicBool,
    frozen_ms: AtomicI64,
}

impl Clock {
    fn wall_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    pub fn now_ms(&self) -> i64 {
        if self.frozen.load(Ordering::Acquire) {
            return self.frozen_ms.load(Ordering::Acquire);
        }
        Self::wall_ms() + self.offset_ms.load(Ordering::Relaxed)
    }
    /// Stops the clock at `ms` (Unix milliseconds) until [`Clock::unfreeze`] or a reset.
    pub fn freeze_at_ms(&self, ms: i64) {
        self.frozen_ms.store(ms, Ordering::Release);
        self.frozen.store(true, Ordering::Release);
    }
    /// Runs on from the frozen instant.
    pub fn unfreeze(&self) {
        if self.frozen.swap(false, Ordering::AcqRel) {
            let at = self.frozen_ms.load(Ordering::Acquire);
            self.offset_ms
                .store(at - Self::wall_ms(), Ordering::Relaxed);
        }
    }
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
    pub fn advance_secs(&self, secs: i64) {
        self.frozen_ms.fetch_add(secs * 1000, Ordering::AcqRel);
        self.offset_ms.fetch_add(secs * 1000, Ordering::Relaxed);
    }
    pub fn set_unix(&self, unix: i64) {
        self.frozen_ms.store(unix * 1000, Ordering::Release);
        self.offset_ms
            .store(unix * 1000 - Self::wall_ms(), Ordering::Relaxed);
    }
    pub fn reset(&self) {
        self.frozen.store(false, Ordering::Release);
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    #[serde(serialize_with = "ser_id")]
    pub id: u64,
    pub username: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct App {
    #[serde(serialize_with = "ser_id")]
    pub id: u64,
    pub client_id: String,
    pub client_secret: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub bearer_token: String,
    /// Public clients (PKCE only) send `client_id` in the form; confidential ones use Basic.
    pub public: bool,
    /// Allowed callback URLs; empty = any.
    pub redirect_uris: Vec<String>,
}

pub fn ser_id<S: serde::Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub user_id: u64,
    pub app_id: u64,
    pub scopes: Vec<String>,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct RefreshToken {
    pub user_id: u64,
    pub app_id: u64,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub app_id: u64,
    pub user_id: u64,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub challenge: String,
    pub method: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct OAuth1Token {
    pub user_id: u64,
    pub app_id: u64,
    pub secret: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Poll {
    pub options: Vec<String>,
    pub duration_minutes: u32,
}

#[derive(Clone, Debug)]
pub struct Post {
    pub id: u64,
    pub author_id: u64,
    pub app_id: u64,
    /// The text as X answers it (NFC, trimmed, URLs as t.co links).
    pub text: String,
    /// The text as the client sent it.
    pub sent_text: String,
    pub entities: crate::entities::Entities,
    pub created_at_ms: i64,
    pub deleted: bool,
    pub reply_to: Option<(u64, u64)>,
    pub quote_of: Option<u64>,
    pub media_ids: Vec<u64>,
    pub poll: Option<Poll>,
    pub reply_settings: Option<String>,
    pub likes: u64,
    pub retweets: u64,
    pub replies: u64,
    pub quotes: u64,
}

#[derive(Clone, Debug)]
pub struct Media {
    pub id: u64,
    pub owner: u64,
    pub media_type: String,
    pub category: String,
    pub total_bytes: u64,
    pub received: u64,
    pub segments: HashSet<u32>,
    pub finalized_at: Option<i64>,
    pub created_at: i64,
}

impl Media {
    pub fn is_video(&self) -> bool {
        self.media_type.starts_with("video/") || self.category.ends_with("video")
    }
    pub fn is_gif(&self) -> bool {
        self.media_type == "image/gif" || self.category.ends_with("gif")
    }
    /// Whether the media can be attached to a post at `now`.
    pub fn ready(&self, now: i64) -> bool {
        match self.finalized_at {
            Some(t) => !self.is_video() || now - t >= crate::media::VIDEO_PROCESSING_SECS,
            None => false,
        }
    }
}

#[derive(Default)]
pub struct Inner {
    pub users: HashMap<u64, User>,
    pub usernames: HashMap<String, u64>,
    pub apps: HashMap<u64, App>,
    pub by_client_id: HashMap<String, u64>,
    pub by_consumer_key: HashMap<String, u64>,
    pub by_bearer: HashMap<String, u64>,
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, RefreshToken>,
    pub codes: HashMap<String, AuthCode>,
    pub oauth1: HashMap<String, OAuth1Token>,
    pub posts: HashMap<u64, Post>,
    /// Post ids per author, ascending.
    pub timeline: HashMap<u64, Vec<u64>>,
    /// (author, hash of NFC text) -> latest post id with that text.
    pub dups: HashMap<(u64, u64), u64>,
    pub likes: HashSet<(u64, u64)>,
    pub retweets: HashSet<(u64, u64)>,
    pub media: HashMap<u64, Media>,
    pub buckets: HashMap<BucketKey, Bucket>,
    pub faults: Vec<Fault>,
    /// Requests received per `"METHOD /path"` (admin requests excluded), to verify that a
    /// client did not retry.
    pub requests: HashMap<String, u64>,
    /// Requests being handled now (admin requests excluded), and the most there ever were at
    /// once: a client that sends concurrently shows more than one.
    pub in_flight: u32,
    pub most_in_flight: u32,
    pub profile: Profile,
    pub last_id: u64,
}

impl Inner {
    /// A new snowflake-like id (19 digits for present-day clocks), strictly increasing.
    pub fn next_id(&mut self, now_ms: i64) -> u64 {
        let ms = (now_ms - TWEPOCH_MS).max(1) as u64;
        let candidate = (ms << 22) | (rand::rng().random::<u64>() & 0x3ff) << 12;
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id
    }

    pub fn add_user(&mut self, id: u64, username: &str, name: &str, now: i64) -> User {
        let user = User {
            id,
            username: username.to_string(),
            name: name.to_string(),
            created_at: now,
        };
        self.usernames.insert(username.to_lowercase(), id);
        self.users.insert(id, user.clone());
        user
    }

    pub fn add_app(&mut self, app: App) -> App {
        self.by_client_id.insert(app.client_id.clone(), app.id);
        self.by_consumer_key
            .insert(app.consumer_key.clone(), app.id);
        self.by_bearer.insert(app.bearer_token.clone(), app.id);
        self.apps.insert(app.id, app.clone());
        app
    }

    pub fn app_by_client_id(&self, client_id: &str) -> Option<&App> {
        self.by_client_id
            .get(client_id)
            .and_then(|id| self.apps.get(id))
    }

    /// Drops every token, code and OAuth 1.0a credential of a user.
    pub fn revoke_user(&mut self, user_id: u64) -> usize {
        let before = self.access.len() + self.refresh.len() + self.oauth1.len() + self.codes.len();
        self.access.retain(|_, t| t.user_id != user_id);
        self.refresh.retain(|_, t| t.user_id != user_id);
        self.oauth1.retain(|_, t| t.user_id != user_id);
        self.codes.retain(|_, c| c.user_id != user_id);
        before - (self.access.len() + self.refresh.len() + self.oauth1.len() + self.codes.len())
    }

    /// Issues an OAuth 2.0 access token (and a refresh token with `offline.access`).
    pub fn issue_tokens(
        &mut self,
        user_id: u64,
        app_id: u64,
        scopes: Vec<String>,
        now: i64,
    ) -> (String, Option<String>) {
        let access = random_token(40);
        let refresh = scopes.iter().any(|s| s == "offline.access").then(|| {
            let r = random_token(40);
            self.refresh.insert(
                r.clone(),
                RefreshToken {
                    user_id,
                    app_id,
                    scopes: scopes.clone(),
                },
            );
            r
        });
        self.access.insert(
            access.clone(),
            AccessToken {
                user_id,
                app_id,
                scopes,
                expires_at: now + crate::oauth::ACCESS_TOKEN_SECS,
            },
        );
        (access, refresh)
    }

    /// Installs the configured default app, user and OAuth 1.0a credentials.
    pub fn install_defaults(&mut self, cfg: &SimConfig, now: i64) {
        self.profile = cfg.profile;
        let user = self.add_user(
            cfg.default_user_id,
            &cfg.default_username,
            &cfg.default_username,
            now - 400 * 86_400,
        );
        let app = self.add_app(App {
            id: crate::DEFAULT_APP_ID,
            client_id: cfg.client_id.clone(),
            client_secret: cfg.client_secret.clone(),
            consumer_key: cfg.consumer_key.clone(),
            consumer_secret: cfg.consumer_secret.clone(),
            bearer_token: cfg.app_bearer_token.clone(),
            public: false,
            redirect_uris: Vec::new(),
        });
        self.oauth1.insert(
            cfg.user_access_token.clone(),
            OAuth1Token {
                user_id: user.id,
                app_id: app.id,
                secret: cfg.user_access_token_secret.clone(),
            },
        );
    }
}

/// A random URL-safe token of `n` characters.
pub fn random_token(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The shared simulator state.
pub struct SimState {
    pub clock: Clock,
    pub inner: Mutex<Inner>,
    pub config: SimConfig,
}

impl SimState {
    pub fn new(config: SimConfig) -> Self {
        let st = SimState {
            clock: Clock::default(),
            inner: Mutex::new(Inner::default()),
            config,
        };
        st.reset();
        st
    }

    /// Back to the start: defaults only, clock at wall time.
    pub fn reset(&self) {
        self.clock.reset();
        let mut inner = Inner::default();
        inner.install_defaults(&self.config, self.clock.now());
        *self.inner.lock() = inner;
    }
}
