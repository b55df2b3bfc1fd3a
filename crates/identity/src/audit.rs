//! The append-only audit log. Every state change writes one row with actor, workspace, action,
//! target, correlation id, client address, user agent and details; the database refuses UPDATE
//! and DELETE on the table (a trigger), whatever the application does.
//!
//! Listing is newest first with a cursor on the `bigserial` id: rows inserted while a client
//! pages only ever get larger ids, so pages neither repeat nor skip rows.

use common::db::{Db, Param, Row};
use common::error::AppError;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use uuid::Uuid;

/// What the request says about who is acting and from where.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub correlation_id: String,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

impl Meta {
    /// From a request: its correlation id and its `spin-client-addr` and `user-agent` headers.
    pub fn from_request(
        correlation_id: &str,
        client_addr_header: Option<&str>,
        user_agent: Option<&str>,
    ) -> Meta {
        Meta {
            correlation_id: correlation_id.to_string(),
            client_addr: client_addr_header.map(client_addr),
            user_agent: user_agent.map(|s| s.chars().take(512).collect()),
        }
    }
}

/// The client's IP without the port, from `spin-client-addr` (set by Spin and by `xmp`).
pub fn client_addr(header: &str) -> String {
    let raw = header.trim();
    let ip = match raw.parse::<std::net::SocketAddr>() {
        Ok(sa) => sa.ip().to_string(),
        Err(_) => raw.to_string(),
    };
    ip.chars().take(64).collect()
}

/// One row to write.
pub struct Entry<'a> {
    pub actor: Option<Uuid>,
    pub workspace: Option<Uuid>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<String>,
    pub details: Value,
}

impl<'a> Entry<'a> {
    pub fn new(action: &'a str) -> Entry<'a> {
        Entry {
            actor: None,
            workspace: None,
            action,
            target_type: None,
            target_id: None,
            details: json!({}),
        }
    }

    pub fn actor(mut self, user: Uuid) -> Self {
        self.actor = Some(user);
        self
    }

    pub fn workspace(mut self, ws: Option<Uuid>) -> Self {
        self.workspace = ws;
        self
    }

    pub fn target(mut self, kind: &'a str, id: impl ToString) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_string());
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The row as `xmp_audit` (migration 0015) takes it: one key per column. A statement that
    /// writes more than the audit row passes it on (`posts::store::create`).
    pub fn row(self, meta: &Meta) -> Value {
        json!({
            "actor_id": self.actor,
            "workspace_id": self.workspace,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "correlation_id": meta.correlation_id,
            "client_addr": meta.client_addr,
            "user_agent": meta.user_agent,
            "details": self.details,
        })
    }
}

fn opt_str(v: Option<String>) -> Param {
    v.map(Param::Str).unwrap_or(Param::DbNull)
}

fn opt_uuid(v: Option<Uuid>) -> Param {
    v.map(Param::from).unwrap_or(Param::DbNull)
}

/// The names of the fields a partial update set (`(name, was it given)`), for an entry's
/// `changed` list.
pub fn changed(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect()
}

pub fn record(db: &Db, meta: &Meta, entry: Entry<'_>) -> Result<(), AppError> {
    db.execute(
        "SELECT xmp_audit($1::text::jsonb)",
        &[Param::Str(entry.row(meta).to_string())],
    )?;
    Ok(())
}

/// Filters of `GET /api/audit`. Times are Unix milliseconds.
#[derive(Debug, Default)]
pub struct Filter {
    pub actor: Option<Uuid>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Rows with an id below this (the previous page's `nextCursor`).
    pub before_id: Option<i64>,
    pub limit: u32,
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

impl Filter {
    /// Parses the query parameters; malformed values are 422 naming the parameter.
    pub fn from_query(q: impl Fn(&str) -> Option<String>) -> Result<Filter, AppError> {
        let bad = |name: &str, why: &str| {
            AppError::validation(format!("Query parameter {name} {why}"))
                .with_details(json!({ "parameter": name }))
        };
        let time = |name: &str| -> Result<Option<i64>, AppError> {
            q(name)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    chrono::DateTime::parse_from_rfc3339(&s)
                        .map(|t| t.timestamp_millis())
                        .map_err(|_| bad(name, "must be an RFC 3339 time"))
                })
                .transpose()
        };
        let limit = match q("limit").filter(|s| !s.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| bad("limit", "must be 1 to 200"))?,
        };
        let before_id = q("cursor")
            .filter(|s| !s.is_empty())
            .map(|s| decode_cursor(&s).ok_or_else(|| bad("cursor", "is not a valid cursor")))
            .transpose()?;
        let actor = q("actor")
            .filter(|s| !s.is_empty())
            .map(|s| Uuid::parse_str(&s).map_err(|_| bad("actor", "must be a user id")))
            .transpose()?;
        Ok(Filter {
            actor,
            action: q("action").filter(|s| !s.is_empty()),
            target: q("target").filter(|s| !s.is_empty()),
            since_ms: time("since")?,
            until_ms: time("until")?,
            before_id,
            limit,
        })
    }
}

/// Cursors are opaque to clients: `a` + the id in hex.
fn encode_cursor(id: i64) -> String {
    format!("a{id:x}")
}

fn decode_cursor(s: &str) -> Option<i64> {
    i64::from_str_radix(s.strip_prefix('a')?, 16)
        .ok()
        .filter(|n| *n > 0)
}

/// One row of the log as `GET /api/audit` answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Logged {
    /// The `bigserial` id, as text: JSON numbers lose precision past 2^53 in most clients.
    #[serde(serialize_with = "as_text")]
    pub id: i64,
    /// RFC 3339, as every instant of the API.
    pub created_at: String,
    pub actor_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub correlation_id: Option<String>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub details: Value,
}

fn as_text<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

impl Logged {
    fn from_row(row: &Row<'_>) -> Result<Logged, AppError> {
        Ok(Logged {
            id: row.get("id")?,
            created_at: row.get("at")?,
            actor_id: row.get("actor_id")?,
            workspace_id: row.get("workspace_id")?,
            action: row.get("action")?,
            target_type: row.get("target_type")?,
            target_id: row.get("target_id")?,
            correlation_id: row.get("correlation_id")?,
            client_addr: row.get("client_addr")?,
            user_agent: row.get("user_agent")?,
            details: serde_json::from_str(&row.get::<String>("details")?).unwrap_or(Value::Null),
        })
    }
}

/// One page of a workspace's log, newest first, and the cursor of the next page.
pub fn list(
    db: &Db,
    workspace: Uuid,
    f: &Filter,
) -> Result<(Vec<Logged>, Option<String>), AppError> {
    let opt_i64 = |v: Option<i64>| v.map(Param::Int64).unwrap_or(Param::DbNull);
    // One row past the page says whether there is a next one.
    let mut items = db.query_all(
        "SELECT id, xmp_iso(created_at) AS at, actor_id, workspace_id, action, target_type,
                target_id, correlation_id, client_addr, user_agent, details::text AS details
         FROM audit_log
         WHERE workspace_id = $1
           AND ($2::uuid IS NULL OR actor_id = $2::uuid)
           AND ($3::text IS NULL OR action = $3)
           AND ($4::text IS NULL OR target_id = $4)
           AND ($5::int8 IS NULL OR created_at >= to_timestamp(($5::int8)::float8 / 1000))
           AND ($6::int8 IS NULL OR created_at < to_timestamp(($6::int8)::float8 / 1000))
           AND ($7::int8 IS NULL OR id < $7)
         ORDER BY id DESC
         LIMIT $8",
        &[
            workspace.into(),
            opt_uuid(f.actor),
            opt_str(f.action.clone()),
            opt_str(f.target.clone()),
            opt_i64(f.since_ms),
            opt_i64(f.until_ms),
            opt_i64(f.before_id),
            Param::Int64(f.limit as i64 + 1),
        ],
        Logged::from_row,
    )?;
    let more = items.len() > f.limit as usize;
    items.truncate(f.limit as usize);
    let next = items.last().filter(|_| more).map(|l| encode_cursor(l.id));
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(12345)), Some(12345));
        for bad in ["", "a", "xyz", "a-1", "a0"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn filters_parse_and_name_the_bad_parameter() {
        let q = common::pagination::query_of;
        let f =
            Filter::from_query(q(&[("since", "2026-01-01T00:00:00Z"), ("limit", "5")])).unwrap();
        assert_eq!(f.limit, 5);
        assert_eq!(f.since_ms, Some(1_767_225_600_000));
        for (pairs, name) in [
            (&[("limit", "0")][..], "limit"),
            (&[("limit", "abc")][..], "limit"),
            (&[("since", "yesterday")][..], "since"),
            (&[("cursor", "zzz")][..], "cursor"),
            (&[("actor", "bob")][..], "actor"),
        ] {
            let err = Filter::from_query(q(pairs)).unwrap_err();
            assert_eq!(err.details.as_ref().unwrap()["parameter"], name);
        }
    }
}
