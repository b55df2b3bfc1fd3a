//! The admin API under /__admin (no auth), and the same operations as methods on `SimState`
//! for in-process use.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::lookup::iso;
use crate::problem::{json_response, ok, ApiError, ApiResult};
use crate::ratelimit::Profile;
use crate::state::{random_token, App, OAuth1Token, SimState, User};

/// OAuth 2.0 tokens minted for a user (as the token endpoint would return them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub scope: String,
}

/// OAuth 1.0a credentials of a user for an app.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuth1Creds {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
    pub user_id: String,
}

#[derive(Default, Deserialize)]
pub struct NewApp {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub consumer_key: Option<String>,
    pub consumer_secret: Option<String>,
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

/// Scopes for tokens minted by the admin API when none are given.
pub const DEFAULT_SCOPES: &str =
    "tweet.read tweet.write users.read like.write media.write offline.access";

impl SimState {
    /// Creates a user (`id` defaults to a fresh 19-digit id). Fails if the username is taken.
    pub fn create_user(
        &self,
        username: &str,
        name: Option<&str>,
        id: Option<u64>,
    ) -> Result<User, String> {
        let now_ms = self.clock.now_ms();
        let mut inner = self.inner.lock();
        if inner.usernames.contains_key(&username.to_lowercase()) {
            return Err(format!("username {username} is taken"));
        }
        let id = match id {
            Some(id) if inner.users.contains_key(&id) => {
                return Err(format!("user id {id} is taken"))
            }
            Some(id) => id,
            None => inner.next_id(now_ms),
        };
        Ok(inner.add_user(id, username, name.unwrap_or(username), now_ms / 1000))
    }

    /// Registers an app; missing credentials are generated.
    pub fn create_app(&self, a: NewApp) -> Result<App, String> {
        let mut inner = self.inner.lock();
        let id = inner.next_id(self.clock.now_ms());
        let app = App {
            id,
            client_id: a.client_id.unwrap_or_else(|| random_token(34)),
            client_secret: a.client_secret.unwrap_or_else(|| random_token(50)),
            consumer_key: a.consumer_key.unwrap_or_else(|| random_token(25)),
            consumer_secret: a.consumer_secret.unwrap_or_else(|| random_token(50)),
            bearer_token: a
                .bearer_token
                .unwrap_or_else(|| format!("AAAAAAAAAAAAAAAAAAAAA{}", random_token(60))),
            public: a.public,
            redirect_uris: a.redirect_uris,
        };
        if inner.by_client_id.contains_key(&app.client_id)
            || inner.by_consumer_key.contains_key(&app.consumer_key)
        {
            return Err("client_id or consumer_key already registered".into());
        }
        Ok(inner.add_app(app))
    }

    /// Mints OAuth 2.0 tokens for a user and app (default app when `client_id` is `None`).
    pub fn issue_user_token(
        &self,
        user_id: u64,
        client_id: Option<&str>,
        scopes: Option<&str>,
    ) -> Result<Tokens, String> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let client_id = client_id.unwrap_or(&self.config.client_id);
        let app_id = inner
            .app_by_client_id(client_id)
            .ok_or("unknown client_id")?
            .id;
        if !inner.users.contains_key(&user_id) {
            return Err("unknown user".into());
        }
        let scope = scopes.unwrap_or(DEFAULT_SCOPES).to_string();
        let list = scope.split_whitespace().map(String::from).collect();
        let (access_token, refresh_token) = inner.issue_tokens(user_id, app_id, list, now);
        Ok(Tokens {
            access_token,
            refresh_token,
            expires_in: crate::oauth::ACCESS_TOKEN_SECS,
            scope,
        })
    }

    /// Issues OAuth 1.0a access credentials for a user and app.
    pub fn oauth1_credentials(
        &self,
        user_id: u64,
        client_id: Option<&str>,
    ) -> Result<OAuth1Creds, String> {
        let mut inner = self.inner.lock();
        let client_id = client_id.unwrap_or(&self.config.client_id);
        let app = inner
            .app_by_client_id(client_id)
            .ok_or("unknown client_id")?
            .clone();
        if !inner.users.contains_key(&user_id) {
            return Err("unknown user".into());
        }
        let token = format!("{user_id}-{}", random_token(40));
        let secret = random_token(45);
        inner.oauth1.insert(
            token.clone(),
            OAuth1Token {
                user_id,
                app_id: app.id,
                secret: secret.clone(),
            },
        );
        Ok(OAuth1Creds {
            consumer_key: app.consumer_key,
            consumer_secret: app.consumer_secret,
            access_token: token,
            access_token_secret: secret,
            user_id: user_id.to_string(),
        })
    }

    pub fn set_profile(&self, p: Profile) {
        let mut inner = self.inner.lock();
        inner.profile = p;
        inner.buckets.clear();
    }

    /// How many requests `"METHOD /path"` (e.g. `"POST /2/tweets"`) has received.
    pub fn request_count(&self, method: &str, path: &str) -> u64 {
        let key = format!("{} {path}", method.to_ascii_uppercase());
        self.inner.lock().requests.get(&key).copied().unwrap_or(0)
    }

    pub fn add_fault(&self, f: Fault) {
        self.inner.lock().faults.push(f);
    }

    /// Every post a user created (deleted ones included), oldest first, as admin JSON.
    pub fn posts_of(&self, user_id: Option<u64>) -> Vec<Value> {
        let inner = self.inner.lock();
        let mut posts: Vec<_> = inner
            .posts
            .values()
            .filter(|p| user_id.is_none_or(|u| p.author_id == u))
            .collect();
        posts.sort_by_key(|p| p.id);
        posts
            .iter()
            .map(|p| {
                json!({
                    "id": p.id.to_string(), "author_id": p.author_id.to_string(), "text": p.text,
                    "sent_text": p.sent_text, "entities": p.entities,
                    "created_at": iso(p.created_at_ms), "deleted": p.deleted,
                    "in_reply_to_tweet_id": p.reply_to.map(|r| r.0.to_string()),
                    "quote_tweet_id": p.quote_of.map(|q| q.to_string()),
                    "media_ids": p.media_ids.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                    "poll": p.poll, "reply_settings": p.reply_settings,
                })
            })
            .collect()
    }
}

type St = State<Arc<SimState>>;

fn bad(msg: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, json!({"error": msg.to_string()}))
}

fn uid(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| bad("user id must be numeric"))
}

pub async fn health(State(st): St) -> Response {
    ok(&json!({"ok": true, "now": st.clock.now()}))
}

pub async fn reset(State(st): St) -> Response {
    st.reset();
    ok(&json!({"reset": true}))
}

#[derive(Deserialize)]
pub struct ClockReq {
    advance_secs: Option<i64>,
    now: Option<i64>,
    /// `true` stops the clock (at `now` if given), `false` lets it run on.
    frozen: Option<bool>,
}

pub async fn clock(State(st): St, Json(r): Json<ClockReq>) -> Response {
    if let Some(n) = r.now {
        st.clock.set_unix(n);
    }
    if let Some(a) = r.advance_secs {
        st.clock.advance_secs(a);
    }
    match r.frozen {
        Some(true) => st.clock.freeze_at_ms(st.clock.now_ms()),
        Some(false) => st.clock.unfreeze(),
        None => {}
    }
    ok(&json!({"now": st.clock.now()}))
}

pub async fn get_clock(State(st): St) -> Response {
    ok(&json!({"now": st.clock.now()}))
}

#[derive(Deserialize)]
pub struct UserReq {
    username: String,
    name: Option<String>,
    id: Option<String>,
}

pub async fn create_user(State(st): St, Json(r): Json<UserReq>) -> ApiResult {
    let id = r.id.as_deref().map(uid).transpose()?;
    let u = st
        .create_user(&r.username, r.name.as_deref(), id)
        .map_err(bad)?;
    Ok(json_response(StatusCode::CREATED, &json!(u)))
}

pub async fn list_users(State(st): St) -> Response {
    let inner = st.inner.lock();
    let mut users: Vec<_> = inner.users.values().cloned().collect();
    users.sort_by_key(|u| u.id);
    ok(&json!({"users": users}))
}

pub async fn create_app(State(st): St, Json(r): Json<NewApp>) -> ApiResult {
    let a = st.create_app(r).map_err(bad)?;
    Ok(json_response(StatusCode::CREATED, &json!(a)))
}

#[derive(Deserialize, Default)]
pub struct ClientReq {
    client_id: Option<String>,
    scopes: Option<String>,
}

pub async fn oauth1(
    State(st): St,
    Path(id): Path<String>,
    body: Option<Json<ClientReq>>,
) -> ApiResult {
    let r = body.map(|b| b.0).unwrap_or_default();
    let c = st
        .oauth1_credentials(uid(&id)?, r.client_id.as_deref())
        .map_err(bad)?;
    Ok(ok(&json!(c)))
}

pub async fn token(
    State(st): St,
    Path(id): Path<String>,
    body: Option<Json<ClientReq>>,
) -> ApiResult {
    let r = body.map(|b| b.0).unwrap_or_default();
    let t = st
        .issue_user_token(uid(&id)?, r.client_id.as_deref(), r.scopes.as_deref())
        .map_err(bad)?;
    Ok(ok(&json!(t)))
}

#[derive(Deserialize)]
pub struct ProfileReq {
    profile: Profile,
}

pub async fn profile(State(st): St, Json(r): Json<ProfileReq>) -> Response {
    st.set_profile(r.profile);
    ok(&json!({"profile": r.profile}))
}

pub async fn add_fault(State(st): St, Json(f): Json<Fault>) -> Response {
    st.add_fault(f.clone());
    json_response(StatusCode::CREATED, &json!(f))
}

pub async fn list_faults(State(st): St) -> Response {
    ok(&json!({"faults": st.inner.lock().faults}))
}

pub async fn clear_faults(State(st): St) -> Response {
    st.inner.lock().faults.clear();
    ok(&json!({"faults": []}))
}

pub async fn list_requests(State(st): St) -> Response {
    ok(&json!({"requests": st.inner.lock().requests}))
}

pub async fn clear_requests(State(st): St) -> Response {
    st.inner.lock().requests.clear();
    ok(&json!({"requests": {}}))
}

#[derive(Deserialize)]
pub struct PostsQuery {
    user_id: Option<String>,
}

pub async fn posts(State(st): St, Query(q): Query<PostsQuery>) -> ApiResult {
    let user = q.user_id.as_deref().map(uid).transpose()?;
    Ok(ok(&json!({"posts": st.posts_of(user)})))
}

pub async fn revoke_user(State(st): St, Path(id): Path<String>) -> ApiResult {
    let n = st.inner.lock().revoke_user(uid(&id)?);
    Ok(ok(&json!({"revoked": n})))
}
