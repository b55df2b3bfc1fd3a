//! The tweets component's handlers for posts: compose ([`create`]), list, read, edit
//! ([`update`]), cancel or delete on X ([`delete`]), validate, and bulk import ([`bulk`]).
//! Rules live in [`compose`], [`text`] and [`store`]; these modules resolve the account, the
//! schedule and the duplicate rule ([`place`]), and write history and audit rows.

mod create;
mod delete;
mod import;
mod place;
mod update;

pub use create::{create, IDEMPOTENCY_TTL_MS};
pub use delete::delete;
pub use import::{bulk, BULK_MAX_BYTES};
pub use update::update;

use crate::compose::{self, Draft, PostRequest};
use crate::media::MediaKind;
use crate::store::{self, Filter};
use crate::text;
use chrono::DateTime;
use common::db::{Call, Rows};
use common::error::AppError;
use common::http::{Ctx, Reply};
use common::json;
use common::kv::Kv;
use identity::Caller;
use identity::Env;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// The key-value namespace of uploaded media (id → kind, for composing).
pub const MEDIA_NAMESPACE: &str = "media";

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

/// A typed answer as the `data` of the envelope.
pub(crate) fn data(value: &impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// A request checked against every rule, with the media this workspace uploaded.
fn validate_request(env: &Env, ws: Uuid, req: &PostRequest) -> Result<Draft, AppError> {
    let kv = Kv::open(MEDIA_NAMESPACE)?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    compose::validate(req, now, |id| media_kind(&kv, ws, id, env.now_ms))
}

/// `GET /api/tweets`; its read is folded into the guard's statement ([`list_read`]) when the
/// filters are valid, and `folded` then holds its row.
pub fn list(
    env: &Env,
    ctx: &Ctx,
    caller: &Caller,
    folded: Option<Rows>,
) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let (items, next) = match folded {
        Some(rows) => store::page_from_rows(rows)?,
        None => store::list(&env.db, ws, &Filter::from_query(|n| ctx.query_param(n))?)?,
    };
    let next = serde_json::to_string(&next).map_err(AppError::internal)?;
    Ok(Reply::ok_json(format!(
        r#"{{"items":{items},"nextCursor":{next}}}"#
    )))
}

/// The read of `GET /api/tweets` for the guard to fold: none when a filter is not valid (the
/// handler then answers the 422 itself).
pub fn list_read(ctx: &Ctx) -> Option<Call> {
    Filter::from_query(|n| ctx.query_param(n))
        .ok()
        .map(|f| store::page(&f))
}

/// `GET /api/tweets/:id`; its read is folded into the guard's statement ([`get_read`]) when the
/// id is one, and `folded` then holds its rows.
pub fn get(env: &Env, ctx: &Ctx, caller: &Caller, folded: Option<Rows>) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let post = match folded {
        Some(rows) => store::from_thread(rows)?,
        None => store::get(&env.db, ws, post_id(ctx)?)?,
    };
    Ok(Reply::ok(post.to_json()?))
}

/// The read of `GET /api/tweets/:id` for the guard to fold: none when the id is not one (the
/// handler then answers 404 itself).
pub fn get_read(ctx: &Ctx) -> Option<Call> {
    post_id(ctx).ok().map(store::thread)
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
    let mut data = data(&report)?;
    json::set(
        &mut data,
        "valid",
        json!(report.valid && field_errors.is_empty()),
    );
    json::set(&mut data, "fieldErrors", json!(field_errors));
    Ok(Reply::ok(data))
}
