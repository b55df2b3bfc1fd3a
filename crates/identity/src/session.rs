//! The per-request guard (token → user → rate limit → workspace role) and the session flows:
//! register, login, refresh, logout, password change. Every flow takes `now` as a parameter.

use crate::audit::{self, Entry, Meta};
use crate::auth::config::{AuthConfig, ACCESS_TTL_SECS};
use crate::auth::jwt::{self, AccessToken};
use crate::auth::password::{self, Password};
use crate::auth::tokens::{self, Rotation};
use crate::authz::{self, Access, Role};
use crate::users::{self, Acting, Email, Name, User};
use common::db::{Call, Db, Rows};
use common::error::{AppError, Code};
use common::http::{Ctx, Method};
use common::kv::Kv;
use common::ratelimit::{Decision, Limiter, WhenDown};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The key-value namespace of this module (its limiters).
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
    AppError::new(Code::InvalidToken, "The access token is invalid or expired")
}

/// Authenticates the bearer token and applies the permission table to `ctx.route`.
///
/// Order: token signature and claims; the per-user API rate limit (one key-value increment);
/// then, in one PostgreSQL round trip, the user and session still existing (so a logout, a
/// revoked session or a removed user fails at once) and the workspace role — from the `:id`
/// path parameter on workspace routes, else from `X-Workspace-ID` or the user's default. Not a
/// member → 404; too low a role → 403.
///
/// `fold` is the handler's read, run in the same statement and answered with the caller when
/// every check passed (dropped otherwise, unseen). Only a `GET` open to any member or any user
/// may fold: its read then runs whatever the role, and has no effect to undo.
pub fn guard(
    ctx: &Ctx,
    cfg: &AuthConfig,
    db: &Db,
    kv: &Kv,
    now_ms: i64,
    fold: Option<Call>,
) -> Result<(Caller, Option<Rows>), AppError> {
    let access = authz::access(ctx.method, ctx.route)
        .ok_or_else(|| AppError::forbidden("No permission rule covers this route"))?;
    if fold.is_some() && !may_fold(ctx.method, access) {
        return Err(AppError::internal(format!(
            "{} {} may not fold its read into the guard's statement",
            ctx.method.as_str(),
            ctx.route
        )));
    }
    let header = ctx.header("authorization").unwrap_or("");
    let raw = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::new(Code::NoToken, "A bearer access token is required"))?;
    let token = jwt::verify(cfg, raw, now_ms / 1000)?;
    let rate = Limiter::new(kv).take_or(
        "api",
        &token.user_id.to_string(),
        cfg.api_quota,
        now_ms,
        WhenDown::FailOpen,
        &ctx.correlation_id,
    )?;
    if !rate.allowed {
        return Err(rate.error(Code::RateLimited));
    }
    // `:id` names the workspace only on workspace routes (elsewhere it is an account, a post,
    // …); other routes act in `X-Workspace-ID` or the default workspace. A malformed id is a
    // 404 like any workspace that is not the caller's, once the user is known to exist.
    let named = |raw: &str| Uuid::parse_str(raw.trim()).map_err(|_| ());
    let acting = match access {
        Access::Public | Access::PublicOrUser | Access::User => Ok(Acting::Nowhere),
        Access::Member(_) | Access::MemberOrSelf(_) => {
            let workspace_param = ctx
                .param("id")
                .filter(|_| ctx.route.starts_with("/api/workspaces/"));
            match workspace_param.or(ctx.header("x-workspace-id")) {
                Some(raw) if !raw.trim().is_empty() => named(raw).map(Acting::In),
                _ => Ok(Acting::Default),
            }
        }
    };
    let found = users::authenticate(
        db,
        token.user_id,
        token.session_id,
        acting.unwrap_or(Acting::Nowhere),
        fold,
    )?
    .ok_or_else(|| unauthenticated().with_cause("user no longer exists"))?;
    if found.revoked {
        return Err(unauthenticated().with_cause("session revoked"));
    }
    let user = found.user;
    let workspace = match (access, acting) {
        (Access::Public | Access::PublicOrUser | Access::User, _) => None,
        (Access::Member(_) | Access::MemberOrSelf(_), Err(())) => {
            return Err(AppError::not_found("Workspace"))
        }
        (Access::Member(_) | Access::MemberOrSelf(_), Ok(_)) => {
            let (ws, role) = found
                .workspace
                .ok_or_else(|| AppError::not_found("Workspace"))?;
            let is_self = ctx.param("userId") == Some(user.id.to_string().as_str());
            authz::check(access, role, is_self)?;
            Some((ws, role))
        }
    };
    let caller = Caller {
        user,
        token,
        workspace,
        rate,
    };
    Ok((caller, found.folded))
}

/// Whether a route's read may run before its role is checked: a `GET` that any member, or any
/// signed-in user, may call.
fn may_fold(method: Method, access: Access) -> bool {
    method == Method::Get && matches!(access, Access::User | Access::Member(Role::Viewer))
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
            return Err(d.error(Code::LoginThrottled));
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
            return Err(d.error(Code::LoginThrottled));
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
    AppError::new(Code::WrongCredentials, "The email or password is incorrect")
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
    let invalid = || {
        AppError::new(
            Code::InvalidRefreshToken,
            "The refresh token is invalid or expired",
        )
    };
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

/// Revokes the caller's refresh family: the guard reads the family with the user on every
/// request, so the access token stops working at once.
pub fn logout(db: &Db, meta: &Meta, caller: &Caller, now_ms: i64) -> Result<Value, AppError> {
    tokens::revoke_family(db, caller.token.session_id, now_ms / 1000)?;
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
        return Err(AppError::new(
            Code::WrongCredentials,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_any_member_or_user_may_call_folds_its_read_before_the_role_check() {
        assert!(may_fold(Method::Get, Access::Member(Role::Viewer)));
        assert!(may_fold(Method::Get, Access::User));
        for role in [Role::Editor, Role::Admin, Role::Owner] {
            assert!(!may_fold(Method::Get, Access::Member(role)));
            assert!(!may_fold(Method::Get, Access::MemberOrSelf(role)));
        }
        for method in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
            assert!(!may_fold(method, Access::Member(Role::Viewer)));
            assert!(!may_fold(method, Access::User));
        }
        assert!(!may_fold(Method::Get, Access::Public));
        assert!(!may_fold(Method::Get, Access::PublicOrUser));
        // The routes whose read folds: their rules must stay ones that may.
        for route in [
            "/api/tweets/:id",
            "/api/auth/profile",
            "/api/workspaces",
            "/api/accounts",
        ] {
            assert!(may_fold(
                Method::Get,
                authz::access(Method::Get, route).unwrap()
            ));
        }
    }
}
