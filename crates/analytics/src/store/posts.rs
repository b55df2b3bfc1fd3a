//! Posts to measure: the platform's published posts registered for collection, and claims of
//! the captures that are due.

use super::{json_rows, ms_of, ts};
use common::db::{Db, Param};
use common::error::AppError;
use serde::Serialize;
use uuid::Uuid;

/// Registers the platform's posts published since `since_ms` (idempotent).
pub fn register_published(db: &Db, since_ms: i64) -> Result<u64, AppError> {
    db.execute(
        &format!(
            "INSERT INTO analytics_posts (workspace_id, account_id, x_post_id, post_id, imported,
               content, published_at, next_capture_at)
             SELECT p.workspace_id, p.account_id, p.x_post_id, p.id, false, left(p.content, 280),
                    p.published_at, p.published_at + interval '15 minutes'
             FROM posts p
             WHERE p.status = 'published' AND p.published_at >= {}
               AND p.account_id IS NOT NULL AND p.x_post_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM analytics_posts a
                               WHERE a.account_id = p.account_id AND a.x_post_id = p.x_post_id)
             ON CONFLICT (account_id, x_post_id) DO NOTHING",
            ts(1)
        ),
        &[Param::Int64(since_ms)],
    )
}

/// A post whose capture is due, claimed by this tick.
#[derive(Debug, Clone)]
pub struct DuePost {
    pub id: i64,
    pub account_id: Uuid,
    pub workspace_id: Uuid,
    pub x_post_id: String,
    pub published_ms: i64,
    pub slot_ms: i64,
}

/// Claims due captures: up to `per_account` per account (one lookup each), `limit` in all,
/// the most overdue first.
pub fn claim_posts(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    per_account: i64,
    limit: i64,
) -> Result<Vec<DuePost>, AppError> {
    db.query_all(
        &format!(
            "WITH due AS (
               SELECT id, next_capture_at,
                 row_number() OVER (PARTITION BY account_id ORDER BY next_capture_at, id) AS turn
               FROM (SELECT id, account_id, next_capture_at FROM analytics_posts
                     WHERE next_capture_at <= {now}
                     ORDER BY next_capture_at LIMIT $4::int8 * 4) c
             ), picked AS (
               SELECT ap.id, due.next_capture_at AS slot FROM analytics_posts ap
               JOIN due ON due.id = ap.id
               WHERE due.turn <= $3::int8 AND ap.next_capture_at = due.next_capture_at
               ORDER BY due.next_capture_at LIMIT $4::int8
               FOR UPDATE OF ap SKIP LOCKED
             )
             UPDATE analytics_posts ap SET next_capture_at = {until},
               claim_slot = date_trunc('milliseconds', picked.slot)
             FROM picked WHERE ap.id = picked.id
             RETURNING ap.id, ap.account_id, ap.workspace_id,
               ap.x_post_id, {published} AS published, {slot} AS slot",
            now = ts(1),
            until = ts(2),
            published = ms_of("ap.published_at"),
            slot = ms_of("ap.claim_slot"),
        ),
        &[
            Param::Int64(now_ms),
            Param::Int64(lease_until_ms),
            Param::Int64(per_account),
            Param::Int64(limit),
        ],
        |r| {
            Ok(DuePost {
                id: r.get("id")?,
                account_id: r.get("account_id")?,
                workspace_id: r.get("workspace_id")?,
                x_post_id: r.get("x_post_id")?,
                published_ms: r.get("published")?,
                slot_ms: r.get("slot")?,
            })
        },
    )
}

/// A claim as the release statement reads it (`jsonb_to_recordset`).
#[derive(Serialize)]
struct Claim {
    post: i64,
    slot_ms: i64,
}

/// Puts claimed captures back, due at `until_ms` (X said wait, or failed).
pub fn release_posts(db: &Db, posts: &[DuePost], until_ms: i64) -> Result<(), AppError> {
    if posts.is_empty() {
        return Ok(());
    }
    let claims: Vec<Claim> = posts
        .iter()
        .map(|p| Claim {
            post: p.id,
            slot_ms: p.slot_ms,
        })
        .collect();
    db.execute(
        &format!(
            "UPDATE analytics_posts ap SET claim_slot = NULL, next_capture_at = {}
             FROM jsonb_to_recordset($1::text::jsonb) AS i(post int8, slot_ms int8)
             WHERE ap.id = i.post
               AND ap.claim_slot = timestamptz 'epoch' + i.slot_ms * interval '1 millisecond'",
            ts(2)
        ),
        &[Param::Str(json_rows(&claims)?), Param::Int64(until_ms)],
    )?;
    Ok(())
}
