//! Connecting an account: the OAuth 2.0 flow with PKCE (`connect`, then X sends the browser
//! to `callback`) and OAuth 1.0a user credentials (`add_oauth1`). Both end in one upsert, so
//! connecting an X user the workspace already has reconnects it.

use super::{time, to_data};
use crate::config::{AccountsConfig, CALLBACK_PATH};
use crate::credentials::Credentials;
use crate::oauth_state::{self, Pending, Refusal};
use crate::store::{self, AuthKind, Connected};
use common::clock::rfc3339;
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use common::x::{OAuthApp, Pkce, XClient, XError};
use identity::audit::{self, Entry};
use identity::authz::Role;
use identity::Caller;
use identity::Env;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

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
            user_id: caller.user.id,
            workspace_id: ws,
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
    AppError::new(
        Code::OAuthState,
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
        return Err(AppError::new(
            Code::OAuthDenied,
            "Connecting the account was cancelled or refused at X.",
        )
        .with_details(json!({ "error": error.chars().take(100).collect::<String>() })));
    }
    let state = ctx.query_param("state").unwrap_or_default();
    let code = ctx
        .query_param("code")
        .filter(|c| !c.is_empty() && c.len() <= 512)
        .ok_or_else(|| {
            AppError::new(
                Code::OAuthCode,
                "The callback carries no authorization code",
            )
        })?;
    let pending = oauth_state::take(&env.db, &state, env.now_ms)?.map_err(state_refused)?;
    let (user, ws) = (pending.user_id, pending.workspace_id);
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
            XError::Unauthorized { .. } | XError::InvalidRequest { .. } => AppError::new(Code::OAuthCode, "X refused the authorization code (expired, already used, or not issued for this flow).",
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
            auth_kind: AuthKind::OAuth2,
            scopes: &scopes,
            token_expires_ms: Some(tokens.expires_at.timestamp_millis()),
            connected_by: user,
            now_ms: env.now_ms,
        },
        |id| seal(cfg, &creds, ws, id),
    )?;
    Ok((id, connected(env, user, ws, id, created)?))
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

fn connected(env: &Env, user: Uuid, ws: Uuid, id: Uuid, created: bool) -> Result<Reply, AppError> {
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
        .details(json!({ "username": account.username, "authKind": account.auth_kind })),
    )?;
    let data = json!({ "account": to_data(account.view())?, "created": created });
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
                Code::BadCredentials,
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
            auth_kind: AuthKind::OAuth1,
            scopes: "",
            token_expires_ms: None,
            connected_by: caller.user.id,
            now_ms: env.now_ms,
        },
        |id| seal(&cfg, &creds, ws, id),
    )?;
    connected(env, caller.user.id, ws, id, created)
}
