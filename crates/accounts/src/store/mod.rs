//! The `x_accounts` table: every query takes the workspace id, so another workspace's account
//! is simply not found. Instants are read as text or epoch milliseconds (Spin's PostgreSQL
//! interface cannot decode `timestamptz`).

use crate::slots::Slot;
use common::db::{Db, Param, Row};
use common::error::AppError;
use common::pagination;
use serde_json::{json, Value};
use uuid::Uuid;

/// Account statuses, as stored.
pub const STATUSES: [&str; 4] = ["active", "needs_reauth", "paused", "suspended"];

/// The columns every read returns (`a` is `x_accounts`). Instants are truncated to the
/// millisecond, as `xmp_iso()` writes them in the stored list items.
const COLUMNS: &str = "a.id::text AS id, a.workspace_id::text AS workspace_id, a.x_user_id,
    a.username, a.display_name, a.label, a.auth_kind, a.scopes, a.status, a.last_error,
    a.timezone, a.posting_slots::text AS posting_slots, a.daily_post_cap::int8 AS daily_post_cap,
    a.connected_by::text AS connected_by,
    floor(extract(epoch FROM a.token_expires_at) * 1000)::int8 AS token_expires_ms,
    floor(extract(epoch FROM a.last_refreshed_at) * 1000)::int8 AS last_refreshed_ms,
    floor(extract(epoch FROM a.last_error_at) * 1000)::int8 AS last_error_ms,
    floor(extract(epoch FROM a.created_at) * 1000)::int8 AS created_ms,
    floor(extract(epoch FROM a.updated_at) * 1000)::int8 AS updated_ms";

/// One account as the API shows it (never with credentials).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub x_user_id: String,
    pub username: String,
    pub display_name: String,
    pub label: Option<String>,
    pub auth_kind: String,
    pub scopes: String,
    pub status: String,
    pub last_error: Option<String>,
    pub timezone: String,
    pub posting_slots: Value,
    pub daily_post_cap: Option<i64>,
    pub connected_by: Option<String>,
    pub token_expires_ms: Option<i64>,
    pub last_refreshed_ms: Option<i64>,
    pub last_error_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Account {
    fn from_row(r: &Row<'_>) -> Result<Account, AppError> {
        Ok(Account {
            id: parse_id(&r.get::<String>("id")?)?,
            workspace_id: parse_id(&r.get::<String>("workspace_id")?)?,
            x_user_id: r.get("x_user_id")?,
            username: r.get("username")?,
            display_name: r.get("display_name")?,
            label: r.get("label")?,
            auth_kind: r.get("auth_kind")?,
            scopes: r.get("scopes")?,
            status: r.get("status")?,
            last_error: r.get("last_error")?,
            timezone: r.get("timezone")?,
            posting_slots: serde_json::from_str(&r.get::<String>("posting_slots")?)
                .map_err(AppError::internal)?,
            daily_post_cap: r.get("daily_post_cap")?,
            connected_by: r.get("connected_by")?,
            token_expires_ms: r.get("token_expires_ms")?,
            last_refreshed_ms: r.get("last_refreshed_ms")?,
            last_error_ms: r.get("last_error_ms")?,
            created_ms: r.get("created_ms")?,
            updated_ms: r.get("updated_ms")?,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "xUserId": self.x_user_id,
            "username": self.username,
            "displayName": self.display_name,
            "label": self.label,
            "authKind": self.auth_kind,
            "scopes": self.scopes.split_whitespace().collect::<Vec<_>>(),
            "status": self.status,
            "paused": self.status == "paused",
            "lastError": self.last_error,
            "lastErrorAt": self.last_error_ms.map(rfc3339),
            "timezone": self.timezone,
            "postingSlots": self.posting_slots,
            "dailyPostCap": self.daily_post_cap,
            "connectedBy": self.connected_by,
            "tokenExpiresAt": self.token_expires_ms.map(rfc3339),
            "lastRefreshedAt": self.last_refreshed_ms.map(rfc3339),
            "createdAt": rfc3339(self.created_ms),
            "updatedAt": rfc3339(self.updated_ms),
        })
    }
}

use common::clock::rfc3339;

fn parse_id(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(AppError::internal)
}

/// An account id from a path: anything that is not a UUID is simply not found.
pub fn path_id(raw: Option<&str>) -> Result<Uuid, AppError> {
    raw.and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| AppError::not_found("Account"))
}

fn ws_and_id(ws: Uuid, id: Uuid) -> [Param; 2] {
    [Param::Uuid(ws.to_string()), Param::Uuid(id.to_string())]
}

pub fn get(db: &Db, ws: Uuid, id: Uuid) -> Result<Account, AppError> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM x_accounts a WHERE a.workspace_id = $1::uuid AND a.id = $2::uuid"),
        &ws_and_id(ws, id),
    )?;
    rows.first()
        .map(|r| Account::from_row(&r))
        .transpose()?
        .ok_or_else(|| AppError::not_found("Account"))
}

/// A page of accounts, newest first. The cursor is the last row's (creation microsecond, id):
/// rows inserted while a client pages sort before the cursor's position or after it, never in
/// between, so pages neither repeat nor skip rows.
pub struct Page {
    pub limit: usize,
    pub status: Option<String>,
    pub cursor: Option<(i64, Uuid)>,
}

impl Page {
    pub fn from_query(q: impl Fn(&str) -> Option<String>) -> Result<Page, AppError> {
        let status = q("status").filter(|s| !s.is_empty());
        if let Some(s) = &status {
            if !STATUSES.contains(&s.as_str()) {
                return Err(pagination::invalid(
                    "status",
                    "status must be active, needs_reauth, paused or suspended",
                ));
            }
        }
        Ok(Page {
            limit: pagination::limit(q("limit"))?,
            status,
            cursor: pagination::cursor(q("cursor"))?,
        })
    }
}

/// A page as one JSON array and the next cursor: the fast path of `GET /api/accounts`.
/// PostgreSQL keeps each account's list item as stored text (`list_item`, migration 0006), so a
/// page is 100 stored strings joined, with no per-value crossing into the component; `more` is
/// one index probe past the page's last row. The user's active account comes in the same
/// round trip.
pub fn list_json(db: &Db, ws: Uuid, user: Uuid, page: &Page) -> Result<ListJson, AppError> {
    // Both conditions stay index conditions in the generic plan PostgreSQL settles on for a
    // prepared statement: the status filter is written only when asked for (two statements),
    // and a first page compares with the greatest possible key instead of skipping the test.
    // The items are joined in the order the sorted `page` yields them, with no second sort
    // (it cost 40 % of the query): PostgreSQL documents that an aggregate fed by a sorted
    // subquery keeps its order as long as that query level has no join, and this one has none
    // (the other columns are subqueries of their own).
    let status = if page.status.is_some() {
        "AND a.status = $2"
    } else {
        "AND $2::text IS NULL"
    };
    let (cursor_us, cursor_id) = match page.cursor {
        Some((us, id)) => (Param::Int64(us), Param::Uuid(id.to_string())),
        None => (Param::DbNull, Param::DbNull),
    };
    let rows = db.query(
        &format!(
            "WITH page AS MATERIALIZED (
               SELECT a.list_item, a.created_at, a.id FROM x_accounts a
               WHERE a.workspace_id = $1::uuid {status}
                 AND (a.created_at, a.id) <
                     (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond',
                               'infinity'),
                      coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
               ORDER BY a.created_at DESC, a.id DESC LIMIT $5::int8),
             last AS (SELECT created_at, id FROM page ORDER BY created_at, id LIMIT 1)
             SELECT '[' || coalesce(string_agg(list_item, ','), '') || ']' AS items,
                    (SELECT (extract(epoch FROM created_at) * 1000000)::int8 || '.' || id
                     FROM last) AS last,
                    EXISTS (SELECT 1 FROM x_accounts a, last
                            WHERE a.workspace_id = $1::uuid {status}
                              AND (a.created_at, a.id) < (last.created_at, last.id)) AS more,
                    (SELECT account_id::text FROM active_accounts
                     WHERE workspace_id = $1::uuid AND user_id = $6::uuid) AS active
             FROM page"
        ),
        &[
            Param::Uuid(ws.to_string()),
            page.status.clone().map(Param::Str).unwrap_or(Param::DbNull),
            cursor_us,
            cursor_id,
            Param::Int64(page.limit as i64),
            Param::Uuid(user.to_string()),
        ],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| AppError::internal("an aggregate returned no row"))?;
    let more: bool = row.get("more")?;
    let last: Option<String> = row.get("last")?;
    let active: Option<String> = row.get("active")?;
    Ok(ListJson {
        items: row.get("items")?,
        next: last.filter(|_| more).map(|l| pagination::encode_text(&l)),
        active: active.as_deref().map(parse_id).transpose()?,
    })
}

/// A page of the list: its items as a JSON array, the next cursor and the user's active account.
pub struct ListJson {
    pub items: String,
    pub next: Option<String>,
    pub active: Option<Uuid>,
}

/// What a connect (OAuth 2.0 callback or OAuth 1.0a credentials) writes.
pub struct Connected<'a> {
    pub workspace_id: Uuid,
    pub x_user_id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub auth_kind: &'a str,
    pub scopes: &'a str,
    pub token_expires_ms: Option<i64>,
    pub connected_by: Uuid,
    pub now_ms: i64,
}

/// Creates the account, or — for an X user already connected to this workspace — replaces its
/// credentials and reactivates it. `seal` seals the credentials for the row's final id (a new
/// id, or the existing one). Answers the id and whether it was created.
pub fn upsert(
    db: &Db,
    c: &Connected<'_>,
    seal: impl Fn(Uuid) -> Result<(String, String), AppError>,
) -> Result<(Uuid, bool), AppError> {
    db.transaction(|db| {
        let existing = db.query(
            "SELECT id::text AS id FROM x_accounts
             WHERE workspace_id = $1::uuid AND x_user_id = $2 FOR UPDATE",
            &[
                Param::Uuid(c.workspace_id.to_string()),
                Param::Str(c.x_user_id.into()),
            ],
        )?;
        let found = existing
            .first()
            .map(|r| r.get::<String>("id"))
            .transpose()?;
        let (id, created) = match found {
            Some(id) => (parse_id(&id)?, false),
            None => (Uuid::now_v7(), true),
        };
        let (sealed, key_id) = seal(id)?;
        let expires = c
            .token_expires_ms
            .map(Param::Int64)
            .unwrap_or(Param::DbNull);
        // One parameter list for both statements.
        let params = [
            Param::Uuid(id.to_string()),
            Param::Uuid(c.workspace_id.to_string()),
            Param::Str(c.x_user_id.into()),
            Param::Str(c.username.into()),
            Param::Str(c.display_name.into()),
            Param::Str(c.auth_kind.into()),
            Param::Str(sealed),
            Param::Str(key_id),
            Param::Str(c.scopes.into()),
            expires,
            Param::Int64(c.now_ms),
            Param::Uuid(c.connected_by.to_string()),
        ];
        let statement = if created {
            "INSERT INTO x_accounts (id, workspace_id, x_user_id, username, display_name,
               auth_kind, credentials, key_id, scopes, token_expires_at, last_refreshed_at,
               connected_by)
             VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9,
               timestamptz 'epoch' + $10::int8 * interval '1 millisecond',
               timestamptz 'epoch' + $11::int8 * interval '1 millisecond', $12::uuid)"
        } else {
            // The X user id ($3) is what found the row; it does not change.
            "UPDATE x_accounts SET username = $4, display_name = $5, auth_kind = $6,
               credentials = $7, key_id = $8, scopes = $9,
               token_expires_at = timestamptz 'epoch' + $10::int8 * interval '1 millisecond',
               last_refreshed_at = timestamptz 'epoch' + $11::int8 * interval '1 millisecond',
               status = 'active', last_error = NULL, last_error_at = NULL,
               connected_by = $12::uuid
             WHERE id = $1::uuid AND workspace_id = $2::uuid AND x_user_id = $3"
        };
        db.execute(statement, &params)?;
        Ok((id, created))
    })
}

/// A validated settings change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct Settings {
    /// `Some(None)` clears the label.
    pub label: Option<Option<String>>,
    pub timezone: Option<String>,
    pub posting_slots: Option<Vec<Slot>>,
    pub paused: Option<bool>,
    /// `Some(None)` removes the cap.
    pub daily_post_cap: Option<Option<i64>>,
}

/// Whether PostgreSQL knows an IANA zone name (its tz database decides, as it does for slots).
pub fn zone_exists(db: &Db, zone: &str) -> Result<bool, AppError> {
    let rows = db.query(
        "SELECT 1 FROM time_zone_names WHERE name = $1",
        &[Param::Str(zone.into())],
    )?;
    Ok(!rows.is_empty())
}

/// Applies settings; pausing is only possible from `active` and resuming only from `paused`
/// (a `needs_reauth` account is resumed by reconnecting it). Answers the previous status.
pub fn update(db: &Db, ws: Uuid, id: Uuid, s: &Settings) -> Result<String, AppError> {
    db.transaction(|db| {
        let rows = db.query(
            "SELECT status FROM x_accounts WHERE workspace_id = $1::uuid AND id = $2::uuid FOR UPDATE",
            &ws_and_id(ws, id),
        )?;
        let status: String = rows
            .first()
            .ok_or_else(|| AppError::not_found("Account"))?
            .get("status")?;
        let next_status = match (s.paused, status.as_str()) {
            (None, _) | (Some(true), "paused") | (Some(false), "active") => status.clone(),
            (Some(true), "active") => "paused".to_string(),
            (Some(false), "paused") => "active".to_string(),
            (Some(_), other) => {
                return Err(AppError::conflict_rule(
                    "ACCT_STATUS",
                    format!("An account that is {other} cannot be paused or resumed; reconnect it"),
                ))
            }
        };
        let slots = s
            .posting_slots
            .as_ref()
            .map(|v| serde_json::to_string(v).map_err(AppError::internal))
            .transpose()?;
        db.execute(
            "UPDATE x_accounts SET
               label = CASE WHEN $3 THEN $4 ELSE label END,
               timezone = COALESCE($5, timezone),
               posting_slots = COALESCE($6::text::jsonb, posting_slots),
               status = $7,
               daily_post_cap = CASE WHEN $8 THEN $9::int8::int4 ELSE daily_post_cap END
             WHERE workspace_id = $1::uuid AND id = $2::uuid",
            &[
                Param::Uuid(ws.to_string()),
                Param::Uuid(id.to_string()),
                Param::Boolean(s.label.is_some()),
                s.label.clone().flatten().map(Param::Str).unwrap_or(Param::DbNull),
                s.timezone.clone().map(Param::Str).unwrap_or(Param::DbNull),
                slots.map(Param::Str).unwrap_or(Param::DbNull),
                Param::Str(next_status),
                Param::Boolean(s.daily_post_cap.is_some()),
                s.daily_post_cap
                    .flatten()
                    .map(Param::Int64)
                    .unwrap_or(Param::DbNull),
            ],
        )?;
        Ok(status)
    })
}

/// The sealed credentials of an account, with the key that sealed them.
pub fn credentials(db: &Db, ws: Uuid, id: Uuid) -> Result<(String, String), AppError> {
    let rows = db.query(
        "SELECT credentials, key_id FROM x_accounts WHERE workspace_id = $1::uuid AND id = $2::uuid",
        &ws_and_id(ws, id),
    )?;
    let row = rows.first().ok_or_else(|| AppError::not_found("Account"))?;
    Ok((row.get("credentials")?, row.get("key_id")?))
}

/// Re-seals credentials opened with the previous key (key rotation happens on the next write).
/// Only if the row still holds `old`: a refresh that committed in between must not be undone.
pub fn reseal(
    db: &Db,
    ws: Uuid,
    id: Uuid,
    old: &str,
    sealed: &str,
    key_id: &str,
) -> Result<(), AppError> {
    db.execute(
        "UPDATE x_accounts SET credentials = $3, key_id = $4
         WHERE workspace_id = $1::uuid AND id = $2::uuid AND credentials = $5",
        &[
            Param::Uuid(ws.to_string()),
            Param::Uuid(id.to_string()),
            Param::Str(sealed.into()),
            Param::Str(key_id.into()),
            Param::Str(old.into()),
        ],
    )?;
    Ok(())
}

/// Posts that would be published by this account (scheduled or being published).
pub fn pending_posts(db: &Db, ws: Uuid, id: Uuid) -> Result<i64, AppError> {
    let rows = db.query(
        "SELECT count(*)::int8 AS n FROM posts
         WHERE workspace_id = $1::uuid AND account_id = $2::uuid
           AND status IN ('scheduled', 'publishing')",
        &ws_and_id(ws, id),
    )?;
    rows.first()
        .map(|r| r.get("n"))
        .transpose()
        .map(|n| n.unwrap_or(0))
}

/// Cancels the account's scheduled posts and deletes the account (its posts keep their history
/// with no account). Answers how many posts were cancelled.
pub fn delete(db: &Db, ws: Uuid, id: Uuid, now_ms: i64) -> Result<i64, AppError> {
    db.transaction(|db| {
        let cancelled = db.query(
            "WITH c AS (
               UPDATE posts SET status = 'cancelled', last_error = 'account deleted'
               WHERE workspace_id = $1::uuid AND account_id = $2::uuid
                 AND status IN ('scheduled', 'publishing')
               RETURNING id, workspace_id)
             INSERT INTO post_events (post_id, workspace_id, kind, details, at)
             SELECT id, workspace_id, 'cancelled', '{\"reason\":\"account deleted\"}'::jsonb,
                    timestamptz 'epoch' + $3::int8 * interval '1 millisecond' FROM c
             RETURNING post_id",
            &[
                Param::Uuid(ws.to_string()),
                Param::Uuid(id.to_string()),
                Param::Int64(now_ms),
            ],
        )?;
        let n = db.execute(
            "DELETE FROM x_accounts WHERE workspace_id = $1::uuid AND id = $2::uuid",
            &ws_and_id(ws, id),
        )?;
        if n == 0 {
            return Err(AppError::not_found("Account"));
        }
        Ok(cancelled.len() as i64)
    })
}

/// Makes `id` the user's active account in the workspace.
pub fn switch(db: &Db, ws: Uuid, user: Uuid, id: Uuid) -> Result<(), AppError> {
    get(db, ws, id)?;
    db.execute(
        "INSERT INTO active_accounts (user_id, workspace_id, account_id)
         VALUES ($1::uuid, $2::uuid, $3::uuid)
         ON CONFLICT (user_id, workspace_id) DO UPDATE SET account_id = EXCLUDED.account_id",
        &[
            Param::Uuid(user.to_string()),
            Param::Uuid(ws.to_string()),
            Param::Uuid(id.to_string()),
        ],
    )?;
    Ok(())
}

/// The user's active account in the workspace, if one is set and still exists.
pub fn active(db: &Db, ws: Uuid, user: Uuid) -> Result<Option<Uuid>, AppError> {
    let rows = db.query(
        "SELECT account_id::text AS id FROM active_accounts
         WHERE workspace_id = $1::uuid AND user_id = $2::uuid",
        &[Param::Uuid(ws.to_string()), Param::Uuid(user.to_string())],
    )?;
    rows.first()
        .map(|r| parse_id(&r.get::<String>("id")?))
        .transpose()
}

/// Records a failure talking to X (the status is changed by the caller when it must be).
pub fn record_error(
    db: &Db,
    ws: Uuid,
    id: Uuid,
    message: &str,
    needs_reauth: bool,
    now_ms: i64,
) -> Result<(), AppError> {
    db.execute(
        "UPDATE x_accounts SET last_error = $3,
           last_error_at = timestamptz 'epoch' + $4::int8 * interval '1 millisecond',
           status = CASE WHEN $5 THEN 'needs_reauth' ELSE status END
         WHERE workspace_id = $1::uuid AND id = $2::uuid",
        &[
            Param::Uuid(ws.to_string()),
            Param::Uuid(id.to_string()),
            Param::Str(message.chars().take(500).collect()),
            Param::Int64(now_ms),
            Param::Boolean(needs_reauth),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_checked() {
        let q = common::pagination::query_of;
        assert_eq!(Page::from_query(q(&[])).unwrap().limit, 50);
        assert_eq!(Page::from_query(q(&[("limit", "100")])).unwrap().limit, 100);
        for bad in [
            &[("limit", "0")][..],
            &[("limit", "101")],
            &[("limit", "x")],
            &[("status", "gone")],
            &[("cursor", "%%%")],
        ] {
            let err = Page::from_query(q(bad)).err().expect("refused");
            assert_eq!(err.status(), 422, "{bad:?}");
        }
    }
}
