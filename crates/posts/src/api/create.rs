//! `POST /api/tweets`: a new post, replayed from its `Idempotency-Key` when the same request
//! comes again.

use super::place::{refused, target};
use super::validate_request;
use crate::compose::{Draft, PostRequest, When};
use crate::status::PostStatus;
use crate::store::{self, Created};
use common::db::{Db, Param};
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use identity::audit::Entry;
use identity::Caller;
use identity::Env;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long an `Idempotency-Key` answers with its first response.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;

/// `POST /api/tweets`, with `Idempotency-Key` replay.
pub async fn create(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let (req, bytes): (PostRequest, Vec<u8>) = ctx.json_and_bytes().await?;
    let key = ctx
        .header("idempotency-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    if let Some(k) = &key {
        if k.len() > 255 {
            return Err(
                AppError::validation("Idempotency-Key is at most 255 characters")
                    .with_details(json!({ "field": "Idempotency-Key" })),
            );
        }
    }
    let Some(key) = key else {
        // Without a key only a queued post needs a transaction: it takes its slot under the
        // account's lock. Otherwise the reads before the write are checks, and the write is one
        // statement, all or nothing on its own.
        let draft = validate_request(env, ws, &req)?;
        let data = if draft.when == When::NextFreeSlot {
            env.db
                .transaction(|db| store_draft(db, env, ws, caller, &draft))?
        } else {
            store_draft(&env.db, env, ws, caller, &draft)?
        };
        return Ok(Reply::created(data));
    };
    let hash = hex::encode(Sha256::digest(&bytes));
    env.db.transaction(|db| {
        if let Some(replay) = claim_key(db, ws, caller.user.id, &key, &hash, env.now_ms)? {
            return Ok(replay);
        }
        let draft = validate_request(env, ws, &req)?;
        let data = store_draft(db, env, ws, caller, &draft)?;
        db.execute(
            "UPDATE idempotency_keys SET response_status = 201, response_body = $4::text::jsonb
             WHERE workspace_id = $1::uuid AND user_id = $2::uuid AND key = $3",
            &[
                Param::from(ws),
                Param::from(caller.user.id),
                Param::Str(key.clone()),
                Param::Str(data.to_string()),
            ],
        )?;
        Ok(Reply::created(data))
    })
}

/// A claimed key's row: the request it was first used with, and that request's response once
/// it committed.
struct KeyRow {
    request_hash: String,
    status: Option<i64>,
    body: Option<String>,
}

/// Claims an idempotency key inside the caller's transaction. A concurrent request with the
/// same key waits on the row until the first commits, then replays its response.
fn claim_key(
    db: &Db,
    ws: Uuid,
    user: Uuid,
    key: &str,
    hash: &str,
    now_ms: i64,
) -> Result<Option<Reply>, AppError> {
    // An expired key is forgotten first.
    db.execute(
        "DELETE FROM idempotency_keys WHERE workspace_id = $1::uuid AND user_id = $2::uuid
           AND key = $3 AND expires_at <= timestamptz 'epoch' + $4::int8 * interval '1 millisecond'",
        &[
            Param::from(ws),
            Param::from(user),
            Param::Str(key.into()),
            Param::Int64(now_ms),
        ],
    )?;
    let inserted = db.execute(
        "INSERT INTO idempotency_keys (workspace_id, user_id, key, request_hash, expires_at)
         VALUES ($1::uuid, $2::uuid, $3, $4,
           timestamptz 'epoch' + $5::int8 * interval '1 millisecond')
         ON CONFLICT DO NOTHING",
        &[
            Param::from(ws),
            Param::from(user),
            Param::Str(key.into()),
            Param::Str(hash.into()),
            Param::Int64(now_ms + IDEMPOTENCY_TTL_MS),
        ],
    )?;
    if inserted == 1 {
        return Ok(None);
    }
    let row = db
        .query_opt(
            "SELECT request_hash, response_status::int8 AS status, response_body::text AS body
             FROM idempotency_keys
             WHERE workspace_id = $1::uuid AND user_id = $2::uuid AND key = $3",
            &[Param::from(ws), Param::from(user), Param::Str(key.into())],
            |r| {
                Ok(KeyRow {
                    request_hash: r.get("request_hash")?,
                    status: r.get("status")?,
                    body: r.get("body")?,
                })
            },
        )?
        .ok_or_else(|| AppError::conflict("The Idempotency-Key is in use; retry"))?;
    if row.request_hash != hash {
        return Err(AppError::new(
            Code::IdempotencyMismatch,
            "This Idempotency-Key was used with a different request",
        ));
    }
    let (Some(status), Some(body)) = (row.status, row.body) else {
        return Err(AppError::new(
            Code::IdempotencyInFlight,
            "A request with this Idempotency-Key is still being processed",
        ));
    };
    let body: Value = serde_json::from_str(&body).map_err(AppError::internal)?;
    Ok(Some(
        Reply::with_status(status as u16, body).header("idempotent-replayed", "true"),
    ))
}

/// Places and stores the post with its `created` history and audit rows; answers the post as
/// the API shows it. One statement ([`store::create`]) after [`target`], which reads only for
/// a queued post.
fn store_draft(
    db: &Db,
    env: &Env,
    ws: Uuid,
    caller: &Caller,
    draft: &Draft,
) -> Result<Value, AppError> {
    let target = target(db, ws, caller, draft, env.now_ms)?;
    let status = PostStatus::from(draft.status);
    let created = json!({
        "status": status,
        "scheduledAt": target.at_ms.map(common::clock::rfc3339),
        "queued": target.queued,
        "parts": draft.parts.len(),
    });
    // The statement adds the account it places the post on to the details (`accountId`).
    let audit = |id: Uuid| {
        Entry::new("post.created")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("post", id)
            .details(json!({ "status": status }))
            .row(&env.meta)
    };
    match store::create(db, ws, draft, &target, &created, audit)? {
        Created::Post(post) => post.to_json(),
        Created::Refused(found) => Err(refused(found, &target)),
    }
}
