//! The accounts component's handlers, one function per route: parse, call the rules in
//! [`store`], [`refresh`] and the X client, write the audit row, shape the answer.

use crate::config::{AccountsConfig, CALLBACK_PATH};
use crate::credentials::Credentials;
use crate::oauth_state::{self, Pending, Refusal};
use crate::refresh::{self, When};
use crate::slots::{self, SlotInput};
use crate::store::{self, Account, Connected, Page, Settings};
use chrono::DateTime;
use common::clock::rfc3339;
use common::error::AppError;
use common::http::{Ctx, Reply};
use common::x::{Circuit, Endpoint, OAuthApp, Pkce, XClient, XError};
use identity::audit::{self, Entry};
use identity::authz::Role;
use identity::Caller;
use identity::Env;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

fn time(now_ms: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(now_ms).unwrap_or_default()
}

/// `POST /api/accounts/connect`: starts the OAuth 2.0 flow with PKCE.
pub fn connect(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let cfg = AccountsConfig::load()?;
    let app = OAuthApp::from_config(&cfg.x)?;
    let redirect_uri = redirect_uri(&cfg, ctx)?;
    let pkce = Pkce::generate()?;
    let state = oauth_state::new_state()?;
    let expires_at = env.now_ms + oauth_state::TTL_MS;
    oauth_state::save(
        &env.db,
        &state,
        &Pending {
            user_id: caller.user.id.to_string(),
            workspace_id: ws.to_string(),
            verifier: pkce.verifier.expose().clone(),
            redirect_uri: redirect_uri.clone(),
            expires_at,
        },
        env.now_ms,
    )?;
    let url = app.authorize_url(
        &redirect_uri,
        &state,
        &pkce.challenge,
        common::x::oauth2::SCOPES,
    );
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("account.connect_started")
            .actor(caller.user.id)
            .workspace(Some(ws)),
    )?;
    Ok(Reply::ok(json!({
        "authorizeUrl": url,
        "state": state,
        "redirectUri": redirect_uri,
        "expiresAt": rfc3339(expires_at),
    })))
}

/// The callback URL X sends the browser back to: the configured one, else this origin's.
fn redirect_uri(cfg: &AccountsConfig, ctx: &Ctx) -> Result<String, AppError> {
    if let Some(uri) = &cfg.redirect_uri {
        return Ok(uri.clone());
    }
    let full = ctx
        .header("spin-full-url")
        .ok_or_else(|| AppError::config("set the variable x_redirect_uri"))?;
    let origin = match full.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => full.split('/').next().unwrap_or("").to_string(),
    };
    Ok(format!("{origin}{CALLBACK_PATH}"))
}

fn state_refused(why: Refusal) -> AppError {
    AppError::bad_request(
        "ACCT_STATE",
        "The connect link is invalid, expired or already used; start connecting again.",
    )
    .with_cause(format!("oauth state refused: {why:?}"))
}

/// `GET /api/accounts/oauth/callback?code&state`: public, because X sends the user's browser
/// here without our token; the single-use `state` says who started the flow. A bearer token,
/// when present (an app finishing the flow itself), must belong to that same user.
pub async fn callback(env: &Env, ctx: &Ctx, bearer_user: Option<Uuid>) -> Result<Reply, AppError> {
    let cfg = AccountsConfig::load()?;
    let result = finish_connect(env, ctx, &cfg, bearer_user).await;
    let Some(url) = &cfg.connected_url else {
        return result.map(|(_, reply)| reply);
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let location = match &result {
        Ok((id, _)) => format!("{url}{sep}status=connected&accountId={id}"),
        Err(e) => format!("{url}{sep}status=error&code={}", e.code),
    };
    Ok(Reply::raw(302, "text/plain", Vec::new()).header("location", location))
}

async fn finish_connect(
    env: &Env,
    ctx: &Ctx,
    cfg: &AccountsConfig,
    bearer_user: Option<Uuid>,
) -> Result<(Uuid, Reply), AppError> {
    if let Some(error) = ctx.query_param("error") {
        return Err(AppError::bad_request(
            "ACCT_DENIED",
            "Connecting the account was cancelled or refused at X.",
        )
        .with_details(json!({ "error": error.chars().take(100).collect::<String>() })));
    }
    let state = ctx.query_param("state").unwrap_or_default();
    let code = ctx
        .query_param("code")
        .filter(|c| !c.is_empty() && c.len() <= 512)
        .ok_or_else(|| {
            AppError::bad_request("ACCT_CODE", "The callback carries no authorization code")
        })?;
    let pending = oauth_state::take(&env.db, &state, env.now_ms)?.map_err(state_refused)?;
    let user = Uuid::parse_str(&pending.user_id).map_err(AppError::internal)?;
    let ws = Uuid::parse_str(&pending.workspace_id).map_err(AppError::internal)?;
    if bearer_user.is_some_and(|b| b != user) {
        return Err(state_refused(Refusal::WrongUser));
    }
    // The role is checked again: it may have changed since the flow started.
    match identity::workspaces::role_of(&env.db, ws, user)? {
        Some(role) if role >= Role::Admin => {}
        Some(_) => {
            return Err(AppError::forbidden(
                "Connecting accounts needs the admin role",
            ))
        }
        None => return Err(AppError::not_found("Workspace")),
    }
    let now = time(env.now_ms);
    let app = OAuthApp::from_config(&cfg.x)?;
    let tokens = app
        .exchange_code(&code, pending.verifier().expose(), &pending.redirect_uri, now)
        .await
        .map_err(|e| match e {
            XError::Unauthorized { .. } | XError::InvalidRequest { .. } => AppError::bad_request(
                "ACCT_CODE",
                "X refused the authorization code (expired, already used, or not issued for this flow).",
            )
            .with_cause(format!("code exchange: {e}")),
            other => other.to_app_error(now),
        })?;
    let me = XClient::from_config(&cfg.x, common::x::Auth::User(tokens.access_token.clone()))
        .me()
        .await
        .map_err(|e| e.to_app_error(now))?;
    let creds = Credentials::OAuth2 {
        access_token: tokens.access_token.expose().clone(),
        refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().clone()),
    };
    let scopes = tokens.scopes.join(" ");
    let (id, created) = store::upsert(
        &env.db,
        &Connected {
            workspace_id: ws,
            x_user_id: &me.id,
            username: &me.username,
            display_name: &me.name,
            auth_kind: "oauth2",
            scopes: &scopes,
            token_expires_ms: Some(tokens.expires_at.timestamp_millis()),
            connected_by: user,
            now_ms: env.now_ms,
        },
        |id| seal(cfg, &creds, ws, id),
    )?;
    Ok((id, connected(env, user, ws, id, created, "oauth2")?))
}

fn seal(
    cfg: &AccountsConfig,
    creds: &Credentials,
    ws: Uuid,
    id: Uuid,
) -> Result<(String, String), AppError> {
    let sealed = creds.seal(&cfg.keys, &ws.to_string(), &id.to_string())?;
    Ok((sealed, cfg.keys.current_key_id().to_string()))
}

fn connected(
    env: &Env,
    user: Uuid,
    ws: Uuid,
    id: Uuid,
    created: bool,
    kind: &str,
) -> Result<Reply, AppError> {
    let account = store::get(&env.db, ws, id)?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new(if created {
            "account.connected"
        } else {
            "account.reconnected"
        })
        .actor(user)
        .workspace(Some(ws))
        .target("x_account", id)
        .details(json!({ "username": account.username, "authKind": kind })),
    )?;
    let data = json!({ "account": account.to_json(), "created": created });
    Ok(if created {
        Reply::created(data)
    } else {
        Reply::ok(data)
    })
}

/// The seed's `XApiCredentials`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth1Body {
    api_key: String,
    api_secret: String,
    access_token: String,
    access_token_secret: String,
}

/// `POST /api/accounts`: an account by OAuth 1.0a user credentials, checked against X first.
pub async fn add_oauth1(env: &Env, caller: &Caller, body: OAuth1Body) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let fields = [
        ("apiKey", &body.api_key),
        ("apiSecret", &body.api_secret),
        ("accessToken", &body.access_token),
        ("accessTokenSecret", &body.access_token_secret),
    ];
    let bad: Vec<&str> = fields
        .iter()
        .filter(|(_, v)| {
            let v = v.trim();
            v.is_empty() || v.len() > 200 || v.chars().any(char::is_whitespace)
        })
        .map(|(name, _)| *name)
        .collect();
    if !bad.is_empty() {
        return Err(AppError::validation("Credentials must be non-empty tokens")
            .with_details(json!({ "fields": bad })));
    }
    let cfg = AccountsConfig::load()?;
    let creds = Credentials::OAuth1 {
        consumer_key: body.api_key.trim().into(),
        consumer_secret: body.api_secret.trim().into(),
        access_token: body.access_token.trim().into(),
        access_token_secret: body.access_token_secret.trim().into(),
    };
    let now = time(env.now_ms);
    let me = XClient::from_config(&cfg.x, creds.auth())
        .me()
        .await
        .map_err(|e| match e {
            XError::Unauthorized { .. } | XError::Forbidden { .. } => AppError::new(
                common::ErrorKind::Validation,
                "ACCT_CREDENTIALS",
                "X rejected these credentials; check the API key, secret and access tokens.",
            )
            .with_cause(format!("users/me: {e}")),
            other => other.to_app_error(now),
        })?;
    let (id, created) = store::upsert(
        &env.db,
        &Connected {
            workspace_id: ws,
            x_user_id: &me.id,
            username: &me.username,
            display_name: &me.name,
            auth_kind: "oauth1",
            scopes: "",
            token_expires_ms: None,
            connected_by: caller.user.id,
            now_ms: env.now_ms,
        },
        |id| seal(&cfg, &creds, ws, id),
    )?;
    connected(env, caller.user.id, ws, id, created, "oauth1")
}

pub fn list(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let page = Page::from_query(|n| ctx.query_param(n))?;
    let list = store::list_json(&env.db, ws, caller.user.id, &page)?;
    Ok(Reply::ok_json(format!(
        r#"{{"items":{},"nextCursor":{},"activeAccountId":{}}}"#,
        list.items,
        json!(list.next),
        json!(list.active)
    )))
}

pub fn get(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let account = store::get(&env.db, ws, id)?;
    Ok(Reply::ok(detail(env, ws, caller, &account)?))
}

/// An account as `GET` and `PATCH /api/accounts/:id` answer it: with `active`, whether it is
/// the caller's active account.
fn detail(env: &Env, ws: Uuid, caller: &Caller, account: &Account) -> Result<Value, AppError> {
    let mut data = account.to_json();
    let active = store::active(&env.db, ws, caller.user.id)? == Some(account.id);
    common::json::set(&mut data, "active", json!(active));
    Ok(data)
}

/// `PATCH` body. `label` and `dailyPostCap` may be `null` to clear them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default, deserialize_with = "present")]
    label: Option<Option<String>>,
    timezone: Option<String>,
    posting_slots: Option<Vec<SlotInput>>,
    paused: Option<bool>,
    #[serde(default, deserialize_with = "present_integer")]
    daily_post_cap: Option<Option<i64>>,
}

/// Distinguishes a field sent as `null` (`Some(None)`) from a missing one (`None`).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// [`present`] for an integer written in any JSON notation (`60` or `60.0`).
fn present_integer<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Option::<common::json::Integer>::deserialize(d).map(|i| Some(i.map(|i| i.0)))
}

pub fn update(env: &Env, ctx: &Ctx, caller: &Caller, body: PatchBody) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let mut errors = Vec::new();
    let label = body.label.clone().map(|l| {
        l.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .inspect(|s| {
                if s.chars().count() > 100 {
                    errors.push(json!({ "field": "label", "message": "at most 100 characters" }));
                }
            })
    });
    let timezone = body.timezone.as_deref().map(str::trim).map(str::to_string);
    if let Some(zone) = &timezone {
        if zone.is_empty() || zone.len() > 64 || !store::zone_exists(&env.db, zone)? {
            errors.push(json!({ "field": "timezone", "message": "not an IANA time zone name" }));
        }
    }
    if let Some(Some(cap)) = body.daily_post_cap {
        if !(1..=2400).contains(&cap) {
            errors.push(json!({ "field": "dailyPostCap", "message": "between 1 and 2400" }));
        }
    }
    let posting_slots = match body.posting_slots.as_deref().map(slots::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            errors.push(
                json!({ "field": "postingSlots", "message": e.message, "details": e.details }),
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::validation("Invalid account settings")
            .with_details(json!({ "errors": errors })));
    }
    let settings = Settings {
        label,
        timezone,
        posting_slots,
        paused: body.paused,
        daily_post_cap: body.daily_post_cap,
    };
    let before = store::update(&env.db, ws, id, &settings)?;
    let account = store::get(&env.db, ws, id)?;
    let changed: Vec<&str> = [
        settings.label.as_ref().map(|_| "label"),
        settings.timezone.as_ref().map(|_| "timezone"),
        settings.posting_slots.as_ref().map(|_| "postingSlots"),
        settings.paused.map(|_| "paused"),
        settings.daily_post_cap.map(|_| "dailyPostCap"),
    ]
    .into_iter()
    .flatten()
    .collect();
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("account.updated")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("x_account", id)
            .details(
                json!({ "changed": changed, "statusBefore": before, "status": account.status }),
            ),
    )?;
    Ok(Reply::ok(detail(env, ws, caller, &account)?))
}

/// `DELETE /api/accounts/:id[?force=true]`: revokes the tokens at X, then deletes. Refused
/// while posts are scheduled unless forced, which cancels them.
pub async fn delete(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let account = store::get(&env.db, ws, id)?;
    let force = match ctx.query_param("force").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(AppError::validation("force must be true or false")
                .with_details(json!({ "field": "force" })))
        }
    };
    let pending = store::pending_posts(&env.db, ws, id)?;
    if pending > 0 && !force {
        return Err(AppError::conflict_rule(
            "ACCT_HAS_POSTS",
            format!("{pending} posts are scheduled for this account; delete with ?force=true to cancel them"),
        )
        .with_details(json!({ "scheduledPosts": pending })));
    }
    let cfg = AccountsConfig::load()?;
    let revoked = revoke_at_x(env, &cfg, &account).await;
    let cancelled = store::delete(&env.db, ws, id, env.now_ms)?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("account.deleted")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("x_account", id)
            .details(json!({
                "username": account.username,
                "cancelledPosts": cancelled,
                "revokedAtX": revoked,
            })),
    )?;
    Ok(Reply::no_content())
}

/// Best effort: the account is deleted here whatever X answers; the audit row says whether X
/// confirmed. OAuth 1.0a tokens have no revocation endpoint in API v2 (the user revokes the
/// app in X's settings).
async fn revoke_at_x(env: &Env, cfg: &AccountsConfig, account: &Account) -> Value {
    let Ok(creds) = refresh::open(&env.db, cfg, account.workspace_id, account.id) else {
        return json!(false);
    };
    let Credentials::OAuth2 {
        access_token,
        refresh_token,
    } = creds
    else {
        return json!("not supported for OAuth 1.0a");
    };
    let Ok(app) = OAuthApp::from_config(&cfg.x) else {
        return json!(false);
    };
    let now = time(env.now_ms);
    let mut ok = app.revoke(&access_token, "access_token", now).await.is_ok();
    if let Some(rt) = refresh_token {
        ok &= app.revoke(&rt, "refresh_token", now).await.is_ok();
    }
    json!(ok)
}

pub fn switch(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    store::switch(&env.db, ws, caller.user.id, id)?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("account.switched")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("x_account", id),
    )?;
    Ok(Reply::ok(json!({ "activeAccountId": id })))
}

/// `POST /api/accounts/:id/refresh`: refreshes the token now. Concurrent calls collapse into
/// one refresh (each names the refresh it saw; the first one to take the lock does it).
pub async fn refresh_now(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let seen = store::get(&env.db, ws, id)?.last_refreshed_ms;
    let cfg = AccountsConfig::load()?;
    let when = When::Since(seen);
    let outcome =
        refresh::refresh(&env.db, &cfg, &env.meta, ws, id, when, false, env.now_ms).await?;
    if outcome == refresh::Outcome::NotApplicable {
        return Err(AppError::conflict_rule(
            "ACCT_NO_REFRESH",
            "OAuth 1.0a credentials do not expire and cannot be refreshed",
        ));
    }
    if outcome == refresh::Outcome::Refreshed {
        audit::record(
            &env.db,
            &env.meta,
            Entry::new("account.token_refreshed")
                .actor(caller.user.id)
                .workspace(Some(ws))
                .target("x_account", id),
        )?;
    }
    let account = store::get(&env.db, ws, id)?;
    Ok(Reply::ok(json!({
        "refreshed": outcome == refresh::Outcome::Refreshed,
        "account": account.to_json(),
    })))
}

/// `GET /api/accounts/:id/health[?verify=true]`: token state, budgets, breaker, recent
/// failures. `verify=true` also asks X who the token belongs to (refreshing a rejected OAuth
/// 2.0 token once), which is how a token revoked at X is noticed outside publishing.
pub async fn health(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let mut account = store::get(&env.db, ws, id)?;
    let verified = if ctx.query_param("verify").as_deref() == Some("true") {
        let cfg = AccountsConfig::load()?;
        let result = verify(env, &cfg, &account).await;
        account = store::get(&env.db, ws, id)?;
        Some(match result {
            Ok(()) => json!({ "ok": true }),
            Err(e) => json!({ "ok": false, "code": e.code, "message": e.public_message() }),
        })
    } else {
        None
    };
    let now = time(env.now_ms);
    let budgets = common::x::Budgets::open()?;
    let breakers = common::x::Breakers::open()?;
    let endpoints = [
        Endpoint::CreatePost,
        Endpoint::DeletePost,
        Endpoint::Like,
        Endpoint::Unlike,
        Endpoint::Repost,
        Endpoint::Unrepost,
        Endpoint::LookupPosts,
        Endpoint::UserPosts,
        Endpoint::MediaUpload,
        Endpoint::Me,
    ];
    let mut budget = serde_json::Map::new();
    for e in endpoints {
        if let Some(b) = budgets.load(&id.to_string(), e, now) {
            budget.insert(e.as_str().into(), json!(b));
        }
    }
    let token = match (account.auth_kind.as_str(), account.token_expires_ms) {
        ("oauth1", _) => "does_not_expire",
        (_, _) if account.status == "needs_reauth" => "needs_reauth",
        (_, Some(e)) if e <= env.now_ms => "expired",
        (_, Some(e)) if e <= env.now_ms + refresh::REFRESH_AHEAD_MS => "expiring",
        _ => "valid",
    };
    let failures = recent_failures(env, ws, id)?;
    Ok(Reply::ok(json!({
        "accountId": id,
        "status": account.status,
        "token": {
            "state": token,
            "authKind": account.auth_kind,
            "expiresAt": account.token_expires_ms.map(rfc3339),
            "lastRefreshedAt": account.last_refreshed_ms.map(rfc3339),
        },
        "lastError": account.last_error,
        "lastErrorAt": account.last_error_ms.map(rfc3339),
        "rateLimits": budget,
        "circuit": {
            "account": breakers.state(&Circuit::Account(id.to_string())),
            "global": breakers.state(&Circuit::Global),
        },
        "recentFailures": failures,
        "verified": verified,
    })))
}

async fn verify(env: &Env, cfg: &AccountsConfig, account: &Account) -> Result<(), AppError> {
    let now = time(env.now_ms);
    let client = refresh::client_for(&env.db, cfg, &env.meta, account, env.now_ms).await?;
    match client.me().await {
        Ok(_) => Ok(()),
        Err(XError::Unauthorized { .. }) if account.auth_kind == "oauth2" => {
            // The access token was refused: one refresh decides between a stale token and a
            // revoked grant (the refresh marks the account needs_reauth in that case).
            let when = When::Since(account.last_refreshed_ms);
            refresh::refresh(
                &env.db,
                cfg,
                &env.meta,
                account.workspace_id,
                account.id,
                when,
                false,
                env.now_ms,
            )
            .await?;
            let fresh = store::get(&env.db, account.workspace_id, account.id)?;
            let client = refresh::client_for(&env.db, cfg, &env.meta, &fresh, env.now_ms).await?;
            client
                .me()
                .await
                .map(|_| ())
                .map_err(|e| e.to_app_error(now))
        }
        Err(e @ XError::Unauthorized { .. }) => {
            let message = e.to_string();
            store::record_error(
                &env.db,
                account.workspace_id,
                account.id,
                &message,
                true,
                env.now_ms,
            )?;
            audit::record(
                &env.db,
                &env.meta,
                Entry::new("account.needs_reauth")
                    .workspace(Some(account.workspace_id))
                    .target("x_account", account.id)
                    .details(json!({ "error": message })),
            )?;
            Err(e.to_app_error(now))
        }
        Err(e) => Err(e.to_app_error(now)),
    }
}

fn recent_failures(env: &Env, ws: Uuid, id: Uuid) -> Result<Vec<Value>, AppError> {
    use common::db::Param;
    let rows = env.db.query(
        "SELECT action, details::text AS details,
           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at
         FROM audit_log
         WHERE workspace_id = $1::uuid AND target_type = 'x_account' AND target_id = $2
           AND action IN ('account.refresh_failed', 'account.needs_reauth', 'post.failed')
         ORDER BY id DESC LIMIT 10",
        &[Param::Uuid(ws.to_string()), Param::Str(id.to_string())],
    )?;
    rows.iter()
        .map(|r| {
            Ok(json!({
                "action": r.get::<String>("action")?,
                "details": serde_json::from_str::<Value>(&r.get::<String>("details")?)
                    .unwrap_or(Value::Null),
                "at": r.get::<String>("at")?,
            }))
        })
        .collect()
}
