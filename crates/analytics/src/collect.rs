//! Collection, run by the scheduler's tick after publishing, with what is left of the tick's
//! time budget and of each account's X budget (the client's guards refuse a call the budget
//! cannot afford; the timeline import also leaves half of its window to publishing's
//! reconciliation). Nothing here can delay a due post: it runs after the tick's publishing and
//! stops starting work at the tick's deadline; the next tick publishes first again.

use crate::cadence::{self, DAY};
use crate::store::{self, AccountCounters, Captured, DueAccount, DuePost, TimelinePost};
use crate::xread;
use accounts::refresh::RefreshError;
use accounts::{self, AccountStatus, AccountsConfig};
use common::db::Db;
use common::error::{AppError, Code};
use common::log::{emit, Level};
use common::x::{Budgets, Endpoint, XClient, XError};
use identity::audit::Meta;
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// How long a claimed capture is held before another tick may take it.
const LEASE_MS: i64 = 5 * 60_000;
/// A failed capture is tried again after this long.
const RETRY_MS: i64 = 15 * 60_000;
/// Timeline pages one account may import per tick.
const IMPORT_PAGES: usize = 3;

/// Collection settings from Spin variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// `analytics_monthly_read_budget`: X reads (calls) per UTC month for collection; 0 means
    /// no budget.
    pub monthly_read_budget: i64,
}

impl Settings {
    pub fn load() -> Settings {
        Self::from_source(|n| spin_sdk::variables::get(n).ok())
    }

    pub fn from_source(get: impl Fn(&str) -> Option<String>) -> Settings {
        Settings {
            monthly_read_budget: get("analytics_monthly_read_budget")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .unwrap_or(0),
        }
    }
}

/// What collection did in one tick.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Post snapshots stored.
    pub snapshots: u32,
    /// Posts X no longer has.
    pub gone: u32,
    pub account_snapshots: u32,
    pub imported: u32,
    /// Calls made to X.
    pub reads: u32,
    /// Captures put back (X said wait, failed, or the tick's time ran out).
    pub released: u32,
    /// How much the read budget stretched the cadence (1 = not at all).
    pub thinning: f64,
    pub time_spent: bool,
    /// The code of an error that stopped collection early (logged with its cause).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs collection until `deadline`; errors are logged and reported, never raised, so that
/// the tick's publishing report stands.
pub async fn after_publishing(
    db: &Db,
    cfg: &AccountsConfig,
    settings: Settings,
    clock: &dyn Fn() -> i64,
    deadline: i64,
) -> Summary {
    let mut c = Collector {
        db,
        cfg,
        clock,
        deadline,
        clients: HashMap::new(),
        blocked: HashSet::new(),
        summary: Summary {
            thinning: 1.0,
            ..Summary::default()
        },
    };
    if let Err(e) = c.run(settings).await {
        emit(
            Level::Error,
            "",
            "analytics collection failed",
            json!({"code": e.code, "fingerprint": e.fingerprint(), "cause": format!("{e:?}")}),
        );
        c.summary.error = Some(e.code.to_string());
    }
    c.summary
}

struct Collector<'a> {
    db: &'a Db,
    cfg: &'a AccountsConfig,
    clock: &'a dyn Fn() -> i64,
    deadline: i64,
    /// Per account: its client, opened once per tick.
    clients: HashMap<Uuid, XClient>,
    /// Accounts that cannot be used again this tick (no client, or X said wait).
    blocked: HashSet<Uuid>,
    summary: Summary,
}

enum Call {
    Ok(Vec<u8>),
    /// Try again at this instant.
    Later(i64),
}

impl Collector<'_> {
    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn out_of_time(&mut self) -> bool {
        let out = self.now() >= self.deadline;
        self.summary.time_spent |= out;
        out
    }

    async fn run(&mut self, settings: Settings) -> Result<(), AppError> {
        let now = self.now();
        store::register_published(self.db, now - DAY)?;
        store::ensure_accounts(self.db)?;
        crate::cache::prune(self.db)?;
        let (used, elapsed) = store::month_reads(self.db, now)?;
        let thinning = cadence::thinning(settings.monthly_read_budget, used, elapsed);
        self.summary.thinning = thinning;
        while !self.out_of_time() {
            let now = self.now();
            let due = store::claim_accounts(self.db, now, now + LEASE_MS, 10)?;
            if due.is_empty() {
                break;
            }
            for a in &due {
                if self.out_of_time() {
                    store::release_account(self.db, a, now)?;
                    continue;
                }
                self.sync_account(a, thinning).await?;
            }
        }
        while !self.out_of_time() {
            let now = self.now();
            let due = store::claim_posts(self.db, now, now + LEASE_MS, 100, 500)?;
            if due.is_empty() {
                break;
            }
            let mut by_account: Vec<(Uuid, Vec<DuePost>)> = Vec::new();
            for p in due {
                match by_account.iter_mut().find(|(a, _)| *a == p.account_id) {
                    Some((_, v)) => v.push(p),
                    None => by_account.push((p.account_id, vec![p])),
                }
            }
            for (_, posts) in by_account {
                if self.out_of_time() {
                    self.release(&posts, self.now())?;
                    continue;
                }
                self.capture(posts, thinning).await?;
            }
        }
        Ok(())
    }

    fn release(&mut self, posts: &[DuePost], until: i64) -> Result<(), AppError> {
        self.summary.released += posts.len() as u32;
        store::release_posts(self.db, posts, until)
    }

    /// The account's client for this tick, taken out of the cache while in use (`None` if
    /// the account cannot be used); [`Collector::put_back`] returns it.
    async fn take_client(&mut self, ws: Uuid, account: Uuid) -> Result<Option<XClient>, AppError> {
        if self.blocked.contains(&account) {
            return Ok(None);
        }
        if let Some(c) = self.clients.remove(&account) {
            return Ok(Some(c));
        }
        let now = self.now();
        let client = match accounts::store::get(self.db, ws, account) {
            Ok(a) if a.status == AccountStatus::Active => {
                match accounts::refresh::client_for(self.db, self.cfg, &Meta::default(), &a, now)
                    .await
                {
                    Ok(c) => {
                        let real_now = chrono::Utc::now().timestamp_millis();
                        Some(c.with_clock_offset(now - real_now))
                    }
                    Err(RefreshError::Ours(e))
                        if matches!(e.code, Code::DbUnavailable | Code::DbContention) =>
                    {
                        return Err(e)
                    }
                    Err(_) => None,
                }
            }
            Ok(_) => None,
            Err(e) if e.status() == 404 => None,
            Err(e) => return Err(e),
        };
        if client.is_none() {
            self.blocked.insert(account);
        }
        Ok(client)
    }

    fn put_back(&mut self, account: Uuid, client: XClient) {
        if !self.blocked.contains(&account) {
            self.clients.insert(account, client);
        }
    }

    /// One call to X for `ws`, counted as a read when it reached X.
    async fn call(
        &mut self,
        client: &XClient,
        ws: Uuid,
        req: &common::x::api::XRequest,
        account: Uuid,
    ) -> Result<Call, AppError> {
        let result = client.execute(req).await;
        let now = self.now();
        let reached = !matches!(
            result,
            Err(XError::Deferred { .. } | XError::CircuitOpen { .. })
        );
        if reached {
            self.summary.reads += 1;
            store::count_reads(self.db, ws, now, 1, 0)?;
        }
        Ok(match result {
            Ok(r) => Call::Ok(r.body),
            Err(XError::Deferred { until }) | Err(XError::CircuitOpen { until }) => {
                self.blocked.insert(account);
                Call::Later(until.timestamp_millis().max(now + 60_000))
            }
            Err(XError::RateLimited { reset_at, .. }) => {
                self.blocked.insert(account);
                Call::Later(reset_at.timestamp_millis().max(now + 60_000))
            }
            Err(e) => {
                emit(
                    Level::Warn,
                    "",
                    "analytics read failed",
                    json!({"account": account, "error": format!("{e:?}")}),
                );
                self.blocked.insert(account);
                Call::Later(now + RETRY_MS)
            }
        })
    }

    /// One lookup per kind (with or without the non-public metrics) for up to 100 posts of one
    /// account, then one statement stores the batch.
    async fn capture(&mut self, posts: Vec<DuePost>, thinning: f64) -> Result<(), AppError> {
        let Some(first) = posts.first() else {
            return Ok(());
        };
        let (ws, account) = (first.workspace_id, first.account_id);
        let Some(client) = self.take_client(ws, account).await? else {
            return self.release(&posts, self.now() + RETRY_MS);
        };
        let result = self.capture_with(&client, posts, thinning).await;
        self.put_back(account, client);
        result
    }

    async fn capture_with(
        &mut self,
        client: &XClient,
        posts: Vec<DuePost>,
        thinning: f64,
    ) -> Result<(), AppError> {
        let Some(first) = posts.first() else {
            return Ok(());
        };
        let (ws, account) = (first.workspace_id, first.account_id);
        let now = self.now();
        let (young, old): (Vec<DuePost>, Vec<DuePost>) = posts
            .into_iter()
            .partition(|p| cadence::wants_private(p.published_ms, now));
        for (group, private) in [(young, true), (old, false)] {
            if group.is_empty() {
                continue;
            }
            if self.blocked.contains(&account) {
                self.release(&group, self.now() + RETRY_MS)?;
                continue;
            }
            let ids: Vec<&str> = group.iter().map(|p| p.x_post_id.as_str()).collect();
            let req = xread::lookup(&ids, private);
            let body = match self.call(client, ws, &req, account).await? {
                Call::Ok(body) => body,
                Call::Later(until) => {
                    self.release(&group, until)?;
                    continue;
                }
            };
            let answer: xread::Posts = match xread::parse(&body) {
                Ok(a) => a,
                Err(_) => {
                    self.release(&group, self.now() + RETRY_MS)?;
                    continue;
                }
            };
            let captured_ms = self.now();
            let mut batch = Vec::with_capacity(group.len());
            let mut unanswered = Vec::new();
            for p in group {
                if let Some(found) = answer.data.iter().find(|d| d.id == p.x_post_id) {
                    batch.push((p, Captured::Metrics(xread::Counters::of(found))));
                } else if answer
                    .errors
                    .iter()
                    .any(|e| e.is_not_found() && e.id() == Some(p.x_post_id.as_str()))
                {
                    self.summary.gone += 1;
                    batch.push((p, Captured::Gone));
                } else {
                    unanswered.push(p);
                }
            }
            store::count_reads(self.db, ws, captured_ms, 0, answer.data.len() as i64)?;
            let stored = store::store_captures(self.db, captured_ms, thinning, &batch)?;
            self.summary.snapshots += stored as u32;
            self.release(&unanswered, captured_ms + RETRY_MS)?;
        }
        Ok(())
    }

    /// The account's profile counters, then new posts from its timeline.
    async fn sync_account(&mut self, a: &DueAccount, thinning: f64) -> Result<(), AppError> {
        let Some(client) = self.take_client(a.workspace_id, a.account_id).await? else {
            return store::release_account(self.db, a, self.now() + RETRY_MS);
        };
        let result = self.sync_with(&client, a, thinning).await;
        self.put_back(a.account_id, client);
        result
    }

    async fn sync_with(
        &mut self,
        client: &XClient,
        a: &DueAccount,
        thinning: f64,
    ) -> Result<(), AppError> {
        let req = xread::user(&a.x_user_id);
        let body = match self
            .call(client, a.workspace_id, &req, a.account_id)
            .await?
        {
            Call::Ok(body) => body,
            Call::Later(until) => return store::release_account(self.db, a, until),
        };
        let user: xread::UserAnswer = match xread::parse(&body) {
            Ok(u) => u,
            Err(_) => return store::release_account(self.db, a, self.now() + RETRY_MS),
        };
        let m = user.data.and_then(|d| d.public_metrics).unwrap_or_default();
        let counters = AccountCounters {
            followers: m.followers_count,
            following: m.following_count,
            posts: m.post_count.or(m.tweet_count),
            listed: m.listed_count,
        };
        let mut import_done = true;
        if self.may_import(a) {
            import_done = self.import(client, a).await?;
        }
        let now = self.now();
        let every = ((cadence::ACCOUNT_EVERY_MS as f64) * thinning) as i64;
        let mut next = now + every.min(DAY);
        if !import_done {
            next = now + RETRY_MS;
        }
        if store::store_account(self.db, a, now, &counters, next)? {
            self.summary.account_snapshots += 1;
        }
        Ok(())
    }

    /// Publishing reconciles through the same timeline endpoint: import only while more than
    /// half of the account's window is left.
    fn may_import(&self, a: &DueAccount) -> bool {
        let Ok(budgets) = Budgets::open() else {
            return false;
        };
        let now = chrono::DateTime::from_timestamp_millis(self.now()).unwrap_or_default();
        match budgets
            .load(&a.account_id.to_string(), Endpoint::UserPosts, now)
            .and_then(|b| b.main)
        {
            Some(w) if w.reset > now => match w.limit {
                Some(limit) => w.remaining * 2 > limit,
                None => w.remaining > 0,
            },
            _ => true,
        }
    }

    /// Imports up to [`IMPORT_PAGES`] pages; `true` when the import has caught up.
    async fn import(&mut self, client: &XClient, a: &DueAccount) -> Result<bool, AppError> {
        let mut due = a.clone();
        for _ in 0..IMPORT_PAGES {
            if self.out_of_time() {
                return Ok(false);
            }
            let req = xread::timeline(
                &a.x_user_id,
                due.import_since_id.as_deref(),
                due.import_token.as_deref(),
            );
            let body = match self
                .call(client, a.workspace_id, &req, a.account_id)
                .await?
            {
                Call::Ok(body) => body,
                Call::Later(_) => return Ok(false),
            };
            let Ok(page) = xread::parse::<xread::Posts>(&body) else {
                return Ok(false);
            };
            let posts: Vec<TimelinePost> = page
                .data
                .iter()
                .filter_map(|p| {
                    let created_ms = p
                        .created_at
                        .map(|t| t.timestamp_millis())
                        .or_else(|| snowflake_ms(&p.id))?;
                    Some(TimelinePost {
                        x_post_id: p.id.clone(),
                        text: p.text.clone(),
                        created_ms,
                    })
                })
                .collect();
            store::count_reads(self.db, a.workspace_id, self.now(), 0, posts.len() as i64)?;
            let newest = page.meta.newest_id.clone();
            let next = page.meta.next_token.clone();
            self.summary.imported +=
                store::import_page(self.db, &due, &posts, next.as_deref(), newest.as_deref())?
                    as u32;
            match next {
                Some(t) => {
                    due.import_newest_id = due.import_newest_id.or(newest);
                    due.import_token = Some(t);
                }
                None => return Ok(true),
            }
        }
        Ok(false)
    }
}

/// The creation time inside an X post id (a snowflake: milliseconds since X's epoch).
fn snowflake_ms(id: &str) -> Option<i64> {
    let n: u64 = id.parse().ok()?;
    Some((n >> 22) as i64 + 1_288_834_974_657)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_budget_comes_from_its_variable() {
        let get = |v: &'static str| {
            move |n: &str| (n == "analytics_monthly_read_budget").then(|| v.to_string())
        };
        assert_eq!(
            Settings::from_source(get("25000")).monthly_read_budget,
            25_000
        );
        assert_eq!(Settings::from_source(get("")).monthly_read_budget, 0);
        assert_eq!(Settings::from_source(get("-3")).monthly_read_budget, 0);
    }

    #[test]
    fn a_post_id_carries_its_creation_time() {
        // X's documented example: 1212092628029698048 was created 2019-12-31T19:26:16 UTC.
        assert_eq!(snowflake_ms("1212092628029698048"), Some(1_577_820_376_771));
    }
}
