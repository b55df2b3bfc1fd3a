//! Every change to an account: connecting (insert or reconnect), settings, credentials, errors
//! from X and deletion.

use super::{AccountStatus, AuthKind};
use crate::slots::Slot;
use common::db::{Db, Param};
use common::error::{AppError, Code};
use uuid::Uuid;

/// What a connect (OAuth 2.0 callback or OAuth 1.0a credentials) writes.
pub struct Connected<'a> {
    pub workspace_id: Uuid,
    pub x_user_id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub auth_kind: AuthKind,
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
        let existing: Option<Uuid> = db.query_opt(
            "SELECT id FROM x_accounts WHERE workspace_id = $1 AND x_user_id = $2 FOR UPDATE",
            &[c.workspace_id.into(), Param::Str(c.x_user_id.into())],
            |r| r.get("id"),
        )?;
        let (id, created) = match existing {
            Some(id) => (id, false),
            None => (Uuid::now_v7(), true),
        };
        let (sealed, key_id) = seal(id)?;
        let expires = c
            .token_expires_ms
            .map(Param::Int64)
            .unwrap_or(Param::DbNull);
        // One parameter list for both statements.
        let params = [
            id.into(),
            c.workspace_id.into(),
            Param::Str(c.x_user_id.into()),
            Param::Str(c.username.into()),
            Param::Str(c.display_name.into()),
            c.auth_kind.into(),
            Param::Str(sealed),
            Param::Str(key_id),
            Param::Str(c.scopes.into()),
            expires,
            Param::Int64(c.now_ms),
            c.connected_by.into(),
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

/// The status after a pause (`Some(true)`) or resume (`Some(false)`) request: pausing is only
/// possible from `active` and resuming only from `paused`; asking for the state the account is
/// already in changes nothing. A `needs_reauth` account is resumed by reconnecting it.
fn paused_status(paused: Option<bool>, status: AccountStatus) -> Result<AccountStatus, AppError> {
    use AccountStatus::{Active, Paused};
    match (paused, status) {
        (None, _) | (Some(true), Paused) | (Some(false), Active) => Ok(status),
        (Some(true), Active) => Ok(Paused),
        (Some(false), Paused) => Ok(Active),
        (Some(_), other) => Err(AppError::new(
            Code::AccountStatus,
            format!("An account that is {other} cannot be paused or resumed; reconnect it"),
        )),
    }
}

/// Applies settings under the row lock (see [`paused_status`] for the status). Answers the
/// previous status.
pub fn update(db: &Db, ws: Uuid, id: Uuid, s: &Settings) -> Result<AccountStatus, AppError> {
    db.transaction(|db| {
        let status: AccountStatus = db
            .query_opt(
                "SELECT status FROM x_accounts WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
                &[ws.into(), id.into()],
                |r| r.get("status"),
            )?
            .ok_or_else(|| AppError::not_found("Account"))?;
        let next_status = paused_status(s.paused, status)?;
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
                ws.into(),
                id.into(),
                Param::Boolean(s.label.is_some()),
                s.label
                    .clone()
                    .flatten()
                    .map(Param::Str)
                    .unwrap_or(Param::DbNull),
                s.timezone.clone().map(Param::Str).unwrap_or(Param::DbNull),
                slots.map(Param::Str).unwrap_or(Param::DbNull),
                next_status.into(),
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
         WHERE workspace_id = $1 AND id = $2 AND credentials = $5",
        &[
            ws.into(),
            id.into(),
            Param::Str(sealed.into()),
            Param::Str(key_id.into()),
            Param::Str(old.into()),
        ],
    )?;
    Ok(())
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
            &[ws.into(), id.into(), Param::Int64(now_ms)],
        )?;
        let n = db.execute(
            "DELETE FROM x_accounts WHERE workspace_id = $1 AND id = $2",
            &[ws.into(), id.into()],
        )?;
        if n == 0 {
            return Err(AppError::not_found("Account"));
        }
        Ok(cancelled.len() as i64)
    })
}

/// Records a failure talking to X; `needs_reauth` also turns the account `needs_reauth` (only
/// a refused grant does, so the caller decides).
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
         WHERE workspace_id = $1 AND id = $2",
        &[
            ws.into(),
            id.into(),
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
    use AccountStatus::*;

    #[test]
    fn only_an_active_account_pauses_and_only_a_paused_one_resumes() {
        let cases = [
            (
                None,
                NeedsReauth,
                Some(NeedsReauth),
                "no request leaves any status",
            ),
            (Some(true), Active, Some(Paused), "pause"),
            (Some(false), Paused, Some(Active), "resume"),
            (
                Some(true),
                Paused,
                Some(Paused),
                "pausing twice changes nothing",
            ),
            (
                Some(false),
                Active,
                Some(Active),
                "resuming an active account changes nothing",
            ),
            (
                Some(false),
                NeedsReauth,
                None,
                "needs_reauth is resumed by reconnecting",
            ),
            (
                Some(true),
                Suspended,
                None,
                "a suspended account cannot be paused",
            ),
        ];
        for (paused, from, to, why) in cases {
            let result = paused_status(paused, from);
            assert_eq!(result.as_ref().ok().copied(), to, "{why}");
            if let Err(e) = result {
                assert_eq!(e.status(), 409, "{why}");
            }
        }
    }
}
