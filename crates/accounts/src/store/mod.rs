//! The `x_accounts` table: every query takes the workspace id, so another workspace's account
//! is simply not found. Instants are read as text or epoch milliseconds (Spin's PostgreSQL
//! interface cannot decode `timestamptz`).
//!
//! `account` is the row and its states, `list` the page of `GET /api/accounts`, `write` every
//! change; the reads of one account and of the user's active account are here.

mod account;
mod list;
mod write;

pub use account::{Account, AccountStatus, AccountView, AuthKind};
pub use list::{from_rows as list_from_rows, list_json, read as list_read, ListJson, Page};
pub use write::{delete, record_error, reseal, update, upsert, Connected, Settings};

use common::db::{Db, Param, Row};
use common::error::AppError;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// An account id from a path: anything that is not a UUID is simply not found.
pub fn path_id(raw: Option<&str>) -> Result<Uuid, AppError> {
    raw.and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| AppError::not_found("Account"))
}

pub fn get(db: &Db, ws: Uuid, id: Uuid) -> Result<Account, AppError> {
    db.query_opt(
        "SELECT * FROM xmp_account($1::uuid, $2::uuid)",
        &[ws.into(), id.into()],
        Account::from_row,
    )?
    .ok_or_else(|| AppError::not_found("Account"))
}

/// An account as `xmp_account` answers it, with its sealed credentials (column `credentials`),
/// from a row that carries both (the scheduler's claim reads them with each post);
/// `None` when the row has no account (the post's account was removed).
pub fn sealed_from_row(r: &Row<'_>) -> Result<Option<(Account, String)>, AppError> {
    if r.get::<Option<Uuid>>("id")?.is_none() {
        return Ok(None);
    }
    Ok(Some((Account::from_row(r)?, r.get("credentials")?)))
}

/// The account `named`, else the user's active account of the workspace, in one statement;
/// `None` when there is no such account (or no active one).
pub fn named_or_active(
    db: &Db,
    ws: Uuid,
    user: Uuid,
    named: Option<Uuid>,
) -> Result<Option<Account>, AppError> {
    db.query_opt(
        "SELECT * FROM xmp_account($1::uuid, coalesce($3::uuid,
           (SELECT account_id FROM active_accounts WHERE workspace_id = $1 AND user_id = $2)))",
        &[ws.into(), user.into(), Param::from(named)],
        Account::from_row,
    )
}

/// Whether PostgreSQL knows an IANA zone name (its tz database decides, as it does for slots).
pub fn zone_exists(db: &Db, zone: &str) -> Result<bool, AppError> {
    let found = db.query_opt(
        "SELECT 1 FROM time_zone_names WHERE name = $1",
        &[Param::Str(zone.into())],
        |_| Ok(()),
    )?;
    Ok(found.is_some())
}

/// The sealed credentials of an account, with the key that sealed them.
pub fn credentials(db: &Db, ws: Uuid, id: Uuid) -> Result<(String, String), AppError> {
    db.query_opt(
        "SELECT credentials, key_id FROM x_accounts WHERE workspace_id = $1 AND id = $2",
        &[ws.into(), id.into()],
        |r| Ok((r.get("credentials")?, r.get("key_id")?)),
    )?
    .ok_or_else(|| AppError::not_found("Account"))
}

/// Posts that would be published by this account (scheduled or being published).
pub fn pending_posts(db: &Db, ws: Uuid, id: Uuid) -> Result<i64, AppError> {
    db.query_one(
        "SELECT count(*)::int8 AS n FROM posts
         WHERE workspace_id = $1 AND account_id = $2
           AND status IN ('scheduled', 'publishing')",
        &[ws.into(), id.into()],
        |r| r.get("n"),
    )
}

/// Makes `id` the user's active account in the workspace.
pub fn switch(db: &Db, ws: Uuid, user: Uuid, id: Uuid) -> Result<(), AppError> {
    get(db, ws, id)?;
    db.execute(
        "INSERT INTO active_accounts (user_id, workspace_id, account_id)
         VALUES ($1, $2, $3)
         ON CONFLICT (user_id, workspace_id) DO UPDATE SET account_id = EXCLUDED.account_id",
        &[user.into(), ws.into(), id.into()],
    )?;
    Ok(())
}

/// The user's active account in the workspace, if one is set and still exists.
pub fn active(db: &Db, ws: Uuid, user: Uuid) -> Result<Option<Uuid>, AppError> {
    db.query_opt(
        "SELECT account_id FROM active_accounts WHERE workspace_id = $1 AND user_id = $2",
        &[ws.into(), user.into()],
        |r| r.get("account_id"),
    )
}

/// A failure the audit log recorded for an account (a refused refresh, a lost grant, a post
/// X refused).
#[derive(Debug, Serialize)]
pub struct Failure {
    pub action: String,
    pub details: Value,
    /// RFC 3339, as every instant of the API.
    pub at: String,
}

/// The account's ten latest failures, newest first.
pub fn recent_failures(db: &Db, ws: Uuid, id: Uuid) -> Result<Vec<Failure>, AppError> {
    db.query_all(
        "SELECT action, details::text AS details, xmp_iso(created_at) AS at
         FROM audit_log
         WHERE workspace_id = $1 AND target_type = 'x_account' AND target_id = $2
           AND action IN ('account.refresh_failed', 'account.needs_reauth', 'post.failed')
         ORDER BY id DESC LIMIT 10",
        // The audit log keeps target ids as text (targets are not all rows with a UUID).
        &[ws.into(), Param::Str(id.to_string())],
        |r| {
            Ok(Failure {
                action: r.get("action")?,
                details: serde_json::from_str(&r.get::<String>("details")?).unwrap_or(Value::Null),
                at: r.get("at")?,
            })
        },
    )
}
