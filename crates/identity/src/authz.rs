//! Roles and the one permission table that decides every route.
//!
//! Roles are ordered `owner > admin > editor > viewer`: viewer reads; editor composes and
//! schedules; admin manages accounts, members and the audit log; owner manages the workspace.
//! Every component asks [`access`] with the route pattern its router matched; a route missing
//! from the table is refused (deny by default), and a unit test keeps the table complete.

use common::db::{self, Column, Param};
use common::error::AppError;
use common::http::Method;
use serde::Serialize;
use spin_sdk::pg4::DbValue;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Admin, Role::Owner];

    pub fn parse(s: &str) -> Result<Role, AppError> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            other => Err(AppError::validation(format!(
                "Unknown role {other:?}; expected owner, admin, editor or viewer"
            ))
            .with_details(serde_json::json!({ "field": "role" }))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A membership's role column. A stored name outside the type is a bug in our SQL, so it fails
/// like any column that does not decode (an internal error), unlike [`Role::parse`]'s 422 for
/// a client's input.
impl Column for Role {
    const EXPECTED: &'static str = "a role";
    fn from_value(value: &DbValue) -> Option<Self> {
        let name = db::text(value)?;
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl From<Role> for Param {
    fn from(role: Role) -> Param {
        Param::Str(role.as_str().into())
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (register, login, refresh; health and version).
    Public,
    /// No token needed, but one that is sent must be valid: the OAuth callback, where the
    /// browser comes back from X without our token, and a token sent anyway must belong to
    /// whoever started the flow.
    PublicOrUser,
    /// Any signed-in user; no workspace role involved (profile, list/create workspaces).
    User,
    /// A member of the workspace with at least this role.
    Member(Role),
    /// At least this role, or any member acting on themselves (leaving a workspace).
    MemberOrSelf(Role),
}

/// The permission table: (method, route pattern) → access. Later components add their rows.
pub const TABLE: &[(Method, &str, Access)] = &[
    (Method::Post, "/api/auth/register", Access::Public),
    (Method::Post, "/api/auth/login", Access::Public),
    (Method::Post, "/api/auth/refresh", Access::Public),
    (Method::Post, "/api/auth/logout", Access::User),
    (Method::Get, "/api/auth/profile", Access::User),
    (Method::Patch, "/api/auth/profile", Access::User),
    (Method::Post, "/api/auth/password", Access::User),
    (Method::Get, "/api/workspaces", Access::User),
    (Method::Post, "/api/workspaces", Access::User),
    (
        Method::Get,
        "/api/workspaces/:id",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Patch,
        "/api/workspaces/:id",
        Access::Member(Role::Owner),
    ),
    (
        Method::Delete,
        "/api/workspaces/:id",
        Access::Member(Role::Owner),
    ),
    (
        Method::Get,
        "/api/workspaces/:id/members",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Post,
        "/api/workspaces/:id/members",
        Access::Member(Role::Admin),
    ),
    (
        Method::Patch,
        "/api/workspaces/:id/members/:userId",
        Access::Member(Role::Admin),
    ),
    (
        Method::Delete,
        "/api/workspaces/:id/members/:userId",
        Access::MemberOrSelf(Role::Admin),
    ),
    (Method::Get, "/api/audit", Access::Member(Role::Admin)),
    // Accounts: everyone reads; admins connect, change and delete.
    (
        Method::Post,
        "/api/accounts/connect",
        Access::Member(Role::Admin),
    ),
    (
        Method::Get,
        "/api/accounts/oauth/callback",
        Access::PublicOrUser,
    ),
    (Method::Post, "/api/accounts", Access::Member(Role::Admin)),
    (Method::Get, "/api/accounts", Access::Member(Role::Viewer)),
    (
        Method::Get,
        "/api/accounts/:id",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Patch,
        "/api/accounts/:id",
        Access::Member(Role::Admin),
    ),
    (
        Method::Delete,
        "/api/accounts/:id",
        Access::Member(Role::Admin),
    ),
    (
        Method::Post,
        "/api/accounts/:id/switch",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/accounts/:id/health",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Post,
        "/api/accounts/:id/refresh",
        Access::Member(Role::Admin),
    ),
    // Posts: viewers read; editors and above write.
    (Method::Post, "/api/tweets", Access::Member(Role::Editor)),
    (Method::Get, "/api/tweets", Access::Member(Role::Viewer)),
    (
        Method::Post,
        "/api/tweets/validate",
        Access::Member(Role::Viewer),
    ),
    (Method::Get, "/api/tweets/:id", Access::Member(Role::Viewer)),
    (Method::Put, "/api/tweets/:id", Access::Member(Role::Editor)),
    (
        Method::Delete,
        "/api/tweets/:id",
        Access::Member(Role::Editor),
    ),
    (
        Method::Post,
        "/api/tweets/bulk",
        Access::Member(Role::Editor),
    ),
    (
        Method::Post,
        "/api/tweets/:id/like",
        Access::Member(Role::Editor),
    ),
    (
        Method::Post,
        "/api/tweets/:id/retweet",
        Access::Member(Role::Editor),
    ),
    (
        Method::Post,
        "/api/engagements",
        Access::Member(Role::Editor),
    ),
    (
        Method::Get,
        "/api/engagements",
        Access::Member(Role::Viewer),
    ),
    (Method::Post, "/api/media", Access::Member(Role::Editor)),
    // Analytics: every member reads.
    (
        Method::Get,
        "/api/analytics/overview",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/analytics/tweets",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/analytics/tweets/:id/series",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/analytics/engagement",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/analytics/audience",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/analytics/best-times",
        Access::Member(Role::Viewer),
    ),
    (
        Method::Get,
        "/api/analytics/usage",
        Access::Member(Role::Viewer),
    ),
];

/// The access rule of a route, or `None` when the table does not know it (deny by default).
pub fn access(method: Method, route: &str) -> Option<Access> {
    TABLE
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
        .map(|(_, _, a)| *a)
}

/// Decides a member's request. `is_self` is true when the target user is the caller.
pub fn check(access: Access, role: Role, is_self: bool) -> Result<(), AppError> {
    let needed = match access {
        Access::Public | Access::PublicOrUser | Access::User => return Ok(()),
        Access::Member(r) => r,
        Access::MemberOrSelf(_) if is_self => return Ok(()),
        Access::MemberOrSelf(r) => r,
    };
    if role >= needed {
        Ok(())
    } else {
        Err(
            AppError::forbidden(format!("This action needs the {needed} role or higher"))
                .with_details(serde_json::json!({ "required": needed, "role": role })),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_roles_decode_by_name_and_others_do_not() {
        for role in Role::ALL {
            let stored = DbValue::Str(role.as_str().into());
            assert_eq!(Role::from_value(&stored), Some(role), "{role}");
        }
        assert!(Role::from_value(&DbValue::Str("Owner".into())).is_none());
        assert!(Role::from_value(&DbValue::DbNull).is_none());
    }

    #[test]
    fn roles_are_ordered_owner_admin_editor_viewer() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Editor);
        assert!(Role::Editor > Role::Viewer);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Role::parse("superuser").is_err());
    }

    #[test]
    fn each_route_appears_once_and_unknown_routes_are_denied() {
        for (i, (m, r, _)) in TABLE.iter().enumerate() {
            let dupes = TABLE
                .iter()
                .skip(i + 1)
                .filter(|(m2, r2, _)| m2 == m && r2 == r);
            assert_eq!(dupes.count(), 0, "{m:?} {r}");
        }
        assert_eq!(access(Method::Get, "/api/nowhere"), None);
    }

    #[test]
    fn the_table_decides_by_role() {
        let cases = [
            (Access::Member(Role::Admin), Role::Editor, false, false),
            (Access::Member(Role::Admin), Role::Admin, false, true),
            (Access::Member(Role::Owner), Role::Admin, false, false),
            (Access::MemberOrSelf(Role::Admin), Role::Viewer, true, true),
            (
                Access::MemberOrSelf(Role::Admin),
                Role::Viewer,
                false,
                false,
            ),
            (Access::User, Role::Viewer, false, true),
        ];
        for (access, role, is_self, ok) in cases {
            assert_eq!(
                check(access, role, is_self).is_ok(),
                ok,
                "{access:?} {role} self={is_self}"
            );
        }
    }

    #[test]
    fn every_route_in_the_permission_table_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(common::openapi::DOCUMENT).unwrap();
        for (method, pattern, _) in TABLE {
            let path = common::openapi::to_openapi_path(pattern);
            let op = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{} {pattern} is not in openapi.json",
                method.as_str()
            );
            assert!(
                op["operationId"].is_string(),
                "{} {pattern} has no operationId",
                method.as_str()
            );
        }
    }
}
