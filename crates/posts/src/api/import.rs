//! `POST /api/tweets/bulk`: many posts at once, all or nothing.

use super::place::place;
use super::{media_kind, MEDIA_NAMESPACE};
use crate::compose::Draft;
use crate::status::EventKind;
use crate::store;
use chrono::DateTime;
use common::db::Db;
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use common::kv::Kv;
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde_json::{json, Value};
use uuid::Uuid;

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
        let ids = insert_all(db, env, ws, caller, &drafts, &numbers)?;
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

/// Places and stores every draft (`numbers` are their rows in the file). A row the caller can
/// fix (a 4xx) is collected, so that one 422 names every such row; anything else stops at once.
fn insert_all(
    db: &Db,
    env: &Env,
    ws: Uuid,
    caller: &Caller,
    drafts: &[Draft],
    numbers: &[usize],
) -> Result<Vec<Uuid>, AppError> {
    let mut errors = Vec::new();
    let mut ids = Vec::with_capacity(drafts.len());
    for (draft, row) in drafts.iter().zip(numbers) {
        match place(db, ws, caller, draft, None, env.now_ms) {
            Ok(placement) => {
                let id = store::insert(db, ws, caller.user.id, draft, &placement)?;
                store::event(
                    db,
                    ws,
                    id,
                    Some(caller.user.id),
                    EventKind::Created,
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
    Ok(ids)
}
