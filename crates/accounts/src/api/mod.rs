//! The accounts component's handlers, one function per route: parse, call the rules in
//! [`store`], [`refresh`] and the X client, write the audit row, shape the answer.
//!
//! `connect` holds the two ways in (OAuth 2.0 and OAuth 1.0a), `settings` the `PATCH`,
//! `health` the token and budget report; listing, switching, refreshing and deleting are here.

mod connect;
mod health;
mod settings;

pub use connect::{add_oauth1, callback, connect, OAuth1Body};
pub use health::health;
pub use settings::{update, PatchBody};

use crate::config::AccountsConfig;
use crate::credentials::Credentials;
use crate::refresh::{self, When};
use crate::store::{self, Account, AccountView, Page};
use chrono::DateTime;
use common::db::{Call, Rows};
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use common::x::OAuthApp;
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

fn time(now_ms: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(now_ms).unwrap_or_default()
}

/// An answer's `data` from its typed form (serialising our own types cannot fail in practice;
/// should it, that is our bug, so a 500).
fn to_data(data: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(data).map_err(AppError::internal)
}

/// `GET /api/accounts`; its read is folded into the guard's statement ([`list_read`]) when the
/// page's parameters are valid, and `folded` then holds its row.
pub fn list(
    env: &Env,
    ctx: &Ctx,
    caller: &Caller,
    folded: Option<Rows>,
) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let list = match folded {
        Some(rows) => store::list_from_rows(rows)?,
        None => {
            let page = Page::from_query(|n| ctx.query_param(n))?;
            store::list_json(&env.db, ws, caller.user.id, &page)?
        }
    };
    Ok(Reply::ok_json(format!(
        r#"{{"items":{},"nextCursor":{},"activeAccountId":{}}}"#,
        list.items,
        json!(list.next),
        json!(list.active)
    )))
}

/// The read of `GET /api/accounts` for the guard to fold: none when the page's parameters are
/// not valid (the handler then answers the 422 itself).
pub fn list_read(ctx: &Ctx) -> Option<Call> {
    Page::from_query(|n| ctx.query_param(n))
        .ok()
        .map(|page| store::list_read(&page))
}

pub fn get(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let account = store::get(&env.db, ws, id)?;
    Ok(Reply::ok(detail(env, ws, caller, &account)?))
}

/// An account as `GET` and `PATCH /api/accounts/:id` answer it.
#[derive(Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    account: AccountView<'a>,
    /// Whether it is the caller's active account.
    active: bool,
}

fn detail(env: &Env, ws: Uuid, caller: &Caller, account: &Account) -> Result<Value, AppError> {
    let active = store::active(&env.db, ws, caller.user.id)? == Some(account.id);
    to_data(Detail {
        account: account.view(),
        active,
    })
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
        return Err(AppError::new(Code::AccountHasPosts, format!("{pending} posts are scheduled for this account; delete with ?force=true to cancel them"),
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
        return Err(AppError::new(
            Code::AccountNoRefresh,
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
        "account": to_data(account.view())?,
    })))
}
