//! Claiming work: due posts and expired leases, atomically (`FOR UPDATE SKIP LOCKED`), so any
//! number of ticks and instances can run at once without two of them holding the same post.

use crate::publish::Part;
use accounts::Account;
use common::db::{Db, Param, Row};
use common::error::AppError;
use uuid::Uuid;

/// A claimed thread head, with what publishing it needs, read by the claim's statement.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Option<Uuid>,
    pub attempts: i64,
    /// Claimed from an expired lease: an earlier tick may have sent it; reconcile first.
    pub recovered: bool,
    /// The post's account and its sealed credentials; `None` when the account was removed.
    pub account: Option<(Account, String)>,
    /// The thread's parts in order, each with its last attempt.
    pub(crate) parts: Vec<Part>,
}

impl Claimed {
    /// Decodes one row of `xmp_claim` (migration 0017).
    fn from_row(r: &Row<'_>, recovered: bool) -> Result<Claimed, AppError> {
        Ok(Claimed {
            id: r.get("head_id")?,
            workspace_id: r.get("head_workspace_id")?,
            account_id: r.get("head_account_id")?,
            attempts: r.get("attempts")?,
            recovered,
            account: accounts::store::sealed_from_row(r)?,
            parts: Part::list_from_json(&r.get::<String>("parts")?)?,
        })
    }
}

/// Claims up to `limit` posts for `owner` until `lease_until_ms` (`xmp_claim`, migration 0017),
/// in the order each account's posts must be published. With `expired`, takes over posts whose
/// lease ran out (their tick died or stalled); otherwise claims due posts, accounts taking
/// turns: the first due post of every account comes before the second of any, so one busy
/// account cannot starve the others of a shared budget.
pub fn claim(
    db: &Db,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
    expired: bool,
) -> Result<Vec<Claimed>, AppError> {
    db.query_all(
        "SELECT * FROM xmp_claim($1, $2::int8, $3::int8, $4::int8, $5::bool)",
        &[
            Param::Str(owner.into()),
            Param::Int64(now_ms),
            Param::Int64(lease_until_ms),
            Param::Int64(limit),
            Param::Boolean(expired),
        ],
        |r| Claimed::from_row(r, expired),
    )
}
