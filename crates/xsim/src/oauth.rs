//! OAuth 2.0 authorization code flow with PKCE: /i/oauth2/authorize, /2/oauth2/token,
//! /2/oauth2/revoke.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::ctx::Ctx;
use crate::oauth1::encode;
use crate::problem::{ok, ApiError, ApiResult};
use crate::state::{random_token, AuthCode, Inner, SimState};

pub const ACCESS_TOKEN_SECS: i64 = 7_200;
pub const CODE_SECS: i64 = 30;

const KNOWN_SCOPES: &[&str] = &[
    "block.read",
    "bookmark.read",
    "bookmark.write",
    "dm.read",
    "dm.write",
    "follows.read",
    "follows.write",
    "like.read",
    "like.write",
    "list.read",
    "list.write",
    "media.write",
    "mute.read",
    "mute.write",
    "offline.access",
    "space.read",
    "tweet.moderate.write",
    "tweet.read",
    "tweet.write",
    "users.read",
];

fn bad_request(desc: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", desc)
}

pub async fn authorize(State(st): State<Arc<SimState>>, req: Request) -> Response {
    let ctx = match Ctx::read(req).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let q = |k: &str| ctx.param(k).unwrap_or_default();
    let (client_id, redirect_uri, scope) = (q("client_id"), q("redirect_uri"), q("scope"));
    let (challenge, method) = (q("code_challenge"), q("code_challenge_method"));
    let fail = |msg: &str| {
        (
            StatusCode::BAD_REQUEST,
            Html(format!("<h1>Something went wrong</h1><p>{msg}</p>")),
        )
            .into_response()
    };
    if q("response_type") != "code" {
        return fail("response_type must be code");
    }
    if challenge.is_empty() || !matches!(method.as_str(), "S256" | "plain") {
        return fail("code_challenge and code_challenge_method (S256 or plain) are required");
    }
    let scopes: Vec<String> = scope
        .split([' ', '+'])
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if scopes.is_empty() || scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return fail("invalid scope");
    }
    let now = st.clock.now();
    let mut inner = st.inner.lock();
    let Some(app) = inner.app_by_client_id(&client_id).cloned() else {
        return fail("unknown client_id");
    };
    if redirect_uri.is_empty()
        || (!app.redirect_uris.is_empty() && !app.redirect_uris.contains(&redirect_uri))
    {
        return fail("redirect_uri does not match the app's callback URLs");
    }
    let chosen = match (ctx.param("user_id"), ctx.param("username")) {
        (Some(id), _) => id
            .parse::<u64>()
            .ok()
            .filter(|id| inner.users.contains_key(id)),
        (None, Some(name)) => inner.usernames.get(&name.to_lowercase()).copied(),
        (None, None) if inner.users.len() == 1 => inner.users.keys().next().copied(),
        (None, None) => return consent_page(&inner, &ctx),
    };
    let Some(user_id) = chosen else {
        return fail("unknown user");
    };
    let code = random_token(48);
    inner.codes.insert(
        code.clone(),
        AuthCode {
            app_id: app.id,
            user_id,
            redirect_uri: redirect_uri.clone(),
            scopes,
            challenge,
            method,
            expires_at: now + CODE_SECS,
        },
    );
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{sep}state={}&code={}",
        encode(&q("state")),
        encode(&code)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn consent_page(inner: &Inner, ctx: &Ctx) -> Response {
    let base = format!(
        "{}?{}",
        ctx.parts.uri.path(),
        ctx.parts.uri.query().unwrap_or("")
    );
    let mut users: Vec<_> = inner.users.values().collect();
    users.sort_by_key(|u| u.id);
    let items: String = users
        .iter()
        .map(|u| {
            format!(
                "<li><a href=\"{base}&amp;user_id={}\">Authorize as @{}</a></li>",
                u.id, u.username
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><title>Authorize app</title><h1>xsim: authorize app</h1><ul>{items}</ul>"
    ))
    .into_response()
}

/// The calling app: HTTP Basic for confidential clients, `client_id` in the form for public ones.
fn client(inner: &Inner, headers: &HeaderMap, form: &[(String, String)]) -> Result<u64, ApiError> {
    let unauthorized =
        |d: &str| ApiError::oauth(StatusCode::UNAUTHORIZED, "unauthorized_client", d);
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    if let Some(creds) = basic {
        let (id, secret) = creds.split_once(':').unwrap_or((&creds, ""));
        let (id, secret) = (
            crate::oauth1::decode(id, true),
            crate::oauth1::decode(secret, true),
        );
        return match inner.app_by_client_id(&id) {
            Some(app) if app.client_secret == secret => Ok(app.id),
            _ => Err(unauthorized("Invalid client credentials")),
        };
    }
    let id = form
        .iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    match inner.app_by_client_id(id) {
        Some(app) if app.public => Ok(app.id),
        Some(_) => Err(unauthorized("Missing valid authorization header")),
        None => Err(unauthorized("Missing valid authorization header")),
    }
}

fn pkce_ok(code: &AuthCode, verifier: &str) -> bool {
    match code.method.as_str() {
        "plain" => verifier == code.challenge,
        _ => {
            let digest = Sha256::digest(verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == code.challenge
        }
    }
}

pub async fn token(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let form = ctx.form();
    let f = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let now = st.clock.now();
    let mut inner = st.inner.lock();
    let app_id = client(&inner, &ctx.parts.headers, &form)?;
    let (user_id, scopes) = match f("grant_type").as_str() {
        "authorization_code" => {
            // Single use: the code is gone whatever happens next.
            let code = inner
                .codes
                .remove(&f("code"))
                .filter(|c| c.expires_at > now && c.app_id == app_id)
                .ok_or_else(|| {
                    bad_request("Value passed for the authorization code was invalid.")
                })?;
            if code.redirect_uri != f("redirect_uri") {
                return Err(bad_request("Value passed for the redirect uri did not match the uri of the authorization code."));
            }
            if !pkce_ok(&code, &f("code_verifier")) {
                return Err(bad_request(
                    "Value passed for the code verifier did not match the code challenge.",
                ));
            }
            (code.user_id, code.scopes)
        }
        "refresh_token" => {
            let rt = inner
                .refresh
                .get(&f("refresh_token"))
                .filter(|r| r.app_id == app_id)
                .cloned()
                .ok_or_else(|| bad_request("Value passed for the token was invalid."))?;
            inner.refresh.remove(&f("refresh_token"));
            (rt.user_id, rt.scopes)
        }
        _ => return Err(bad_request("Value passed for the grant type was invalid.")),
    };
    let scope = scopes.join(" ");
    let (access, refresh) = inner.issue_tokens(user_id, app_id, scopes, now);
    let mut body = json!({"token_type": "bearer", "expires_in": ACCESS_TOKEN_SECS, "access_token": access, "scope": scope});
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    Ok(ok(&body))
}

pub async fn revoke(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let form = ctx.form();
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut inner = st.inner.lock();
    let app_id = client(&inner, &ctx.parts.headers, &form)?;
    if inner.access.get(&token).is_some_and(|t| t.app_id == app_id) {
        inner.access.remove(&token);
    }
    if inner
        .refresh
        .get(&token)
        .is_some_and(|t| t.app_id == app_id)
    {
        inner.refresh.remove(&token);
    }
    Ok(ok(&json!({"revoked": true})))
}
