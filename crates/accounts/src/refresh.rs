//! OAuth 2.0 token refresh, atomic and single-flight across requests and instances.
//!
//! X's refresh tokens rotate: a refresh answers a new pair and kills the old refresh token. Two
//! instances refreshing the same account at once would leave one of them holding a dead token
//! and the account needlessly disconnected. So a refresh holds the account's row lock
//! (`SELECT … FOR UPDATE`) from reading the refresh token until the new pair is committed, and
//! whoever waited on the lock re-reads the row and finds the work done. The new refresh token
//! is committed before the new access token is handed to anyone.
//!
//! Only a refused grant (`invalid_grant`, a revoked or spent token) turns an account
//! `needs_reauth`; a timeout, a 5xx or a 429 records the error and leaves the account active.

use crate::config::AccountsConfig;
use crate::credentials::Credentials;
use crate::store::{self, Account, AccountStatus, AuthKind};
use chrono::{DateTime, Utc};
use common::db::{Db, Param};
use common::error::AppError;
use common::x::{OAuthApp, TokenSet, XClient, XError};
use identity::audit::{self, Entry, Meta};
use serde_json::json;
use uuid::Uuid;

/// Tokens that expire within this window are refreshed by the scheduler's tick.
pub const REFRESH_AHEAD_MS: i64 = 15 * 60 * 1000;
/// A request about to use an access token refreshes it when it has less than this left.
pub const USE_MARGIN_MS: i64 = 60 * 1000;

/// When a refresh should happen.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// Only if the token expires within this many milliseconds.
    ExpiresWithin(i64),
    /// Unless someone refreshed since the caller read `last_refreshed` (milliseconds), so that
    /// concurrent explicit refreshes of the same token collapse into one.
    Since(Option<i64>),
}

/// Why a refresh, or a client for an account, could not be had: X's answer, still typed so
/// that callers decide on its variant, or a failure of ours (the database, the vault).
#[derive(Debug)]
pub enum RefreshError {
    /// X refused or failed, at `at` (the instant a `Retry-After` counts from).
    /// `XError::Unauthorized` means the account must be reconnected.
    X {
        error: XError,
        at: DateTime<Utc>,
    },
    Ours(AppError),
}

impl RefreshError {
    /// Only reconnecting the account helps.
    pub fn needs_reauth(&self) -> bool {
        matches!(
            self,
            RefreshError::X {
                error: XError::Unauthorized { .. },
                ..
            }
        )
    }
}

impl From<AppError> for RefreshError {
    fn from(e: AppError) -> Self {
        RefreshError::Ours(e)
    }
}

/// At the API's edge: the envelope's error.
impl From<RefreshError> for AppError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::X { error, at } => error.to_app_error(at),
            RefreshError::Ours(e) => e,
        }
    }
}

/// How a refresh ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Refreshed,
    /// Someone else refreshed first, or the token is fresh enough.
    NotNeeded,
    /// Another instance holds the account right now (background refresh skips it).
    Busy,
    /// OAuth 1.0a credentials do not expire.
    NotApplicable,
}

/// Refreshes one account's tokens under its row lock. `skip_locked` is for background work,
/// which moves on instead of waiting for an account that another instance is refreshing.
///
/// The lock is held across the call to X, so the transaction runs on a connection of its own:
/// work that shares the caller's connection and runs while this one waits (the scheduler's
/// lanes) cannot join it.
#[allow(clippy::too_many_arguments)]
pub async fn refresh(
    db: &Db,
    cfg: &AccountsConfig,
    meta: &Meta,
    ws: Uuid,
    id: Uuid,
    when: When,
    skip_locked: bool,
    now_ms: i64,
) -> Result<Outcome, RefreshError> {
    let own = db.another()?;
    let db = &own;
    db.begin()?;
    match locked_refresh(db, cfg, ws, id, when, skip_locked, now_ms).await {
        Ok(Step::Done(outcome)) => {
            db.commit()?;
            Ok(outcome)
        }
        Ok(Step::Failed { error, reauth }) => {
            // The error is recorded in the same transaction as the lock it was found under.
            let message = error.to_string();
            store::record_error(db, ws, id, &message, reauth, now_ms)?;
            db.commit()?;
            let action = if reauth {
                "account.needs_reauth"
            } else {
                "account.refresh_failed"
            };
            audit::record(
                db,
                meta,
                Entry::new(action)
                    .workspace(Some(ws))
                    .target("x_account", id)
                    .details(json!({ "error": message, "transient": error.is_transient() })),
            )?;
            let at = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
            Err(RefreshError::X { error, at })
        }
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
}

enum Step {
    Done(Outcome),
    Failed { error: XError, reauth: bool },
}

/// What a refresh reads of the account, under the row lock.
struct Locked {
    sealed: String,
    status: AccountStatus,
    auth_kind: AuthKind,
    expires_ms: Option<i64>,
    refreshed_ms: Option<i64>,
}

/// Locks the account's row for the rest of the transaction. `None` when there is no such
/// account, or with `skip_locked` when another transaction holds it.
fn lock(db: &Db, ws: Uuid, id: Uuid, skip_locked: bool) -> Result<Option<Locked>, AppError> {
    let lock = if skip_locked {
        "FOR UPDATE SKIP LOCKED"
    } else {
        "FOR UPDATE"
    };
    db.query_opt(
        &format!(
            "SELECT credentials, status, auth_kind,
               (extract(epoch FROM token_expires_at) * 1000)::int8 AS expires_ms,
               (extract(epoch FROM last_refreshed_at) * 1000)::int8 AS refreshed_ms
             FROM x_accounts WHERE workspace_id = $1 AND id = $2 {lock}"
        ),
        &[ws.into(), id.into()],
        |row| {
            Ok(Locked {
                sealed: row.get("credentials")?,
                status: row.get("status")?,
                auth_kind: row.get("auth_kind")?,
                expires_ms: row.get("expires_ms")?,
                refreshed_ms: row.get("refreshed_ms")?,
            })
        },
    )
}

impl When {
    /// Whether the token as locked still needs the refresh the caller asked for.
    fn needed(self, expires_ms: Option<i64>, refreshed_ms: Option<i64>, now_ms: i64) -> bool {
        match self {
            When::ExpiresWithin(ms) => expires_ms.is_none_or(|e| e <= now_ms + ms),
            When::Since(seen) => refreshed_ms == seen,
        }
    }
}

/// Decides under the lock, then refreshes at X and stores the new pair in the same
/// transaction.
async fn locked_refresh(
    db: &Db,
    cfg: &AccountsConfig,
    ws: Uuid,
    id: Uuid,
    when: When,
    skip_locked: bool,
    now_ms: i64,
) -> Result<Step, RefreshError> {
    let Some(row) = lock(db, ws, id, skip_locked)? else {
        return if skip_locked {
            Ok(Step::Done(Outcome::Busy))
        } else {
            Err(AppError::not_found("Account").into())
        };
    };
    if row.auth_kind != AuthKind::OAuth2 {
        return Ok(Step::Done(Outcome::NotApplicable));
    }
    if row.status == AccountStatus::NeedsReauth {
        return Err(reauth_error());
    }
    if !when.needed(row.expires_ms, row.refreshed_ms, now_ms) {
        return Ok(Step::Done(Outcome::NotNeeded));
    }
    let (creds, _) = Credentials::open(&cfg.keys, &row.sealed, &ws.to_string(), &id.to_string())?;
    let Credentials::OAuth2 {
        refresh_token: Some(refresh_token),
        ..
    } = creds
    else {
        // Without a refresh token (no `offline.access`) only the user can renew access.
        return Ok(Step::Failed {
            error: XError::Unauthorized {
                detail: "no refresh token; the account must be reconnected".into(),
            },
            reauth: true,
        });
    };
    let app = OAuthApp::from_config(&cfg.x)?;
    let now = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    let tokens = match app.refresh(&refresh_token, now).await {
        Ok(tokens) => tokens,
        Err(error) => {
            let reauth = matches!(error, XError::Unauthorized { .. });
            return Ok(Step::Failed { error, reauth });
        }
    };
    // Strictly increasing, so `When::Since` always sees a refresh happened.
    let refreshed_ms = now_ms.max(row.refreshed_ms.unwrap_or(0) + 1);
    save(db, cfg, ws, id, &tokens, refresh_token, refreshed_ms)?;
    Ok(Step::Done(Outcome::Refreshed))
}

/// Seals and stores a refreshed pair; `previous` is the refresh token that was spent.
fn save(
    db: &Db,
    cfg: &AccountsConfig,
    ws: Uuid,
    id: Uuid,
    tokens: &TokenSet,
    previous: String,
    refreshed_ms: i64,
) -> Result<(), AppError> {
    let creds = Credentials::OAuth2 {
        access_token: tokens.access_token.expose().clone(),
        // X always rotates; should it ever not, the old refresh token stays valid.
        refresh_token: Some(
            tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose().clone())
                .unwrap_or(previous),
        ),
    };
    let sealed = creds.seal(&cfg.keys, &ws.to_string(), &id.to_string())?;
    db.execute(
        "UPDATE x_accounts SET credentials = $3, key_id = $4, scopes = $5,
           token_expires_at = timestamptz 'epoch' + $6::int8 * interval '1 millisecond',
           last_refreshed_at = timestamptz 'epoch' + $7::int8 * interval '1 millisecond',
           last_error = NULL, last_error_at = NULL
         WHERE workspace_id = $1 AND id = $2",
        &[
            ws.into(),
            id.into(),
            Param::Str(sealed),
            Param::Str(cfg.keys.current_key_id().to_string()),
            Param::Str(tokens.scopes.join(" ")),
            Param::Int64(tokens.expires_at.timestamp_millis()),
            Param::Int64(refreshed_ms),
        ],
    )?;
    Ok(())
}

fn reauth_error() -> RefreshError {
    RefreshError::X {
        error: XError::Unauthorized {
            detail: "the account needs to be reconnected".into(),
        },
        at: Utc::now(),
    }
}

/// What one background pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub refreshed: u32,
    pub skipped: u32,
    pub failed: u32,
    pub needs_reauth: u32,
}

/// Refreshes every active OAuth 2.0 account whose token expires within `within_ms`, soonest
/// first, at most `limit` of them. The scheduler calls this on every tick.
pub async fn refresh_expiring(
    db: &Db,
    cfg: &AccountsConfig,
    now_ms: i64,
    within_ms: i64,
    limit: i64,
) -> Result<Summary, AppError> {
    let due: Vec<(Uuid, Uuid)> = db.query_all(
        "SELECT workspace_id, id FROM x_accounts
         WHERE status = 'active' AND auth_kind = 'oauth2'
           AND token_expires_at < timestamptz 'epoch' + $1::int8 * interval '1 millisecond'
         ORDER BY token_expires_at LIMIT $2",
        &[Param::Int64(now_ms + within_ms), Param::Int64(limit)],
        |r| Ok((r.get("workspace_id")?, r.get("id")?)),
    )?;
    let meta = Meta::default();
    let mut summary = Summary::default();
    for (ws, id) in due {
        let when = When::ExpiresWithin(within_ms);
        match refresh(db, cfg, &meta, ws, id, when, true, now_ms).await {
            Ok(Outcome::Refreshed) => summary.refreshed += 1,
            Ok(_) => summary.skipped += 1,
            Err(e) if e.needs_reauth() => summary.needs_reauth += 1,
            Err(_) => summary.failed += 1,
        }
    }
    Ok(summary)
}

/// An X client acting as the account, with a token that is valid for at least a minute
/// (refreshed first when needed) and the account's budgets and breaker.
pub async fn client_for(
    db: &Db,
    cfg: &AccountsConfig,
    meta: &Meta,
    account: &Account,
    now_ms: i64,
) -> Result<XClient, RefreshError> {
    client_with(db, cfg, meta, account, None, now_ms).await
}

/// [`client_for`], with the account's `sealed` credentials when they were read with the
/// account (the scheduler's claim reads both); they are read again only after a refresh.
pub async fn client_with(
    db: &Db,
    cfg: &AccountsConfig,
    meta: &Meta,
    account: &Account,
    sealed: Option<&str>,
    now_ms: i64,
) -> Result<XClient, RefreshError> {
    if account.status == AccountStatus::NeedsReauth {
        return Err(reauth_error());
    }
    let refreshing = account.auth_kind == AuthKind::OAuth2
        && account
            .token_expires_ms
            .is_some_and(|e| e <= now_ms + USE_MARGIN_MS);
    let (ws, id) = (account.workspace_id, account.id);
    if refreshing {
        let when = When::ExpiresWithin(USE_MARGIN_MS);
        refresh(db, cfg, meta, ws, id, when, false, now_ms).await?;
    }
    let sealed = match sealed {
        Some(sealed) if !refreshing => sealed.to_owned(),
        _ => store::credentials(db, ws, id)?.0,
    };
    let creds = open_sealed(db, cfg, ws, id, &sealed)?;
    let client = XClient::from_config(&cfg.x, creds.auth())
        .for_account(id.to_string())
        .with_default_guards()?;
    Ok(client)
}

/// Opens an account's credentials; ones sealed with the previous key are re-sealed with the
/// current key on the spot (key rotation completes as accounts are used).
pub fn open(db: &Db, cfg: &AccountsConfig, ws: Uuid, id: Uuid) -> Result<Credentials, AppError> {
    let (sealed, _) = store::credentials(db, ws, id)?;
    open_sealed(db, cfg, ws, id, &sealed)
}

/// [`open`], with the sealed credentials as read.
fn open_sealed(
    db: &Db,
    cfg: &AccountsConfig,
    ws: Uuid,
    id: Uuid,
    sealed: &str,
) -> Result<Credentials, AppError> {
    let (creds, stale) = Credentials::open(&cfg.keys, sealed, &ws.to_string(), &id.to_string())?;
    if stale {
        let resealed = creds.seal(&cfg.keys, &ws.to_string(), &id.to_string())?;
        store::reseal(db, ws, id, sealed, &resealed, cfg.keys.current_key_id())?;
    }
    Ok(creds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_is_needed_only_while_the_token_is_as_the_caller_saw_it() {
        let now = 1_000_000;
        let cases = [
            (
                When::ExpiresWithin(60_000),
                Some(now + 60_000),
                None,
                true,
                "expires within",
            ),
            (
                When::ExpiresWithin(60_000),
                Some(now + 60_001),
                None,
                false,
                "fresh enough",
            ),
            (
                When::ExpiresWithin(60_000),
                None,
                None,
                true,
                "no known expiry",
            ),
            (
                When::Since(Some(5)),
                Some(now),
                Some(5),
                true,
                "nobody refreshed since",
            ),
            (
                When::Since(Some(5)),
                Some(now),
                Some(6),
                false,
                "someone refreshed since",
            ),
            (
                When::Since(None),
                Some(now),
                None,
                true,
                "never refreshed, still not",
            ),
        ];
        for (when, expires, refreshed, needed, why) in cases {
            assert_eq!(when.needed(expires, refreshed, now), needed, "{why}");
        }
    }
}
