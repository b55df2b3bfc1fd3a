//! The auth component's handlers, one function per route, each taking the [`Request`] the
//! entry point opened: it parses its input into domain types, calls the modules that hold the
//! rules, writes the audit row and shapes the answer.

use crate::audit::{self, Entry};
use crate::authz::Role;
use crate::entry::Request;
use crate::session::{self, Caller};
use crate::users::{self, Email, Name};
use crate::workspaces;
use common::error::AppError;
use common::http::{Ctx, Reply};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// An answer's `data` from its typed form (serialising our own types cannot fail in practice;
/// should it, that is our bug, so a 500).
fn to_data(data: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(data).map_err(AppError::internal)
}

fn workspace_of(caller: &Caller) -> Result<(Uuid, Role), AppError> {
    Ok((caller.acting_workspace()?, caller.role()))
}

/// The permission-table rule of the current route (re-checked inside transactions).
fn route_access(ctx: &Ctx) -> Result<crate::authz::Access, AppError> {
    crate::authz::access(ctx.method, ctx.route)
        .ok_or_else(|| AppError::forbidden("No permission rule covers this route"))
}

fn target_user(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.param("userId")
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| AppError::not_found("Member"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePatch {
    name: Option<String>,
    timezone: Option<String>,
    default_workspace_id: Option<String>,
}

pub async fn register(r: &mut Request) -> Result<Reply, AppError> {
    let body = r.ctx.json().await?;
    let env = &r.env;
    let data = session::register(&env.db, &env.kv, &env.cfg, &env.meta, body, env.now_ms)?;
    Ok(Reply::created(data))
}

pub async fn login(r: &mut Request) -> Result<Reply, AppError> {
    let body = r.ctx.json().await?;
    let env = &r.env;
    let data = session::login(&env.db, &env.kv, &env.cfg, &env.meta, body, env.now_ms)?;
    Ok(Reply::ok(data))
}

pub async fn refresh(r: &mut Request) -> Result<Reply, AppError> {
    let body = r.ctx.json().await?;
    let env = &r.env;
    Ok(Reply::ok(session::refresh(
        &env.db, &env.cfg, &env.meta, body, env.now_ms,
    )?))
}

pub fn logout(r: &Request) -> Result<Reply, AppError> {
    let env = &r.env;
    let data = session::logout(&env.db, &env.meta, r.caller.get()?, env.now_ms)?;
    Ok(Reply::ok(data))
}

/// `GET /api/auth/profile`.
/// `GET /api/auth/profile`; its workspaces come folded into the guard's statement when the
/// component folds [`workspaces::of_user`] for it.
pub fn profile(r: &mut Request) -> Result<Reply, AppError> {
    let folded = r.folded.take();
    Ok(Reply::ok(to_data(users::profile(
        &r.env.db,
        &r.caller.get()?.user,
        folded,
    )?)?))
}

pub async fn change_password(r: &mut Request) -> Result<Reply, AppError> {
    let body = r.ctx.json().await?;
    let (env, caller) = (&r.env, r.caller.get()?);
    let data = session::change_password(
        &env.db, &env.kv, &env.cfg, &env.meta, caller, body, env.now_ms,
    )?;
    Ok(Reply::ok(data))
}

pub async fn update_profile(r: &mut Request) -> Result<Reply, AppError> {
    let body: ProfilePatch = r.ctx.json().await?;
    let (env, caller) = (&r.env, r.caller.get()?);
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse(n, "name"))
        .transpose()?;
    let default_ws = body
        .default_workspace_id
        .as_deref()
        .map(|s| Uuid::parse_str(s).map_err(|_| AppError::not_found("Workspace")))
        .transpose()?;
    let tz = body.timezone.as_deref().map(str::trim);
    users::update_profile(&env.db, caller.user.id, name, tz, default_ws)?;
    let (user, _) =
        users::find(&env.db, caller.user.id)?.ok_or_else(|| AppError::not_found("User"))?;
    let changed = audit::changed(&[
        ("name", body.name.is_some()),
        ("timezone", body.timezone.is_some()),
        ("defaultWorkspaceId", body.default_workspace_id.is_some()),
    ]);
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("user.profile_updated")
            .actor(user.id)
            .workspace(user.default_workspace)
            .target("user", user.id)
            .details(json!({ "changed": changed })),
    )?;
    Ok(Reply::ok(to_data(users::profile(&env.db, &user, None)?)?))
}

#[derive(Deserialize)]
pub struct WorkspaceBody {
    name: String,
}

pub async fn create_workspace(r: &mut Request) -> Result<Reply, AppError> {
    let body: WorkspaceBody = r.ctx.json().await?;
    let (env, caller) = (&r.env, r.caller.get()?);
    let name = Name::parse(&body.name, "name")?;
    let ws = workspaces::create(&env.db, name.as_str(), caller.user.id)?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("workspace.created")
            .actor(caller.user.id)
            .workspace(Some(ws.id))
            .target("workspace", ws.id)
            .details(json!({ "name": name.as_str() })),
    )?;
    Ok(Reply::created(to_data(ws)?))
}

/// `GET /api/workspaces/:id`.
pub fn workspace(r: &Request) -> Result<Reply, AppError> {
    let caller = r.caller.get()?;
    let (ws, _) = workspace_of(caller)?;
    Ok(Reply::ok(to_data(workspaces::get(
        &r.env.db,
        ws,
        caller.user.id,
    )?)?))
}

pub async fn rename_workspace(r: &mut Request) -> Result<Reply, AppError> {
    let body: WorkspaceBody = r.ctx.json().await?;
    let (env, caller) = (&r.env, r.caller.get()?);
    let (ws, _) = workspace_of(caller)?;
    let name = Name::parse(&body.name, "name")?;
    workspaces::rename(&env.db, ws, name.as_str())?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("workspace.renamed")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("workspace", ws)
            .details(json!({ "name": name.as_str() })),
    )?;
    Ok(Reply::ok(to_data(workspaces::get(
        &env.db,
        ws,
        caller.user.id,
    )?)?))
}

pub fn delete_workspace(r: &Request) -> Result<Reply, AppError> {
    let (env, caller) = (&r.env, r.caller.get()?);
    let (ws, _) = workspace_of(caller)?;
    workspaces::delete(&env.db, ws)?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("workspace.deleted")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("workspace", ws),
    )?;
    Ok(Reply::no_content())
}

#[derive(Deserialize)]
pub struct AddMemberBody {
    email: String,
    role: String,
}

/// `GET /api/workspaces/:id/members`: every member, in the envelope of a cursor list.
pub fn members(r: &Request) -> Result<Reply, AppError> {
    let (ws, _) = workspace_of(r.caller.get()?)?;
    let items = workspaces::members(&r.env.db, ws)?;
    Ok(Reply::ok(
        json!({ "items": to_data(items)?, "nextCursor": null }),
    ))
}

pub async fn add_member(r: &mut Request) -> Result<Reply, AppError> {
    let body: AddMemberBody = r.ctx.json().await?;
    let (env, caller) = (&r.env, r.caller.get()?);
    let (ws, actor_role) = workspace_of(caller)?;
    let email = Email::parse(&body.email)?;
    let role = Role::parse(&body.role)?;
    let user = users::find_by_email(&env.db, &email)?.map(|(user, _)| user.id);
    let user = workspaces::add_member(&env.db, ws, actor_role, user, role)?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("member.added")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("user", user)
            .details(json!({ "role": role })),
    )?;
    Ok(Reply::created(json!({ "userId": user, "role": role })))
}

#[derive(Deserialize)]
pub struct RoleBody {
    role: String,
}

pub async fn change_role(r: &mut Request) -> Result<Reply, AppError> {
    let body: RoleBody = r.ctx.json().await?;
    let (env, ctx, caller) = (&r.env, &r.ctx, r.caller.get()?);
    let (ws, _) = workspace_of(caller)?;
    let target = target_user(ctx)?;
    let role = Role::parse(&body.role)?;
    let from = workspaces::change_role(
        &env.db,
        ws,
        route_access(ctx)?,
        caller.user.id,
        target,
        role,
    )?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("member.role_changed")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("user", target)
            .details(json!({ "from": from, "to": role })),
    )?;
    Ok(Reply::ok(json!({ "userId": target, "role": role })))
}

pub fn remove_member(r: &Request) -> Result<Reply, AppError> {
    let (env, ctx, caller) = (&r.env, &r.ctx, r.caller.get()?);
    let (ws, _) = workspace_of(caller)?;
    let target = target_user(ctx)?;
    let is_self = target == caller.user.id;
    let from = workspaces::remove_member(&env.db, ws, route_access(ctx)?, caller.user.id, target)?;
    let action = if is_self {
        "member.left"
    } else {
        "member.removed"
    };
    audit::record(
        &env.db,
        &env.meta,
        Entry::new(action)
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("user", target)
            .details(json!({ "role": from })),
    )?;
    Ok(Reply::no_content())
}

pub fn list_audit(r: &Request) -> Result<Reply, AppError> {
    let (env, ctx) = (&r.env, &r.ctx);
    let (ws, _) = workspace_of(r.caller.get()?)?;
    let filter = audit::Filter::from_query(|n| ctx.query_param(n))?;
    let (items, next) = audit::list(&env.db, ws, &filter)?;
    Ok(Reply::ok(
        json!({ "items": to_data(items)?, "nextCursor": next }),
    ))
}

/// `GET /api/workspaces`, folded as the profile is.
pub fn list_workspaces(r: &mut Request) -> Result<Reply, AppError> {
    let items = match r.folded.take() {
        Some(rows) => workspaces::from_rows(rows)?,
        None => workspaces::list_for_user(&r.env.db, r.caller.get()?.user.id)?,
    };
    Ok(Reply::ok(
        json!({ "items": to_data(items)?, "nextCursor": null }),
    ))
}
