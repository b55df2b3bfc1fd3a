//! `DELETE /api/tweets/:id`: a post that has not gone out is cancelled; a published one is
//! deleted on X (every published part) and keeps its row and history.

use super::post_id;
use crate::status::{EventKind, PostStatus};
use crate::store;
use accounts::{self, AccountsConfig};
use chrono::DateTime;
use common::db::Db;
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde_json::{json, Value};
use uuid::Uuid;

/// `DELETE /api/tweets/:id`: cancels a draft, scheduled or failed post; deletes a published one
/// on X (every published part) and records it. A post being published right now is 409.
pub async fn delete(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = post_id(ctx)?;
    let locked = env.db.transaction(|db| store::lock(db, ws, id))?;
    match locked.status {
        status if status.cancellable() => cancel(env, caller, ws, id)?,
        PostStatus::Published => delete_on_x(env, caller, ws, id, locked.account_id).await?,
        PostStatus::Cancelled => {}
        other => {
            return Err(AppError::new(
                Code::PostState,
                format!(
                    "A {} post cannot be deleted now; retry when it is published",
                    other.as_str()
                ),
            ))
        }
    }
    Ok(Reply::ok(store::get(&env.db, ws, id)?.to_json()?))
}

/// Cancels the post if it is still cancellable under the lock (a tick may have claimed it
/// since it was first read).
fn cancel(env: &Env, caller: &Caller, ws: Uuid, id: Uuid) -> Result<(), AppError> {
    env.db.transaction(|db| {
        let status = store::lock(db, ws, id)?.status;
        if !status.cancellable() {
            return Err(AppError::new(
                Code::PostState,
                format!("The post is {} now", status.as_str()),
            ));
        }
        store::set_status(db, ws, id, PostStatus::Cancelled)?;
        history(
            db,
            env,
            caller,
            ws,
            id,
            EventKind::Cancelled,
            json!({ "from": status }),
        )
    })
}

async fn delete_on_x(
    env: &Env,
    caller: &Caller,
    ws: Uuid,
    id: Uuid,
    account: Option<Uuid>,
) -> Result<(), AppError> {
    let post = store::get(&env.db, ws, id)?;
    if post.deleted_on_x {
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
    let ids = post.x_post_ids();
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
            EventKind::DeletedOnX,
            json!({ "xPostIds": ids }),
        )
    })
}

/// A change made by a user: the post's history event and the audit row (`post.<kind>`).
fn history(
    db: &Db,
    env: &Env,
    caller: &Caller,
    ws: Uuid,
    id: Uuid,
    kind: EventKind,
    details: Value,
) -> Result<(), AppError> {
    store::event(db, ws, id, Some(caller.user.id), kind, details.clone())?;
    audit::record(
        db,
        &env.meta,
        Entry::new(&format!("post.{}", kind.as_str()))
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("post", id)
            .details(details),
    )
}
