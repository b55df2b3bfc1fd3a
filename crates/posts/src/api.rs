//! The tweets component's handlers for posts: compose, list, read, edit, cancel or delete on X,
//! and validate. Rules live in [`compose`], [`text`] and [`store`]; this module resolves the
//! account, the schedule and the duplicate rule, and writes history and audit rows.

use crate::compose::{self, Draft, PostRequest, When};
use crate::media::MediaKind;
use crate::store::{self, Filter, Placement};
use crate::text;
use accounts::{self, AccountsConfig};
use chrono::DateTime;
use common::db::{Db, Param};
use common::error::{AppError, Code, ErrorKind};
use common::http::{Ctx, Reply};
use common::json;
use common::kv::Kv;
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The key-value namespace of uploaded media (id → kind, for composing).
pub const MEDIA_NAMESPACE: &str = "media";
/// How long an `Idempotency-Key` answers with its first response.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;

/// The `:id` of a post route; anything but a UUID is simply not found.
pub fn post_id(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.param("id")
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| AppError::not_found("Post"))
}

/// The kind of an uploaded media id of this workspace, if it was uploaded here.
pub fn media_kind(kv: &Kv, ws: Uuid, id: &str, now_ms: i64) -> Option<MediaKind> {
    kv.get_json::<String>(&format!("{ws}:{id}"), now_ms)
        .ok()
        .flatten()
        .and_then(|ct| MediaKind::from_content_type(&ct))
}

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
    let hash = hex::encode(Sha256::digest(&bytes));
    env.db.transaction(|db| {
        if let Some(k) = &key {
            if let Some(replay) = claim_key(db, ws, caller.user.id, k, &hash, env.now_ms)? {
                return Ok(replay);
            }
        }
        let data = create_in(db, env, ws, caller, &req)?;
        if let Some(k) = &key {
            db.execute(
                "UPDATE idempotency_keys SET response_status = 201, response_body = $4::text::jsonb
                 WHERE workspace_id = $1::uuid AND user_id = $2::uuid AND key = $3",
                &[
                    Param::Uuid(ws.to_string()),
                    Param::Uuid(caller.user.id.to_string()),
                    Param::Str(k.clone()),
                    Param::Str(data.to_string()),
                ],
            )?;
        }
        Ok(Reply::created(data))
    })
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
            Param::Uuid(ws.to_string()),
            Param::Uuid(user.to_string()),
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
            Param::Uuid(ws.to_string()),
            Param::Uuid(user.to_string()),
            Param::Str(key.into()),
            Param::Str(hash.into()),
            Param::Int64(now_ms + IDEMPOTENCY_TTL_MS),
        ],
    )?;
    if inserted == 1 {
        return Ok(None);
    }
    let rows = db.query(
        "SELECT request_hash, response_status::int8 AS status, response_body::text AS body
         FROM idempotency_keys WHERE workspace_id = $1::uuid AND user_id = $2::uuid AND key = $3",
        &[
            Param::Uuid(ws.to_string()),
            Param::Uuid(user.to_string()),
            Param::Str(key.into()),
        ],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| AppError::conflict("The Idempotency-Key is in use; retry"))?;
    if row.get::<String>("request_hash")? != hash {
        return Err(AppError::new(
            Code::IdempotencyMismatch,
            "This Idempotency-Key was used with a different request",
        ));
    }
    let (Some(status), Some(body)) = (
        row.get::<Option<i64>>("status")?,
        row.get::<Option<String>>("body")?,
    ) else {
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

/// Resolves the account: the one named, else the caller's active account.
fn account_for(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    named: Option<Uuid>,
) -> Result<accounts::Account, AppError> {
    let id = match named {
        Some(id) => id,
        None => accounts::store::active(db, ws, caller.user.id)?.ok_or_else(|| {
            AppError::validation("Name an accountId, or switch to an active account first")
                .with_details(
                    json!({ "errors": [{ "field": "accountId", "message": "required" }] }),
                )
        })?,
    };
    // Only "no such account" is the caller's mistake; a database outage stays a 503.
    accounts::store::get(db, ws, id).map_err(|e| match e.kind() {
        ErrorKind::NotFound => AppError::validation("Unknown account").with_details(
            json!({ "errors": [{ "field": "accountId", "message": "not an account of this workspace" }] }),
        ),
        _ => e,
    })
}

/// Where the draft goes: its account (locked when queueing) and instant; enforces the account
/// state and the 24-hour duplicate rule for scheduled posts.
fn place(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    draft: &Draft,
    except: Option<Uuid>,
    now_ms: i64,
) -> Result<Placement, AppError> {
    let account = account_for(db, ws, caller, draft.account_id)?;
    let scheduled = draft.status == compose::Status::Scheduled;
    if scheduled && account.status != accounts::AccountStatus::Active {
        return Err(AppError::new(
            Code::PostAccountInactive,
            format!(
                "The account is {}; it must be active to schedule posts",
                account.status
            ),
        ));
    }
    let (scheduled_at_ms, queued) = match draft.when {
        When::Unscheduled => (None, false),
        When::At(t) => (Some(t.timestamp_millis()), false),
        When::NextFreeSlot => {
            // Two posts queued at once must not take the same slot: lock the account first.
            db.execute(
                "SELECT 1 FROM x_accounts WHERE id = $1::uuid FOR UPDATE",
                &[Param::Uuid(account.id.to_string())],
            )?;
            if account.posting_slots.as_array().is_none_or(Vec::is_empty) {
                return Err(AppError::new(
                    Code::NoSlots,
                    "The account has no posting slots; set them or pick a time",
                ));
            }
            let at = store::next_slot(db, &account, now_ms)?.ok_or_else(|| {
                AppError::new(
                    Code::QueueFull,
                    "Every posting slot of the next 8 weeks is taken",
                )
            })?;
            (Some(at), true)
        }
    };
    if let (true, Some(at), false) = (scheduled, scheduled_at_ms, draft.allow_duplicate) {
        if let Some(other) = store::duplicate_of(
            db,
            account.id,
            &draft.first()?.text.duplicate_key(),
            at,
            except,
        )? {
            return Err(AppError::new(Code::DuplicatePost, "The same text is scheduled or published on this account within 24 hours; X would refuse it (send allowDuplicate: true to keep it anyway)",
            )
            .with_details(json!({ "postId": other })));
        }
    }
    Ok(Placement {
        account_id: account.id,
        scheduled_at_ms,
        queued,
    })
}

fn validate_request(env: &Env, ws: Uuid, req: &PostRequest) -> Result<Draft, AppError> {
    let kv = Kv::open(MEDIA_NAMESPACE)?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    compose::validate(req, now, |id| media_kind(&kv, ws, id, env.now_ms))
}

fn create_in(
    db: &Db,
    env: &Env,
    ws: Uuid,
    caller: &Caller,
    req: &PostRequest,
) -> Result<Value, AppError> {
    let draft = validate_request(env, ws, req)?;
    let placement = place(db, ws, caller, &draft, None, env.now_ms)?;
    let id = store::insert(db, ws, caller.user.id, &draft, &placement, None)?;
    store::event(
        db,
        ws,
        id,
        Some(caller.user.id),
        "created",
        json!({
            "status": store::status_of(&draft),
            "scheduledAt": placement.scheduled_at_ms.map(common::clock::rfc3339),
            "queued": placement.queued,
            "parts": draft.parts.len(),
        }),
    )?;
    audit::record(
        db,
        &env.meta,
        Entry::new("post.created")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("post", id)
            .details(
                json!({ "status": store::status_of(&draft), "accountId": placement.account_id }),
            ),
    )?;
    store::get(db, ws, id)
}

pub fn list(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let filter = Filter::from_query(|n| ctx.query_param(n))?;
    let (items, next) = store::list(&env.db, ws, &filter)?;
    let next = serde_json::to_string(&next).map_err(AppError::internal)?;
    Ok(Reply::ok_json(format!(
        r#"{{"items":{items},"nextCursor":{next}}}"#
    )))
}

pub fn get(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    Ok(Reply::ok(store::get(&env.db, ws, post_id(ctx)?)?))
}

/// `PUT /api/tweets/:id`: a full replacement of a draft or scheduled post (409 otherwise).
pub async fn update(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = post_id(ctx)?;
    let req: PostRequest = ctx.json().await?;
    env.db.transaction(|db| {
        let (status, _, _) = store::lock(db, ws, id)?;
        if !store::editable(&status) {
            return Err(AppError::new(Code::NotEditable, format!("A {status} post can no longer be edited or rescheduled"),
            ));
        }
        let before = store::get(db, ws, id)?;
        let draft = validate_request(env, ws, &req)?;
        let placement = place(db, ws, caller, &draft, Some(id), env.now_ms)?;
        store::replace(db, ws, id, &draft, &placement)?;
        let after = store::get(db, ws, id)?;
        let rescheduled = json::field(&before, "scheduledAt") != json::field(&after, "scheduledAt");
        let edited = written(&before) != written(&after);
        if rescheduled {
            store::event(
                db,
                ws,
                id,
                Some(caller.user.id),
                "rescheduled",
                json!({ "from": json::field(&before, "scheduledAt"), "to": json::field(&after, "scheduledAt") }),
            )?;
        }
        if edited || !rescheduled {
            store::event(
                db,
                ws,
                id,
                Some(caller.user.id),
                "edited",
                json!({ "status": json::field(&after, "status") }),
            )?;
        }
        audit::record(
            db,
            &env.meta,
            Entry::new("post.updated")
                .actor(caller.user.id)
                .workspace(Some(ws))
                .target("post", id)
                .details(json!({ "rescheduled": rescheduled, "status": json::field(&after, "status") })),
        )?;
        Ok(Reply::ok(store::get(db, ws, id)?))
    })
}

/// What an edit changes, as opposed to when (or whether) the post goes out: the text, media,
/// account, poll, quote and reply of the head, and each later part's text and media (parts get
/// new ids when a thread is replaced, so ids are not compared).
fn written(post: &Value) -> Value {
    let parts: Vec<Value> = json::field(post, "thread")
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .map(|part| json!([json::field(part, "content"), json::field(part, "mediaIds")]))
                .collect()
        })
        .unwrap_or_default();
    let head = [
        "content", "mediaIds", "account", "poll", "quoteOf", "replyTo",
    ]
    .map(|key| json::field(post, key).clone());
    json!([head, parts])
}

/// A change made by a user: the post's history event and the audit row (`post.<kind>`).
fn history(
    db: &Db,
    env: &Env,
    caller: &Caller,
    ws: Uuid,
    id: Uuid,
    kind: &str,
    details: Value,
) -> Result<(), AppError> {
    store::event(db, ws, id, Some(caller.user.id), kind, details.clone())?;
    audit::record(
        db,
        &env.meta,
        Entry::new(&format!("post.{kind}"))
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("post", id)
            .details(details),
    )
}

/// `DELETE /api/tweets/:id`: cancels a draft, scheduled or failed post; deletes a published one
/// on X (every published part) and records it. A post being published right now is 409.
pub async fn delete(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = post_id(ctx)?;
    let (status, account, _) = env.db.transaction(|db| store::lock(db, ws, id))?;
    match status.as_str() {
        "draft" | "scheduled" | "failed" => {
            env.db.transaction(|db| {
                let (status, _, _) = store::lock(db, ws, id)?;
                if !matches!(status.as_str(), "draft" | "scheduled" | "failed") {
                    return Err(AppError::new(
                        Code::PostState,
                        format!("The post is {status} now"),
                    ));
                }
                store::set_status(db, ws, id, "cancelled")?;
                history(
                    db,
                    env,
                    caller,
                    ws,
                    id,
                    "cancelled",
                    json!({ "from": status }),
                )
            })?;
        }
        "published" => delete_on_x(env, caller, ws, id, account).await?,
        "cancelled" => {}
        other => {
            return Err(AppError::new(
                Code::PostState,
                format!("A {other} post cannot be deleted now; retry when it is published"),
            ))
        }
    }
    Ok(Reply::ok(store::get(&env.db, ws, id)?))
}

async fn delete_on_x(
    env: &Env,
    caller: &Caller,
    ws: Uuid,
    id: Uuid,
    account: Option<Uuid>,
) -> Result<(), AppError> {
    let post = store::get(&env.db, ws, id)?;
    if json::field(&post, "deletedOnXAt").is_string() {
        return Ok(());
    }
    let account = account.ok_or_else(|| {
        AppError::new(
            Code::NoAccount,
            "The post's account was removed; delete it on X",
        )
    })?;
    let account = accounts::store::get(&env.db, ws, account)?;
    let cfg = AccountsConfig::load()?;
    let client =
        accounts::refresh::client_for(&env.db, &cfg, &env.meta, &account, env.now_ms).await?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    let mut ids: Vec<String> = json::field(&post, "xPostId")
        .as_str()
        .map(str::to_string)
        .into_iter()
        .collect();
    ids.extend(
        json::field(&post, "thread")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| json::field(p, "xPostId").as_str().map(str::to_string)),
    );
    for x_id in &ids {
        match client.delete_post(x_id).await {
            Ok(_) | Err(common::x::XError::NotFound { .. }) => {}
            Err(e) => return Err(e.to_app_error(now)),
        }
    }
    env.db.transaction(|db| {
        store::mark_deleted_on_x(db, ws, id, env.now_ms)?;
        history(
            db,
            env,
            caller,
            ws,
            id,
            "deleted_on_x",
            json!({ "xPostIds": ids }),
        )
    })
}

/// `POST /api/tweets/validate`: the text report of `content` plus every rule `create` applies.
pub async fn validate(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let req: PostRequest = ctx.json().await?;
    let report = text::analyze(&req.content);
    let kv = Kv::open(MEDIA_NAMESPACE)?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    let field_errors = match compose::check(&req, now, |id| media_kind(&kv, ws, id, env.now_ms)) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    let mut data = serde_json::to_value(&report).map_err(AppError::internal)?;
    json::set(
        &mut data,
        "valid",
        json!(report.valid && field_errors.is_empty()),
    );
    json::set(&mut data, "fieldErrors", json!(field_errors));
    Ok(Reply::ok(data))
}

/// The largest import body: 500 posts of up to 280 weighted characters, with room for quoting.
pub const BULK_MAX_BYTES: usize = 2 << 20;

/// `POST /api/tweets/bulk`: up to 500 posts as a JSON array or CSV
/// (`content,accountId,scheduledAt`), all or nothing. Every row is validated first; then each
/// is placed (account, time or queue slot, duplicate rule) inside one transaction, so a row that
/// cannot be placed rolls the whole import back and is reported with its row number.
pub async fn bulk(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let format = ctx
        .header("content-type")
        .and_then(crate::bulk::Format::from_content_type)
        .ok_or_else(|| AppError::unsupported_media_type("application/json or text/csv"))?;
    let bytes = ctx.body_bytes(BULK_MAX_BYTES).await?;
    let body = String::from_utf8(bytes)
        .map_err(|_| AppError::new(Code::NotUtf8, "The body is not UTF-8 text"))?;
    let kv = Kv::open(MEDIA_NAMESPACE)?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    let rows = crate::bulk::parse(format, &body, now, |id| media_kind(&kv, ws, id, env.now_ms))?;
    let numbers: Vec<usize> = rows.iter().map(|r| r.row).collect();
    let drafts = crate::bulk::all_valid(rows)?;
    if drafts.is_empty() {
        return Err(AppError::validation("The import has no rows"));
    }
    env.db.transaction(|db| {
        let mut errors = Vec::new();
        let mut ids = Vec::with_capacity(drafts.len());
        for (draft, row) in drafts.iter().zip(&numbers) {
            match place(db, ws, caller, draft, None, env.now_ms) {
                Ok(placement) => {
                    let id = store::insert(db, ws, caller.user.id, draft, &placement, None)?;
                    store::event(
                        db,
                        ws,
                        id,
                        Some(caller.user.id),
                        "created",
                        json!({ "import": true, "row": row }),
                    )?;
                    ids.push(id);
                }
                Err(e) if e.status() < 500 => errors.push(json!({
                    "row": row,
                    "field": e.details.as_ref().and_then(|d| d.pointer("/errors/0/field").and_then(Value::as_str)),
                    "code": e.code,
                    "message": e.public_message(),
                })),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::validation(format!(
                "{} of the imported rows cannot be scheduled; nothing was imported",
                errors.len()
            ))
            .with_details(json!({ "errors": errors })));
        }
        audit::record(
            db,
            &env.meta,
            Entry::new("post.bulk_imported")
                .actor(caller.user.id)
                .workspace(Some(ws))
                .details(json!({ "count": ids.len() })),
        )?;
        Ok(Reply::created(json!({ "created": ids.len(), "ids": ids })))
    })
}
