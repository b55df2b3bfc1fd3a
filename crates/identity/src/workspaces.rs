//! Workspaces and memberships. Another workspace's ids are 404, never a hint. The last owner
//! can neither leave nor be demoted: owner rows are locked (`FOR UPDATE`) before counting, so
//! two owners demoting each other at once cannot both succeed.

use crate::authz::{Access, Role};
use common::db::{Arg, Call, Db, Param, Row, Rows};
use common::error::{AppError, Code};
use serde::Serialize;
use uuid::Uuid;

/// A workspace as one of its members sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    /// The member's role in it.
    pub role: Role,
    /// RFC 3339, as every instant of the API.
    pub created_at: String,
    pub member_count: i64,
}

/// A member of a workspace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// RFC 3339.
    pub joined_at: String,
}

/// Inserts a workspace with `owner` as its owner (inside the caller's transaction).
pub fn insert(db: &Db, id: Uuid, name: &str, owner: Uuid) -> Result<(), AppError> {
    db.execute(
        "INSERT INTO workspaces (id, name, created_by) VALUES ($1, $2, $3)",
        &[
            id.into(),
            Param::Str(name.chars().take(100).collect()),
            owner.into(),
        ],
    )?;
    db.execute(
        "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)",
        &[id.into(), owner.into(), Role::Owner.into()],
    )?;
    Ok(())
}

pub fn create(db: &Db, name: &str, owner: Uuid) -> Result<Workspace, AppError> {
    let id = Uuid::now_v7();
    db.transaction(|db| insert(db, id, name, owner))?;
    get(db, id, owner)
}

/// The caller's role in a workspace, or `None` when they are not a member (or it is gone).
pub fn role_of(db: &Db, workspace: Uuid, user: Uuid) -> Result<Option<Role>, AppError> {
    db.query_opt(
        "SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2",
        &[workspace.into(), user.into()],
        |r| r.get("role"),
    )
}

const WS_COLUMNS: &str = "w.id, w.name, m.role, xmp_iso(w.created_at) AS created_at,
    (SELECT count(*) FROM memberships c WHERE c.workspace_id = w.id) AS members";

fn workspace_from(r: &Row<'_>) -> Result<Workspace, AppError> {
    Ok(Workspace {
        id: r.get("id")?,
        name: r.get("name")?,
        role: r.get("role")?,
        created_at: r.get("created_at")?,
        member_count: r.get("members")?,
    })
}

/// The user's workspaces with their role, oldest first.
pub fn list_for_user(db: &Db, user: Uuid) -> Result<Vec<Workspace>, AppError> {
    from_rows(of_user().run(db, None, Some(user))?)
}

/// The read of [`list_for_user`], `xmp_user_workspaces` (migration 0014): the one the profile
/// and the workspace list fold into the guard's statement.
pub fn of_user() -> Call {
    Call::new("xmp_user_workspaces", vec![Arg::User])
}

/// The workspaces in the rows of [`of_user`].
pub fn from_rows(rows: Rows) -> Result<Vec<Workspace>, AppError> {
    rows.iter().map(|r| workspace_from(&r)).collect()
}

pub fn get(db: &Db, id: Uuid, user: Uuid) -> Result<Workspace, AppError> {
    db.query_opt(
        &format!(
            "SELECT {WS_COLUMNS} FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
             WHERE w.id = $1 AND m.user_id = $2"
        ),
        &[id.into(), user.into()],
        workspace_from,
    )?
    .ok_or_else(|| AppError::not_found("Workspace"))
}

pub fn rename(db: &Db, id: Uuid, name: &str) -> Result<(), AppError> {
    db.execute(
        "UPDATE workspaces SET name = $2 WHERE id = $1",
        &[id.into(), Param::Str(name.into())],
    )?;
    Ok(())
}

pub fn delete(db: &Db, id: Uuid) -> Result<(), AppError> {
    db.execute("DELETE FROM workspaces WHERE id = $1", &[id.into()])?;
    Ok(())
}

pub fn members(db: &Db, ws: Uuid) -> Result<Vec<Member>, AppError> {
    db.query_all(
        "SELECT u.id, u.email, u.name, m.role, xmp_iso(m.created_at) AS joined
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1 ORDER BY m.created_at, u.id",
        &[ws.into()],
        |r| {
            Ok(Member {
                user_id: r.get("id")?,
                email: r.get("email")?,
                name: r.get("name")?,
                role: r.get("role")?,
                joined_at: r.get("joined")?,
            })
        },
    )
}

/// Only owners hand out or take away the owner role.
fn check_grant(actor: Role, from: Option<Role>, to: Option<Role>) -> Result<(), AppError> {
    let touches_owner = from == Some(Role::Owner) || to == Some(Role::Owner);
    if touches_owner && actor != Role::Owner {
        return Err(AppError::forbidden(
            "Only an owner can grant, change or remove the owner role",
        ));
    }
    Ok(())
}

/// Adds an existing user, whom the caller looked up by email (`None`: nobody has it → 404;
/// [`crate::users`] sits above this module). Already a member → 409.
pub fn add_member(
    db: &Db,
    ws: Uuid,
    actor: Role,
    user: Option<Uuid>,
    role: Role,
) -> Result<Uuid, AppError> {
    check_grant(actor, None, Some(role))?;
    let Some(user) = user else {
        return Err(AppError::not_found("User"));
    };
    let inserted = db.execute(
        "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        &[ws.into(), user.into(), role.into()],
    )?;
    if inserted == 0 {
        return Err(AppError::new(
            Code::AlreadyMember,
            "The user is already a member of this workspace",
        ));
    }
    Ok(user)
}

/// Locks the owner rows, then reads the actor's current role (a demotion committed since the
/// guard ran counts) and locks the target row. Returns (actor role, target role, owners);
/// a target that is not a member is 404.
fn lock_for_change(
    db: &Db,
    ws: Uuid,
    actor: Uuid,
    target: Uuid,
) -> Result<(Role, Role, i64), AppError> {
    let owners = db
        .query(
            "SELECT user_id FROM memberships WHERE workspace_id = $1 AND role = 'owner'
             ORDER BY user_id FOR UPDATE",
            &[ws.into()],
        )?
        .len() as i64;
    let role = db
        .query_opt(
            "SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2 FOR UPDATE",
            &[ws.into(), target.into()],
            |r| r.get("role"),
        )?
        .ok_or_else(|| AppError::not_found("Member"))?;
    // Removed since the guard ran: the workspace is no longer theirs to see.
    let actor_role = role_of(db, ws, actor)?.ok_or_else(|| AppError::not_found("Workspace"))?;
    Ok((actor_role, role, owners))
}

fn last_owner() -> AppError {
    AppError::new(
        Code::LastOwner,
        "A workspace needs at least one owner: make someone else owner first",
    )
}

/// Changes a member's role; returns the previous role.
/// `access` is the route's rule from the permission table, checked again under the lock.
pub fn change_role(
    db: &Db,
    ws: Uuid,
    access: Access,
    actor_id: Uuid,
    target: Uuid,
    to: Role,
) -> Result<Role, AppError> {
    db.transaction(|db| {
        let (actor, from, owners) = lock_for_change(db, ws, actor_id, target)?;
        crate::authz::check(access, actor, actor_id == target)?;
        check_grant(actor, Some(from), Some(to))?;
        if from == Role::Owner && to != Role::Owner && owners <= 1 {
            return Err(last_owner());
        }
        db.execute(
            "UPDATE memberships SET role = $3 WHERE workspace_id = $1 AND user_id = $2",
            &[ws.into(), target.into(), to.into()],
        )?;
        Ok(from)
    })
}

/// Removes a member (or the caller leaving); returns the removed role.
/// `access` is the route's rule from the permission table, checked again under the lock.
pub fn remove_member(
    db: &Db,
    ws: Uuid,
    access: Access,
    actor_id: Uuid,
    target: Uuid,
) -> Result<Role, AppError> {
    let is_self = actor_id == target;
    db.transaction(|db| {
        let (actor, from, owners) = lock_for_change(db, ws, actor_id, target)?;
        crate::authz::check(access, actor, is_self)?;
        if !is_self {
            check_grant(actor, Some(from), None)?;
        }
        if from == Role::Owner && owners <= 1 {
            return Err(last_owner());
        }
        db.execute(
            "DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2",
            &[ws.into(), target.into()],
        )?;
        Ok(from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_touch_the_owner_role() {
        let cases = [
            (Role::Admin, None, Some(Role::Editor), true),
            (Role::Admin, None, Some(Role::Owner), false),
            (Role::Admin, Some(Role::Owner), Some(Role::Admin), false),
            (Role::Admin, Some(Role::Owner), None, false),
            (Role::Owner, Some(Role::Owner), Some(Role::Viewer), true),
        ];
        for (actor, from, to, ok) in cases {
            assert_eq!(
                check_grant(actor, from, to).is_ok(),
                ok,
                "{actor} {from:?}->{to:?}"
            );
        }
    }
}
