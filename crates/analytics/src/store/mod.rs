//! The collector's SQL: registering posts, claiming due captures, and storing a batch of
//! captures in ONE statement (snapshots, signed deltas into the hourly rollups, latest values,
//! the next capture), so that a capture is counted once or not at all.
//!
//! `accounts` holds the per-account work (profile snapshots, the timeline import), `posts` the
//! claims of due captures, `captures` the statement that stores them, `reads` the count of
//! calls to X against the monthly budget.
//!
//! Instants travel as Unix milliseconds (`int8`) and are converted by PostgreSQL. Batches
//! travel as one JSON array of typed rows (`jsonb_to_recordset`), so a batch is one statement
//! whatever its size.

mod accounts;
mod captures;
mod posts;
mod reads;

pub use accounts::{
    claim_accounts, ensure_accounts, import_page, release_account, store_account, AccountCounters,
    DueAccount, TimelinePost,
};
pub use captures::{store_captures, Captured};
pub use posts::{claim_posts, register_published, release_posts, DuePost};
pub use reads::{count_reads, month_reads};

use common::error::AppError;
use serde::Serialize;

/// `$n` (Unix ms) as a `timestamptz`.
fn ts(n: usize) -> String {
    format!("(timestamptz 'epoch' + ${n}::int8 * interval '1 millisecond')")
}

/// Milliseconds since the epoch of a `timestamptz` expression.
pub fn ms_of(expr: &str) -> String {
    format!("(extract(epoch FROM {expr}) * 1000)::int8")
}

/// A batch as the JSON text `jsonb_to_recordset` reads.
fn json_rows<T: Serialize>(rows: &[T]) -> Result<String, AppError> {
    serde_json::to_string(rows).map_err(AppError::internal)
}

/// An X counter as an `int8` (X's counters are unsigned; none comes near `i64::MAX`).
fn int8(v: Option<u64>) -> Option<i64> {
    v.map(|n| n.min(i64::MAX as u64) as i64)
}
