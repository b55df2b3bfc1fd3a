//! The report cache: a report's JSON answer, stored per workspace and resolved request, served
//! while the workspace's analytics version is the one it was computed at.
//!
//! The version (`analytics_versions`) is bumped once per committing transaction that changes
//! anything a report reads: snapshots, rollups, latest values, posts, gaps, collection state,
//! an account connected or removed (deferred triggers, migration 0010; zones are in the key). An
//! answer computed after reading version `v` reflects at least the data of `v`, so storing it
//! under `v` can only ever be as fresh as or fresher than what `v` promises; any later change
//! makes `v` old and the answer unreachable.

use crate::params::Range;
use common::db::{Db, Param};
use common::error::AppError;
use sha2::{Digest, Sha256};

/// Identifies one resolved request: the workspace and everything the answer depends on.
pub struct Key {
    workspace: uuid::Uuid,
    hash: String,
}

impl Key {
    pub fn new(workspace: uuid::Uuid, parts: &[&str]) -> Key {
        Key {
            workspace,
            hash: hex::encode(Sha256::digest(parts.join("\n").as_bytes())),
        }
    }

    /// A report over a range (resolved to instants and a zone), plus `extra`.
    pub fn range(report: &str, r: &Range, extra: &str) -> Key {
        let account = r.account.map(|a| a.to_string()).unwrap_or_default();
        let (from, to) = (r.from_ms.to_string(), r.to_ms.to_string());
        Key::new(r.workspace, &[report, &account, &r.tz, &from, &to, extra])
    }
}

/// The stored answer (`data` as JSON text) when it is current, else `compute`'s, stored for
/// the next reader.
pub fn answer(
    db: &Db,
    key: &Key,
    compute: impl FnOnce() -> Result<String, AppError>,
) -> Result<String, AppError> {
    let ws = Param::from(key.workspace);
    let (version, stored): (i64, Option<String>) = db.query_one(
        "WITH v AS (SELECT coalesce((SELECT version FROM analytics_versions
                                     WHERE workspace_id = $1::uuid), 0) AS version)
         SELECT v.version, c.body FROM v
         LEFT JOIN analytics_report_cache c
           ON c.workspace_id = $1::uuid AND c.key = $2 AND c.version = v.version",
        &[ws.clone(), Param::Str(key.hash.clone())],
        |row| Ok((row.get("version")?, row.get("body")?)),
    )?;
    if let Some(body) = stored {
        return Ok(body);
    }
    let body = compute()?;
    db.execute(
        "INSERT INTO analytics_report_cache (workspace_id, key, version, body)
         SELECT $1::uuid, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = $1::uuid)
         ON CONFLICT (workspace_id, key) DO UPDATE
           SET version = excluded.version, body = excluded.body, stored_at = now()
           WHERE analytics_report_cache.version <= excluded.version",
        &[
            ws,
            Param::Str(key.hash.clone()),
            Param::Int64(version),
            Param::Str(body.clone()),
        ],
    )?;
    Ok(body)
}

/// Removes answers that can no longer be served (computed at an older version) or were stored
/// more than a day ago, and the versions of deleted workspaces (run by collection, once per
/// tick), so the table holds at most what the current versions' readers asked for.
pub fn prune(db: &Db) -> Result<(), AppError> {
    db.execute(
        "WITH old AS (
           DELETE FROM analytics_report_cache c
           WHERE c.stored_at < now() - interval '1 day'
              OR c.version < (SELECT v.version FROM analytics_versions v
                              WHERE v.workspace_id = c.workspace_id))
         DELETE FROM analytics_versions v
         WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = v.workspace_id)",
        &[],
    )?;
    Ok(())
}
