//! A short-lived cache of account list pages in key-value. Dashboards poll the first page of a
//! workspace's accounts; building it costs PostgreSQL about a millisecond of CPU (see
//! BENCHMARKS.md). Pages are keyed by a per-workspace version that every write to the
//! workspace's accounts bumps after it commits, so a write is visible to the next list; the TTL
//! bounds what a write made outside this code (a manual SQL fix) could leave stale.

use crate::kv::Kv;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const NAMESPACE: &str = "accounts-cache";
/// How long a cached page may be served.
pub const TTL_MS: i64 = 30_000;

#[derive(Serialize, Deserialize)]
pub struct CachedPage {
    pub items: String,
    pub next: Option<String>,
}

fn version_key(ws: Uuid) -> String {
    format!("version:{ws}")
}

/// The workspace's current list version (0 when never bumped); `None` when the store fails.
pub fn version(kv: &Kv, ws: Uuid) -> Option<i64> {
    kv.increment(&version_key(ws), 0).ok()
}

/// Call after a write to the workspace's accounts has committed. Best effort: a failed bump
/// leaves at most [`TTL_MS`] of staleness.
pub fn bump(ws: Uuid) {
    if let Ok(kv) = Kv::open(NAMESPACE) {
        let _ = kv.increment(&version_key(ws), 1);
    }
}

pub fn open() -> Option<Kv> {
    Kv::open(NAMESPACE).ok()
}

pub fn page_key(ws: Uuid, version: i64, query: &str) -> String {
    format!("page:{ws}:{version}:{query}")
}

pub fn get(kv: &Kv, key: &str, now_ms: i64) -> Option<CachedPage> {
    kv.get_json(key, now_ms).ok().flatten()
}

pub fn put(kv: &Kv, key: &str, page: &CachedPage, now_ms: i64) {
    let _ = kv.set_json(key, page, Some(TTL_MS), now_ms);
}
