//! `GET /api/accounts/:id/health`: what the platform knows about an account's access to X,
//! and with `verify=true` what X says about it.

use super::time;
use crate::config::AccountsConfig;
use crate::refresh::{self, When};
use crate::store::{self, Account, AccountStatus, AuthKind};
use common::clock::rfc3339;
use common::error::AppError;
use common::http::{Ctx, Reply};
use common::x::{Circuit, Endpoint, XError};
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde::Serialize;
use serde_json::json;

/// The endpoints whose rate-limit budget the report shows.
const ENDPOINTS: [Endpoint; 10] = [
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

/// The state of an account's access token, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum TokenState {
    /// OAuth 1.0a credentials.
    DoesNotExpire,
    NeedsReauth,
    Expired,
    /// Within the scheduler's refresh window.
    Expiring,
    Valid,
}

fn token_state(account: &Account, now_ms: i64) -> TokenState {
    match (account.auth_kind, account.token_expires_ms) {
        (AuthKind::OAuth1, _) => TokenState::DoesNotExpire,
        _ if account.status == AccountStatus::NeedsReauth => TokenState::NeedsReauth,
        (_, Some(e)) if e <= now_ms => TokenState::Expired,
        (_, Some(e)) if e <= now_ms + refresh::REFRESH_AHEAD_MS => TokenState::Expiring,
        _ => TokenState::Valid,
    }
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
    let mut budget = serde_json::Map::new();
    for e in ENDPOINTS {
        if let Some(b) = budgets.load(&id.to_string(), e, now) {
            budget.insert(e.as_str().into(), json!(b));
        }
    }
    let token = token_state(&account, env.now_ms);
    let failures = store::recent_failures(&env.db, ws, id)?;
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
        Err(XError::Unauthorized { .. }) if account.auth_kind == AuthKind::OAuth2 => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn account(auth_kind: AuthKind, status: AccountStatus, expires: Option<i64>) -> Account {
        Account {
            id: uuid::Uuid::nil(),
            workspace_id: uuid::Uuid::nil(),
            x_user_id: "1".into(),
            username: "a".into(),
            display_name: String::new(),
            label: None,
            auth_kind,
            scopes: String::new(),
            status,
            last_error: None,
            timezone: "UTC".into(),
            posting_slots: json!([]),
            daily_post_cap: None,
            connected_by: None,
            token_expires_ms: expires,
            last_refreshed_ms: None,
            last_error_ms: None,
            created_ms: 0,
            updated_ms: 0,
        }
    }

    #[test]
    fn the_token_state_comes_from_the_kind_the_status_and_the_expiry() {
        use AccountStatus::*;
        use AuthKind::*;
        let now = 1_000_000;
        let ahead = refresh::REFRESH_AHEAD_MS;
        let cases = [
            (OAuth1, NeedsReauth, None, TokenState::DoesNotExpire),
            (
                OAuth2,
                NeedsReauth,
                Some(now + ahead * 2),
                TokenState::NeedsReauth,
            ),
            (OAuth2, Active, Some(now), TokenState::Expired),
            (OAuth2, Active, Some(now + ahead), TokenState::Expiring),
            (OAuth2, Paused, Some(now + ahead + 1), TokenState::Valid),
            (OAuth2, Active, None, TokenState::Valid),
        ];
        for (kind, status, expires, state) in cases {
            let a = account(kind, status, expires);
            assert_eq!(token_state(&a, now), state, "{kind} {status} {expires:?}");
        }
        assert_eq!(json!(TokenState::DoesNotExpire), json!("does_not_expire"));
    }
}
