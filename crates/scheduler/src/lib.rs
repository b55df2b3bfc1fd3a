//! The scheduler's tick: publish due posts on time and exactly once, within X's rate limits,
//! through crashes. A function of (connection, store, clock, time budget): the
//! cron component, the HTTP tick route and the tests all call [`tick`].
//!
//! Each tick, until its time budget is spent:
//! 1. takes over posts whose lease expired (their tick died) — they reconcile before sending;
//! 2. claims due posts in batches, accounts taking turns, and publishes them ([`publish`]):
//!    the accounts of a batch at once, each on a lane of its own, one account's posts in order
//!    on its lane. The lanes share the tick's connection: a component's statements block it,
//!    so they never overlap anyway; what overlaps is X's answers. No lane holds a transaction
//!    across an await (each of publishing's writes is one statement, and a token refresh
//!    takes a connection of its own), so no lane's statement can join another's transaction.
//!    The lanes' attempts are recorded together ([`publish::Attempts`]), and the posts' last
//!    marks are written together when the batch's lanes are done ([`publish::LastMarks`]);
//! 3. runs due engagements (like, repost and their undo);
//! 4. refreshes OAuth 2.0 tokens that expire within 15 minutes.
//!
//! 5. collects analytics with the time left (`analytics::collect`).
//!
//! Also [`metrics`]: `GET /api/metrics` (served by the system component), which counts what the
//! tick does from PostgreSQL.

pub mod claim;
pub mod engagements;
pub mod jobs;
pub mod matching;
pub mod metrics;
pub mod publish;
pub mod routes;

use accounts::{refresh, AccountsConfig};
use claim::Claimed;
use common::db::Db;
use common::error::AppError;
use common::x::Budgets;
use publish::{Attempts, LastMarks, Outcome};
use serde::Serialize;
use uuid::Uuid;

/// How a tick runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Names this tick in leases (unique per tick: instance and start time).
    pub owner: String,
    /// Stop claiming new work after this many milliseconds.
    pub budget_ms: i64,
    /// Posts claimed per batch (claiming ten at a time was five times faster than one by one);
    /// also the most accounts whose creates are in flight at once.
    pub batch: i64,
    /// How long a claim is held before another tick may take it over.
    pub lease_ms: i64,
}

impl Options {
    pub fn new(owner: impl Into<String>) -> Options {
        Options {
            owner: owner.into(),
            budget_ms: 8_000,
            batch: 10,
            lease_ms: 60_000,
        }
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub claimed: u32,
    pub recovered: u32,
    pub published: u32,
    pub reconciled: u32,
    pub deferred: u32,
    pub retrying: u32,
    pub failed: u32,
    pub lost_lease: u32,
    pub engagements: engagements::Summary,
    pub tokens: refresh::Summary,
    pub analytics: analytics::collect::Summary,
    /// The time budget ran out before the due work did.
    pub budget_spent: bool,
    pub elapsed_ms: i64,
}

impl Report {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Published => self.published += 1,
            Outcome::Reconciled => self.reconciled += 1,
            Outcome::Deferred => self.deferred += 1,
            Outcome::Retrying => self.retrying += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::LostLease => self.lost_lease += 1,
        }
    }
}

/// One tick, recorded in `job_runs` whatever its outcome (GET /api/metrics reads it).
/// `clock` answers Unix milliseconds (tests drive it).
pub async fn tick(
    db: &Db,
    cfg: &AccountsConfig,
    clock: &dyn Fn() -> i64,
    opts: &Options,
) -> Result<Report, AppError> {
    let started = clock();
    let result = run(db, cfg, clock, opts).await;
    jobs::record_tick(db, &opts.owner, started, clock(), &result);
    result
}

async fn run(
    db: &Db,
    cfg: &AccountsConfig,
    clock: &dyn Fn() -> i64,
    opts: &Options,
) -> Result<Report, AppError> {
    let started = clock();
    let deadline = started + opts.budget_ms;
    let budgets = Budgets::open()?;
    let mut report = Report::default();
    for recovering in [true, false] {
        loop {
            let now = clock();
            if now >= deadline {
                report.budget_spent = true;
                break;
            }
            let lease_until = now + opts.lease_ms;
            let claims = claim::claim(db, &opts.owner, now, lease_until, opts.batch, recovering)?;
            if claims.is_empty() {
                break;
            }
            if recovering {
                report.recovered += claims.len() as u32;
            } else {
                report.claimed += claims.len() as u32;
            }
            let last_marks = LastMarks::default();
            let attempts = Attempts::default();
            let runs = by_account(&claims).into_iter().map(|lane| {
                let ctx = publish::Ctx {
                    db,
                    budgets: &budgets,
                    cfg,
                    owner: &opts.owner,
                    now_ms: 0,
                    cause: None,
                    last_marks: &last_marks,
                    attempts: &attempts,
                };
                run_lane(ctx, clock, lane)
            });
            let mut failure = None;
            let mut ended = Vec::with_capacity(claims.len());
            for (outcomes, error) in futures::future::join_all(runs).await {
                ended.extend(outcomes);
                failure = failure.or(error);
            }
            // The batch's last marks are written even when a lane failed: its posts are on X.
            let lost = last_marks.write(db, &opts.owner)?;
            for (head, outcome) in ended {
                let lost_lease = lost.contains(&head);
                report.count(if lost_lease {
                    Outcome::LostLease
                } else {
                    outcome
                });
            }
            if let Some(e) = failure {
                return Err(e);
            }
        }
    }
    if clock() < deadline {
        report.engagements =
            engagements::run_due(db, cfg, &budgets, &opts.owner, clock, deadline).await?;
    }
    if clock() < deadline {
        report.tokens =
            refresh::refresh_expiring(db, cfg, clock(), refresh::REFRESH_AHEAD_MS, 50).await?;
    }
    if clock() < deadline {
        let settings = analytics::collect::Settings::load();
        report.analytics =
            analytics::collect::after_publishing(db, cfg, settings, clock, deadline).await;
    }
    report.elapsed_ms = clock() - started;
    Ok(report)
}

/// A batch's lanes: the claims of each account in the batch's order (a post without an account
/// is a lane of its own).
fn by_account(claims: &[Claimed]) -> Vec<Vec<&Claimed>> {
    let mut lanes: Vec<Vec<&Claimed>> = Vec::new();
    for c in claims {
        let same = |lane: &&mut Vec<&Claimed>| {
            c.account_id.is_some() && lane.first().is_some_and(|f| f.account_id == c.account_id)
        };
        match lanes.iter_mut().find(same) {
            Some(lane) => lane.push(c),
            None => lanes.push(vec![c]),
        }
    }
    lanes
}

/// Publishes one lane's claims in order: how each ended (by post), and the error that stopped
/// the lane, if one did (the rest of its claims keep their lease and are recovered by a later
/// tick).
async fn run_lane(
    ctx: publish::Ctx<'_>,
    clock: &dyn Fn() -> i64,
    lane: Vec<&Claimed>,
) -> (Vec<(Uuid, Outcome)>, Option<AppError>) {
    let mut outcomes = Vec::with_capacity(lane.len());
    for c in lane {
        let ctx = publish::Ctx {
            now_ms: clock(),
            ..ctx
        };
        match publish::publish(&ctx, c).await {
            Ok(outcome) => outcomes.push((c.id, outcome)),
            Err(e) => return (outcomes, Some(e)),
        }
    }
    (outcomes, None)
}

/// A unique lease owner for one tick: the start time and 8 random bytes.
pub fn owner_name(now_ms: i64) -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    format!("tick-{now_ms}-{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_unique() {
        assert_ne!(owner_name(1), owner_name(1));
        assert!(owner_name(5).starts_with("tick-5-"));
    }
}
