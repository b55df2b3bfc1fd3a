//! Users: parsing of emails and names, registration (with the user's own workspace), lookups
//! and the profile.

use crate::auth::password::{self, Password};
use crate::authz::Role;
use crate::workspaces::Workspace;
use common::db::{Call, Db, Param, Row, Rows};
use common::error::{AppError, Code};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

/// A syntactically plausible email, trimmed and lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AppError> {
        let e = raw.trim().to_lowercase();
        let valid = e.len() <= 254
            && !e.chars().any(|c| c.is_whitespace() || c.is_control())
            && match e.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Email(e))
        } else {
            Err(AppError::validation("The email address is not valid")
                .with_details(json!({ "field": "email" })))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name (users and workspaces): 1–100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str, field: &str) -> Result<Name, AppError> {
        let n = raw.trim();
        let len = n.chars().count();
        if (1..=100).contains(&len) && !n.chars().any(char::is_control) {
            Ok(Name(n.to_string()))
        } else {
            Err(
                AppError::validation(format!("{field} must be 1 to 100 characters"))
                    .with_details(json!({ "field": field })),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub timezone: String,
    pub default_workspace: Option<Uuid>,
}

/// The `user` object of the token responses.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
}

impl User {
    pub fn summary(&self) -> Summary<'_> {
        Summary {
            id: self.id,
            email: &self.email,
            name: &self.name,
        }
    }
}

const USER_COLUMNS: &str = "id, email, name, timezone,
    default_workspace_id AS default_workspace, password_hash";

fn user_from(row: &Row<'_>) -> Result<(User, String), AppError> {
    Ok((
        User {
            id: row.get("id")?,
            email: row.get("email")?,
            name: row.get("name")?,
            timezone: row.get("timezone")?,
            default_workspace: row.get("default_workspace")?,
        },
        row.get("password_hash")?,
    ))
}

/// Creates the user and their own workspace (as owner) in one transaction; a taken email is 409.
pub fn register(db: &Db, email: &Email, name: &Name, pw: &Password) -> Result<User, AppError> {
    let hash = password::hash(pw)?;
    let id = Uuid::now_v7();
    let ws = Uuid::now_v7();
    db.transaction(|db| {
        let inserted = db.execute(
            "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[
                id.into(),
                Param::Str(email.as_str().into()),
                Param::Str(name.as_str().into()),
                Param::Str(hash.clone()),
            ],
        )?;
        if inserted == 0 {
            return Err(AppError::new(
                Code::EmailTaken,
                "An account with this email already exists",
            ));
        }
        crate::workspaces::insert(db, ws, &format!("{}'s workspace", name.as_str()), id)?;
        db.execute(
            "UPDATE users SET default_workspace_id = $2 WHERE id = $1",
            &[id.into(), ws.into()],
        )?;
        Ok(())
    })?;
    Ok(User {
        id,
        email: email.as_str().into(),
        name: name.as_str().into(),
        timezone: "UTC".into(),
        default_workspace: Some(ws),
    })
}

/// The user and their password hash, by email.
pub fn find_by_email(db: &Db, email: &Email) -> Result<Option<(User, String)>, AppError> {
    db.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = $1"),
        &[Param::Str(email.as_str().into())],
        user_from,
    )
}

pub fn find(db: &Db, id: Uuid) -> Result<Option<(User, String)>, AppError> {
    db.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
        &[id.into()],
        user_from,
    )
}

/// Where a request acts, for [`authenticate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// Nowhere (routes about the user alone).
    Nowhere,
    /// In this workspace, which must be one of the user's.
    In(Uuid),
    /// In the user's default workspace, else their oldest membership.
    Default,
}

/// What the guard learns about a request's user in its one query.
pub struct Authenticated {
    pub user: User,
    /// The session (refresh family) was revoked: logout, password change, reuse.
    pub revoked: bool,
    /// The workspace acted in and the user's role there; `None` when not a member.
    pub workspace: Option<(Uuid, Role)>,
    /// The rows of the handler's read the guard's statement carried, when it carried one.
    pub folded: Option<Rows>,
}

/// The user, whether session `sid` has been revoked, and the user's role where the request
/// acts, in one round trip: the guard runs it first on every authenticated request, so it also
/// carries the connection's freshness check (one row always, the user's columns NULL when there
/// is no such user). `None` when the user does not exist.
pub fn authenticate(
    db: &Db,
    id: Uuid,
    sid: Uuid,
    acting: Acting,
    fold: Option<Call>,
) -> Result<Option<Authenticated>, AppError> {
    let (wanted, ws) = match acting {
        Acting::Nowhere => (false, Param::DbNull),
        Acting::In(ws) => (true, ws.into()),
        Acting::Default => (true, Param::DbNull),
    };
    // xmp_authenticate (migration 0012) is the query, planned once per connection; it selects
    // the freshness column, the user's columns, `revoked`, `ws` and `role`. A handler's read
    // folded in is joined to its one row, its columns after `folded`, in the order the
    // function answers them (`ordinality`, one more column of the read's).
    let mut params = vec![id.into(), sid.into(), Param::Boolean(wanted), ws];
    let folding = fold.is_some();
    let sql = match fold {
        None => AUTHENTICATE.to_string(),
        Some(call) => {
            let (call, mut values) = call.sql("a.ws", "a.id", params.len() + 1);
            params.append(&mut values);
            format!(
                "{AUTHENTICATE} AS a LEFT JOIN LATERAL (SELECT true AS folded, * FROM {call} \
                 WITH ORDINALITY AS r) AS f ON true ORDER BY f.ordinality"
            )
        }
    };
    let rows = db.query_first(&sql, &params)?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    if r.get::<Option<Uuid>>("id")?.is_none() {
        return Ok(None);
    }
    let workspace = match (r.get::<Option<Uuid>>("ws")?, r.get::<Option<Role>>("role")?) {
        (Some(ws), Some(role)) => Some((ws, role)),
        _ => None,
    };
    let user = user_from(&r)?.0;
    let revoked = r.get::<bool>("revoked")?;
    let folded = match folding {
        true => Some(rows.after("folded")?),
        false => None,
    };
    Ok(Some(Authenticated {
        user,
        revoked,
        workspace,
        folded,
    }))
}

/// The guard's statement, without a read folded in.
const AUTHENTICATE: &str = "SELECT * FROM xmp_authenticate($1::uuid, $2::uuid, $3::bool, $4::uuid)";

/// The profile: the user and their workspaces with roles.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub timezone: String,
    pub default_workspace_id: Option<Uuid>,
    pub workspaces: Vec<Workspace>,
}

/// The profile of `user`; its workspaces are `folded`, the rows of [`crate::workspaces::of_user`]
/// the guard's statement carried, or read here when it carried none.
pub fn profile(db: &Db, user: &User, folded: Option<Rows>) -> Result<Profile, AppError> {
    let workspaces = match folded {
        Some(rows) => crate::workspaces::from_rows(rows)?,
        None => crate::workspaces::list_for_user(db, user.id)?,
    };
    Ok(Profile {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        timezone: user.timezone.clone(),
        default_workspace_id: user.default_workspace,
        workspaces,
    })
}

/// `PATCH /api/auth/profile`. The timezone must be an IANA name PostgreSQL knows; the default
/// workspace must be one the user belongs to (else 404, as for any other workspace).
pub fn update_profile(
    db: &Db,
    user: Uuid,
    name: Option<Name>,
    timezone: Option<&str>,
    default_workspace: Option<Uuid>,
) -> Result<(), AppError> {
    if let Some(tz) = timezone {
        let known = tz.len() <= 64
            && db
                .query_opt(
                    "SELECT 1 FROM time_zone_names WHERE name = $1
                       AND name NOT LIKE 'posix/%' AND name NOT LIKE 'right/%'",
                    &[Param::Str(tz.into())],
                    |_| Ok(()),
                )?
                .is_some();
        if !known {
            return Err(
                AppError::validation("timezone must be an IANA time zone name")
                    .with_details(json!({ "field": "timezone" })),
            );
        }
    }
    if let Some(ws) = default_workspace {
        if crate::workspaces::role_of(db, ws, user)?.is_none() {
            return Err(AppError::not_found("Workspace"));
        }
    }
    db.execute(
        "UPDATE users SET name = coalesce($2, name), timezone = coalesce($3, timezone),
                default_workspace_id = coalesce($4::uuid, default_workspace_id)
         WHERE id = $1",
        &[
            user.into(),
            name.map(|n| Param::Str(n.0)).unwrap_or(Param::DbNull),
            timezone
                .map(|t| Param::Str(t.into()))
                .unwrap_or(Param::DbNull),
            default_workspace.map(Param::from).unwrap_or(Param::DbNull),
        ],
    )?;
    Ok(())
}

pub fn set_password(db: &Db, user: Uuid, pw: &Password) -> Result<(), AppError> {
    let hash = password::hash(pw)?;
    db.execute(
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        &[user.into(), Param::Str(hash)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "ann@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_one_to_one_hundred_characters() {
        assert_eq!(Name::parse("  Ann ", "name").unwrap().as_str(), "Ann");
        assert!(Name::parse("   ", "name").is_err());
        assert!(Name::parse(&"x".repeat(101), "name").is_err());
        assert!(Name::parse("a\u{0}b", "name").is_err());
    }
}
