//! Request authentication: OAuth 2.0 user tokens, app-only bearer tokens, OAuth 1.0a.

use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::oauth1;
use crate::problem::ApiError;
use crate::state::SimState;

/// Who is calling.
#[derive(Clone, Debug)]
pub enum Auth {
    /// User context. `scopes` is `None` for OAuth 1.0a (which carries no scopes).
    User {
        user_id: u64,
        app_id: u64,
        scopes: Option<Vec<String>>,
    },
    /// App-only bearer token.
    App { app_id: u64 },
}

impl Auth {
    pub fn app_id(&self) -> u64 {
        match self {
            Auth::User { app_id, .. } | Auth::App { app_id } => *app_id,
        }
    }

    pub fn user_id(&self) -> Option<u64> {
        match self {
            Auth::User { user_id, .. } => Some(*user_id),
            Auth::App { .. } => None,
        }
    }

    /// The user of a user-context call holding every one of `scopes`.
    pub fn user_with(&self, scopes: &[&str]) -> Result<u64, ApiError> {
        match self {
            Auth::App { .. } => Err(ApiError::unsupported_authentication()),
            Auth::User {
                user_id,
                scopes: Some(have),
                ..
            } => {
                if scopes.iter().all(|s| have.iter().any(|h| h == s)) {
                    Ok(*user_id)
                } else {
                    Err(ApiError::forbidden(
                        "Your token is missing a scope required by this endpoint.",
                    ))
                }
            }
            Auth::User { user_id, .. } => Ok(*user_id),
        }
    }

    /// Like `user_with`, and the `{id}` path segment must be the caller.
    pub fn acting_as(&self, path_id: &str, scopes: &[&str]) -> Result<u64, ApiError> {
        let me = self.user_with(scopes)?;
        if path_id.parse::<u64>().ok() != Some(me) {
            return Err(ApiError::not_authorized_for_user(path_id));
        }
        Ok(me)
    }

    /// For read endpoints that accept app-only auth too: check scopes of user tokens.
    pub fn read(&self, scopes: &[&str]) -> Result<(), ApiError> {
        match self {
            Auth::App { .. } => Ok(()),
            _ => self.user_with(scopes).map(|_| ()),
        }
    }
}

/// Authenticates a request from its `Authorization` header (and, for OAuth 1.0a, its URL and
/// form body).
pub fn authenticate(st: &SimState, parts: &Parts, body: &[u8]) -> Result<Auth, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::unauthorized)?;
    if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        let token = token.trim();
        let now = st.clock.now();
        let inner = st.inner.lock();
        if let Some(t) = inner.access.get(token) {
            if t.expires_at <= now {
                return Err(ApiError::unauthorized());
            }
            return Ok(Auth::User {
                user_id: t.user_id,
                app_id: t.app_id,
                scopes: Some(t.scopes.clone()),
            });
        }
        if let Some(app_id) = inner.by_bearer.get(token) {
            return Ok(Auth::App { app_id: *app_id });
        }
        return Err(ApiError::unauthorized());
    }
    let oauth = oauth1::parse_header(value).ok_or_else(ApiError::unauthorized)?;
    verify_oauth1(st, parts, body, oauth)
}

fn get<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn verify_oauth1(
    st: &SimState,
    parts: &Parts,
    body: &[u8],
    oauth: Vec<(String, String)>,
) -> Result<Auth, ApiError> {
    let (ck, tok, sig) = match (
        get(&oauth, "oauth_consumer_key"),
        get(&oauth, "oauth_token"),
        get(&oauth, "oauth_signature"),
    ) {
        (Some(c), Some(t), Some(s)) => (c.to_string(), t.to_string(), s.to_string()),
        _ => return Err(ApiError::unauthorized()),
    };
    if get(&oauth, "oauth_signature_method") != Some("HMAC-SHA1") {
        return Err(ApiError::unauthorized());
    }
    let (consumer_secret, token_secret, user_id, app_id) = {
        let inner = st.inner.lock();
        let app_id = *inner
            .by_consumer_key
            .get(&ck)
            .ok_or_else(ApiError::unauthorized)?;
        let t = inner.oauth1.get(&tok).ok_or_else(ApiError::unauthorized)?;
        if t.app_id != app_id {
            return Err(ApiError::unauthorized());
        }
        let app = &inner.apps[&app_id];
        (
            app.consumer_secret.clone(),
            t.secret.clone(),
            t.user_id,
            app_id,
        )
    };
    let mut params = oauth;
    if let Some(q) = parts.uri.query() {
        params.extend(oauth1::parse_pairs(q));
    }
    if is_form(&parts.headers) {
        params.extend(oauth1::parse_pairs(&String::from_utf8_lossy(body)));
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let path = parts.uri.path();
    let ok = ["http", "https"].iter().any(|scheme| {
        let base = format!("{scheme}://{}{path}", host.to_ascii_lowercase());
        oauth1::sign(
            parts.method.as_str(),
            &base,
            &params,
            &consumer_secret,
            &token_secret,
        ) == sig
    });
    if !ok {
        return Err(ApiError::unauthorized());
    }
    Ok(Auth::User {
        user_id,
        app_id,
        scopes: None,
    })
}

pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}
