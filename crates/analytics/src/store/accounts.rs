//! Per account: the collection row, claiming due profile snapshots, storing them, and the
//! timeline import that registers posts published outside the platform.

use super::{int8, json_rows, ms_of, ts};
use common::db::{Db, Param};
use common::error::AppError;
use serde::Serialize;
use uuid::Uuid;

/// Gives every active account a collection row (new accounts are due at once).
pub fn ensure_accounts(db: &Db) -> Result<u64, AppError> {
    db.execute(
        "INSERT INTO analytics_accounts (account_id, workspace_id)
         SELECT a.id, a.workspace_id FROM x_accounts a
         WHERE a.status = 'active'
           AND NOT EXISTS (SELECT 1 FROM analytics_accounts s WHERE s.account_id = a.id)
         ON CONFLICT (account_id) DO NOTHING",
        &[],
    )
}

/// An account whose profile snapshot and timeline import are due, claimed by this tick.
#[derive(Debug, Clone)]
pub struct DueAccount {
    pub account_id: Uuid,
    pub workspace_id: Uuid,
    pub x_user_id: String,
    pub slot_ms: i64,
    pub import_since_id: Option<String>,
    pub import_token: Option<String>,
    pub import_newest_id: Option<String>,
}

/// Claims up to `limit` due accounts until `lease_until_ms`.
pub fn claim_accounts(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<DueAccount>, AppError> {
    db.query_all(
        &format!(
            "WITH picked AS (
               SELECT s.account_id, s.next_sync_at AS slot FROM analytics_accounts s
               JOIN x_accounts a ON a.id = s.account_id AND a.status = 'active'
               WHERE s.next_sync_at <= {now}
               ORDER BY s.next_sync_at LIMIT $3
               FOR UPDATE OF s SKIP LOCKED
             )
             UPDATE analytics_accounts s SET next_sync_at = {until},
               claim_slot = date_trunc('milliseconds', greatest(picked.slot, {now} - interval '100 years'))
             FROM picked, x_accounts a
             WHERE s.account_id = picked.account_id AND a.id = s.account_id
             RETURNING s.account_id, s.workspace_id, a.x_user_id,
               {slot} AS slot, s.import_since_id, s.import_token, s.import_newest_id",
            now = ts(1),
            until = ts(2),
            slot = ms_of("s.claim_slot"),
        ),
        &[
            Param::Int64(now_ms),
            Param::Int64(lease_until_ms),
            Param::Int64(limit),
        ],
        |r| {
            Ok(DueAccount {
                account_id: r.get("account_id")?,
                workspace_id: r.get("workspace_id")?,
                x_user_id: r.get("x_user_id")?,
                slot_ms: r.get("slot")?,
                import_since_id: r.get("import_since_id")?,
                import_token: r.get("import_token")?,
                import_newest_id: r.get("import_newest_id")?,
            })
        },
    )
}

/// An account's counters (followers, following, posts, listed), NULL where X gave none.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountCounters {
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub posts: Option<u64>,
    pub listed: Option<u64>,
}

fn opt(v: Option<u64>) -> Param {
    int8(v).map(Param::Int64).unwrap_or(Param::DbNull)
}

/// Stores the claimed account snapshot (once per slot) and schedules the next one.
pub fn store_account(
    db: &Db,
    due: &DueAccount,
    captured_ms: i64,
    c: &AccountCounters,
    next_ms: i64,
) -> Result<bool, AppError> {
    let stored: i64 = db.query_one(
        &format!(
            "WITH mine AS (
               SELECT account_id, workspace_id FROM analytics_accounts
               WHERE account_id = $1::uuid AND claim_slot = {slot}
               FOR UPDATE
             ), ins AS (
               INSERT INTO account_snapshots (account_id, slot_at, workspace_id, captured_at,
                 followers, following, posts, listed)
               SELECT account_id, {slot}, workspace_id, {captured}, $4, $5, $6, $7 FROM mine
               ON CONFLICT (account_id, slot_at) DO NOTHING
               RETURNING 1
             ), gap AS (
               INSERT INTO analytics_gaps (account_id, workspace_id, gap_from, gap_to)
               SELECT s.account_id, s.workspace_id, s.last_synced_at, {captured}
               FROM analytics_accounts s JOIN mine ON mine.account_id = s.account_id
               WHERE s.last_synced_at < {captured} - interval '26 hours'
                 AND EXISTS (SELECT 1 FROM ins)
               ON CONFLICT DO NOTHING
             ), upd AS (
               UPDATE analytics_accounts s SET claim_slot = NULL, next_sync_at = {next},
                 last_synced_at = {captured}
               FROM mine WHERE s.account_id = mine.account_id
               RETURNING 1
             )
             SELECT (SELECT count(*) FROM ins)::int8 AS stored",
            slot = ts(2),
            captured = ts(3),
            next = ts(8),
        ),
        &[
            due.account_id.into(),
            Param::Int64(due.slot_ms),
            Param::Int64(captured_ms),
            opt(c.followers),
            opt(c.following),
            opt(c.posts),
            opt(c.listed),
            Param::Int64(next_ms),
        ],
        |r| r.get("stored"),
    )?;
    Ok(stored > 0)
}

/// Puts a claimed account back to be due at `until_ms` (X said wait, or failed).
pub fn release_account(db: &Db, due: &DueAccount, until_ms: i64) -> Result<(), AppError> {
    db.execute(
        &format!(
            "UPDATE analytics_accounts SET claim_slot = NULL, next_sync_at = {}
             WHERE account_id = $1::uuid AND claim_slot = {}",
            ts(3),
            ts(2)
        ),
        &[
            due.account_id.into(),
            Param::Int64(due.slot_ms),
            Param::Int64(until_ms),
        ],
    )?;
    Ok(())
}

/// One post of the account's timeline.
pub struct TimelinePost {
    pub x_post_id: String,
    pub text: String,
    pub created_ms: i64,
}

/// A timeline post as the import statement reads it (`jsonb_to_recordset`).
#[derive(Serialize)]
struct ImportRow<'a> {
    id: &'a str,
    /// At most 280 characters, as `analytics_posts.content` keeps them.
    text: String,
    created_ms: i64,
}

/// Stores one timeline page: posts the platform did not publish are registered as imported;
/// the platform's own are registered linked to their post. Then the import's progress.
pub fn import_page(
    db: &Db,
    due: &DueAccount,
    posts: &[TimelinePost],
    next_token: Option<&str>,
    newest_id: Option<&str>,
) -> Result<u64, AppError> {
    let rows: Vec<ImportRow<'_>> = posts
        .iter()
        .map(|p| ImportRow {
            id: &p.x_post_id,
            text: p.text.chars().take(280).collect(),
            created_ms: p.created_ms,
        })
        .collect();
    let rows = json_rows(&rows)?;
    db.transaction(|db| {
        let n = db.execute(
            "INSERT INTO analytics_posts (workspace_id, account_id, x_post_id, post_id, imported,
               content, published_at, next_capture_at)
             SELECT $1::uuid, $2::uuid, i.id, p.id, p.id IS NULL, i.text,
               timestamptz 'epoch' + i.created_ms * interval '1 millisecond',
               timestamptz 'epoch' + i.created_ms * interval '1 millisecond'
                 + interval '15 minutes'
             FROM jsonb_to_recordset($3::text::jsonb) AS i(id text, text text, created_ms int8)
             LEFT JOIN posts p ON p.x_post_id = i.id AND p.account_id = $2::uuid
             WHERE i.id ~ '^[0-9]{1,19}$'
             ON CONFLICT (account_id, x_post_id) DO NOTHING",
            &[
                due.workspace_id.into(),
                due.account_id.into(),
                Param::Str(rows.clone()),
            ],
        )?;
        // The newest id of the whole import is the first page's newest.
        let newest = due
            .import_newest_id
            .as_deref()
            .or(newest_id)
            .map(str::to_string);
        let (since, token, pending) = match next_token {
            Some(t) => (
                due.import_since_id.clone(),
                Some(t.to_string()),
                newest.clone(),
            ),
            None => (newest.or(due.import_since_id.clone()), None, None),
        };
        let p = |v: Option<String>| v.map(Param::Str).unwrap_or(Param::DbNull);
        db.execute(
            "UPDATE analytics_accounts SET import_since_id = $2, import_token = $3,
               import_newest_id = $4 WHERE account_id = $1::uuid",
            &[due.account_id.into(), p(since), p(token), p(pending)],
        )?;
        Ok(n)
    })
}
