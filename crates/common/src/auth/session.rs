//! The per-request guard (token → user → rate limit → workspace role) and the session flows:
//! register, login, refresh, logout, password change. Every flow takes `now` as a parameter.

use super::config::{AuthConfig, ACCESS_TTL_SECS};
use super::jwt::{self, AccessToken};
use super::password::{self, Password};
use super::tokens::{self, Rotation};
use crate::audit::{self, Entry, Meta};
use crate::authz::{self, Access, Role};
use crate::db::Db;
use crate::error::AppError;
use crate::error::ErrorKind;
use crate::http::Ctx;
use crate::kv::Kv;
use crate::log::{self, Level};
use crate::ratelimit::{Decision, Limiter, WhenDown};
use crate::users::{self, Email, Name, User};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The key-value namespace of this module (denylist and limiters).
pub const KV_NAMESPACE: &str = "auth";

/// An authenticated, authorised request.
pub struct Caller {
    pub user: User,
    pub token: AccessToken,
    /// The workspace acted in and the caller's role there (for workspace routes).
    pub workspace: Option<(Uuid, Role)>,
    /// The API rate limit decision, for the `RateLimit-*` headers.
    pub rate: Decision,
}

impl Caller {
    pub fn workspace_id(&self) -> Option<Uuid> {
        self.workspace.map(|(w, _)| w)
    }

    /// The workspace a workspace route acts in (404 when there is none).
    pub fn acting_workspace(&self) -> Result<Uuid, AppError> {
        self.workspace_id()
            .ok_or_else(|| AppError::not_found("Workspace"))
    }

    pub fn role(&self) -> Role {
        self.workspace.map(|(_, r)| r).unwrap_or(Role::Viewer)
    }
}

fn unauthenticated() -> AppError {
    AppError::unauthenticated("AUTH_002", "The access token is invalid or expired")
}

fn deny_key(jti: &str) -> String {
    format!("deny:{jti}")
}

/// Authenticates the bearer token and applies the permission table to `ctx.route`.
///
/// Order: token signature and claims; the logout denylist; the per-user API rate limit; the
/// user and session still existing (so a revoked session or a removed user fails at once);
/// then the workspace role — from the `:id` path parameter on workspace routes, else from
/// `X-Workspace-ID` or the user's default. Not a member → 404; too low a role → 403.
pub fn guard(
    ctx: &Ctx,
    cfg: &AuthConfig,
    db: &Db,
    kv: &Kv,
    now_ms: i64,
) -> Result<Caller, AppError> {
    let access = authz::access(ctx.method, ctx.route)
        .ok_or_else(|| AppError::forbidden("No permission rule covers this route"))?;
    let header = ctx.header("authorization").unwrap_or("");
    let raw = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::unauthenticated("AUTH_001", "A bearer access token is required")
        })?;
    let token = jwt::verify(cfg, raw, now_ms / 1000)?;
    // The denylist is a fast path: logout also revokes the session's family in PostgreSQL,
    // which is checked below, so an unreachable store lets the check pass (logged).
    match kv.get_json::<u8>(&deny_key(&token.jti), now_ms) {
        Ok(Some(_)) => return Err(unauthenticated().with_cause("token was logged out")),
        Ok(None) => {}
        Err(e) if e.kind == ErrorKind::ServiceUnavailable => {
            log_store_down(&ctx.correlation_id, "denylist", &e)
        }
        Err(e) => return Err(e),
    }
    let rate = Limiter::new(kv).take_or(
        "api",
        &token.user_id.to_string(),
        cfg.api_quota,
        now_ms,
        WhenDown::FailOpen,
        &ctx.correlation_id,
    )?;
    if !rate.allowed {
        return Err(rate.error("RATE_001"));
    }
    let (user, revoked) = users::find_with_session(db, token.user_id, token.session_id)?
        .ok_or_else(|| unauthenticated().with_cause("user no longer exists"))?;
    if revoked {
        return Err(unauthenticated().with_cause("session revoked"));
    }
    let workspace = match access {
        Access::Public | Access::User => None,
        Access::Member(_) | Access::MemberOrSelf(_) => {
            // `:id` names the workspace only on workspace routes (elsewhere it is an account,
            // a post, …); other routes act in `X-Workspace-ID` or the default workspace.
            let workspace_param = ctx
                .param("id")
                .filter(|_| ctx.route.starts_with("/api/workspaces/"));
            let selected = match workspace_param {
                Some(id) => {
                    let ws = Uuid::parse_str(id).map_err(|_| AppError::not_found("Workspace"))?;
                    crate::workspaces::role_of(db, ws, user.id)?.map(|r| (ws, r))
                }
                None => crate::workspaces::select(db, user.id, ctx.header("x-workspace-id"))?,
            };
            let (ws, role) = selected.ok_or_else(|| AppError::not_found("Workspace"))?;
            let is_self = ctx.param("userId") == Some(user.id.to_string().as_str());
            authz::check(access, role, is_self)?;
            Some((ws, role))
        }
    };
    Ok(Caller {
        user,
        token,
        workspace,
        rate,
    })
}

fn log_store_down(correlation_id: &str, what: &str, e: &AppError) {
    log::emit(
        Level::Warn,
        correlation_id,
        "key-value unavailable: skipping a check that PostgreSQL backs",
        json!({ "check": what, "code": e.code, "fingerprint": e.fingerprint(), "cause": e.cause }),
    );
}

/// Adds the `RateLimit-*` headers to whatever the handler answered.
pub fn with_rate_headers(
    result: Result<crate::http::Reply, AppError>,
    rate: &Decision,
) -> Result<crate::http::Reply, AppError> {
    let headers = rate.headers();
    match result {
        Ok(mut reply) => {
            for (k, v) in headers {
                reply = reply.header(k, v);
            }
            Ok(reply)
        }
        Err(mut err) => {
            if err.headers.is_empty() {
                for (k, v) in headers {
                    err = err.with_header(k, v);
                }
            }
            Err(err)
        }
    }
}

/// Issues an access token and a new refresh token of `family` (a new family is a new session).
fn token_pair(
    db: &Db,
    cfg: &AuthConfig,
    user: &User,
    family: Uuid,
    refresh: Option<tokens::NewRefreshToken>,
    now_ms: i64,
) -> Result<Value, AppError> {
    let refresh = match refresh {
        Some(r) => r,
        None => {
            let r = tokens::generate()?;
            tokens::store(db, user.id, family, &r, now_ms / 1000)?;
            r
        }
    };
    let access = jwt::issue(cfg, user.id, family, now_ms / 1000)?;
    Ok(json!({
        "user": user.summary(),
        "accessToken": access,
        "refreshToken": refresh.token,
        "tokenType": "Bearer",
        "expiresIn": ACCESS_TTL_SECS,
    }))
}

/// Login throttling: per client address first, then per email (hashed, no PII in key-value).
fn throttle_login(
    kv: &Kv,
    cfg: &AuthConfig,
    meta: &Meta,
    email_key: Option<&str>,
    now_ms: i64,
) -> Result<(), AppError> {
    let limiter = Limiter::new(kv);
    if let Some(addr) = &meta.client_addr {
        let d = limiter.take("login-client", addr, cfg.login_client_quota, now_ms)?;
        if !d.allowed {
            return Err(d.error("RATE_002"));
        }
    }
    if let Some(email) = email_key {
        let key = hex::encode(
            Sha256::digest(email.as_bytes())
                .iter()
                .take(16)
                .copied()
                .collect::<Vec<u8>>(),
        );
        let d = limiter.take("login-email", &key, cfg.login_email_quota, now_ms)?;
        if !d.allowed {
            return Err(d.error("RATE_002"));
        }
    }
    Ok(())
}

#[derive(serde::Deserialize)]
pub struct RegisterBody {
    pub email: String,
    pub password: String,
    pub name: String,
}

pub fn register(
    db: &Db,
    kv: &Kv,
    cfg: &AuthConfig,
    meta: &Meta,
    body: RegisterBody,
    now_ms: i64,
) -> Result<Value, AppError> {
    throttle_login(kv, cfg, meta, None, now_ms)?;
    let email = Email::parse(&body.email)?;
    let name = Name::parse(&body.name, "name")?;
    let pw = Password::parse(&body.password)?;
    let user = users::register(db, &email, &name, &pw)?;
    let pair = token_pair(db, cfg, &user, Uuid::now_v7(), None, now_ms)?;
    audit::record(
        db,
        meta,
        Entry::new("auth.register")
            .actor(user.id)
            .workspace(user.default_workspace)
            .target("user", user.id),
    )?;
    Ok(pair)
}

#[derive(serde::Deserialize)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

fn bad_credentials() -> AppError {
    AppError::unauthenticated("AUTH_003", "The email or password is incorrect")
}

pub fn login(
    db: &Db,
    kv: &Kv,
    cfg: &AuthConfig,
    meta: &Meta,
    body: LoginBody,
    now_ms: i64,
) -> Result<Value, AppError> {
    let normalized = body.email.trim().to_lowercase();
    throttle_login(kv, cfg, meta, Some(&normalized), now_ms)?;
    let found = match Email::parse(&normalized) {
        Ok(email) => users::find_by_email(db, &email)?,
        Err(_) => None,
    };
    // Unknown emails verify against a dummy hash: same cost, same answer.
    let ok = body.password.len() <= password::MAX_LEN * 4
        && password::verify(&body.password, found.as_ref().map(|(_, h)| h.as_str()));
    let Some((user, _)) = found.filter(|_| ok) else {
        audit::record(
            db,
            meta,
            Entry::new("auth.login_failed").details(
                json!({ "emailSha256": hex::encode(Sha256::digest(normalized.as_bytes())) }),
            ),
        )?;
        return Err(bad_credentials());
    };
    let pair = token_pair(db, cfg, &user, Uuid::now_v7(), None, now_ms)?;
    audit::record(
        db,
        meta,
        Entry::new("auth.login")
            .actor(user.id)
            .workspace(user.default_workspace)
            .target("user", user.id),
    )?;
    Ok(pair)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: String,
}

pub fn refresh(
    db: &Db,
    cfg: &AuthConfig,
    meta: &Meta,
    body: RefreshBody,
    now_ms: i64,
) -> Result<Value, AppError> {
    let invalid =
        || AppError::unauthenticated("AUTH_004", "The refresh token is invalid or expired");
    if body.refresh_token.is_empty() || body.refresh_token.len() > 256 {
        return Err(invalid());
    }
    match tokens::rotate(db, &body.refresh_token, now_ms / 1000)? {
        Rotation::Invalid => Err(invalid()),
        Rotation::Reused { user_id, family_id } => {
            let ws = users::find(db, user_id)?.and_then(|(u, _)| u.default_workspace);
            audit::record(
                db,
                meta,
                Entry::new("auth.refresh_reuse")
                    .actor(user_id)
                    .workspace(ws)
                    .target("session", family_id)
                    .details(json!({ "familyRevoked": true })),
            )?;
            Err(invalid().with_cause("refresh token reuse: family revoked"))
        }
        Rotation::Rotated {
            user_id,
            family_id,
            token,
        } => {
            let (user, _) = users::find(db, user_id)?.ok_or_else(invalid)?;
            let pair = token_pair(db, cfg, &user, family_id, Some(token), now_ms)?;
            audit::record(
                db,
                meta,
                Entry::new("auth.refresh")
                    .actor(user.id)
                    .workspace(user.default_workspace)
                    .target("session", family_id),
            )?;
            Ok(pair)
        }
    }
}

/// Revokes the caller's refresh family and denylists the access token until it expires.
pub fn logout(
    db: &Db,
    kv: &Kv,
    meta: &Meta,
    caller: &Caller,
    now_ms: i64,
) -> Result<Value, AppError> {
    tokens::revoke_family(db, caller.token.session_id, now_ms / 1000)?;
    let ttl = (caller.token.exp * 1000 - now_ms).max(1);
    // The revoked family already ends the session (the guard checks it on every request).
    match kv.set_json(&deny_key(&caller.token.jti), &1u8, Some(ttl), now_ms) {
        Err(e) if e.kind == ErrorKind::ServiceUnavailable => {
            log_store_down(&meta.correlation_id, "denylist write", &e)
        }
        other => other?,
    }
    audit::record(
        db,
        meta,
        Entry::new("auth.logout")
            .actor(caller.user.id)
            .workspace(caller.user.default_workspace)
            .target("session", caller.token.session_id),
    )?;
    Ok(json!({ "loggedOut": true }))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password (the current one is required) and ends every other session.
pub fn change_password(
    db: &Db,
    kv: &Kv,
    cfg: &AuthConfig,
    meta: &Meta,
    caller: &Caller,
    body: PasswordBody,
    now_ms: i64,
) -> Result<Value, AppError> {
    throttle_login(kv, cfg, meta, Some(&caller.user.email), now_ms)?;
    let new = Password::parse(&body.new_password)?;
    let (_, stored) = users::find(db, caller.user.id)?.ok_or_else(unauthenticated)?;
    if body.current_password.len() > password::MAX_LEN * 4
        || !password::verify(&body.current_password, Some(&stored))
    {
        return Err(AppError::unauthenticated(
            "AUTH_003",
            "The current password is incorrect",
        ));
    }
    let ended = db.transaction(|db| {
        users::set_password(db, caller.user.id, &new)?;
        tokens::revoke_other_families(db, caller.user.id, caller.token.session_id, now_ms / 1000)
    })?;
    audit::record(
        db,
        meta,
        Entry::new("auth.password_changed")
            .actor(caller.user.id)
            .workspace(caller.user.default_workspace)
            .target("user", caller.user.id)
            .details(json!({ "otherSessionsEnded": ended })),
    )?;
    Ok(json!({ "passwordChanged": true, "otherSessionsEnded": ended }))
}
