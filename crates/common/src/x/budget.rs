//! X rate limits as budgets, not errors: a call that would cross the limit waits instead of
//! being sent to fail.
//!
//! Every response carries `x-rate-limit-{limit,remaining,reset}` and, on daily-capped endpoints,
//! `x-user-limit-24hour-*` and `x-app-limit-24hour-*`. They update a budget per (account,
//! endpoint) in key-value, plus one per endpoint for the app's 24-hour window, which every
//! account shares. Before calling, [`Budgets::may_call`] answers "may I call E for account A
//! now, and if not, until when?" — pausing pre-emptively when `remaining` falls to a reserve, so
//! that concurrent instances that have not yet seen the latest headers do not run into a 429.
//!
//! The math is pure (`RateHeaders`, [`Budget`], [`check`]); only [`Budgets`] touches the store.
//!
//! No compare-and-swap (Spin's Redis store gets it wrong): the latest observation of a window
//! is a plain write (last writer wins), and every answered call also increments a counter of
//! the window (`increment`, atomic on every store). A window's remaining is the lower of the
//! stored observation and `limit - calls counted`: concurrent responses each count, so the
//! lowest remaining is never lost to a race, and since every counted call consumed one unit of
//! the window, the estimate never undercuts what X would say.

use super::error::XError;
use super::rate::{main_window, RateHeaders, RateScope, RateWindow, Window};
use super::Endpoint;
use crate::kv::Kv;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why and until when a call should wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeferUntil {
    pub until: DateTime<Utc>,
    pub scope: RateScope,
    pub window: RateWindow,
}

impl From<DeferUntil> for XError {
    fn from(d: DeferUntil) -> Self {
        XError::Deferred { until: d.until }
    }
}

/// When to stop before X stops us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetPolicy {
    /// Pause when `remaining` is at or below this share of the limit (in percent)...
    pub reserve_percent: u32,
    /// ...or at or below this absolute number; `remaining == 0` always pauses.
    pub reserve_min: u32,
}

impl Default for BudgetPolicy {
    /// 5 % keeps headroom for in-flight calls on big windows while a 17-a-day free tier can
    /// still use every one of its posts.
    fn default() -> Self {
        BudgetPolicy {
            reserve_percent: 5,
            reserve_min: 0,
        }
    }
}

impl BudgetPolicy {
    pub fn threshold(&self, limit: Option<u32>) -> u32 {
        let share = limit.map_or(0, |l| (l as u64 * self.reserve_percent as u64 / 100) as u32);
        share.max(self.reserve_min)
    }
}

/// What we know of one account's budget for one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user24: Option<Window>,
}

/// Merges a newer observation into a stored window. Responses can arrive out of order across
/// instances: within one window (same reset) the lowest `remaining` is the truest; a later
/// reset is a new window; an earlier reset is a stale response and is ignored.
pub fn merge(old: Option<Window>, new: Option<Window>) -> Option<Window> {
    match (old, new) {
        (Some(o), Some(n)) if n.reset == o.reset => Some(Window {
            remaining: o.remaining.min(n.remaining),
            limit: n.limit.or(o.limit),
            reset: n.reset,
        }),
        (Some(o), Some(n)) if n.reset < o.reset => Some(o),
        (o, n) => n.or(o),
    }
}

/// Whether a call fits the known windows at `now`.
pub fn check(
    budget: &Budget,
    app24: Option<&Window>,
    policy: &BudgetPolicy,
    now: DateTime<Utc>,
) -> Result<(), DeferUntil> {
    let windows = [
        (
            budget.main.as_ref(),
            RateScope::User,
            main_window(budget.main, now),
        ),
        (budget.user24.as_ref(), RateScope::User, RateWindow::Hours24),
        (app24, RateScope::App, RateWindow::Hours24),
    ];
    let blocked = windows
        .into_iter()
        .filter_map(|(w, scope, window)| {
            let w = w?;
            (w.reset > now && w.remaining <= policy.threshold(w.limit)).then_some(DeferUntil {
                until: w.reset,
                scope,
                window,
            })
        })
        .max_by_key(|d| d.until);
    blocked.map_or(Ok(()), Err)
}

/// The key-value side: budgets shared by every instance.
pub struct Budgets {
    kv: Kv,
    policy: BudgetPolicy,
}

/// Keys outlive their latest reset by this much, then count as absent.
const KEY_GRACE_SECS: i64 = 60;

impl Budgets {
    pub fn new(kv: Kv, policy: BudgetPolicy) -> Self {
        Budgets { kv, policy }
    }

    /// The store in the `x` namespace with the default policy.
    pub fn open() -> Result<Self, crate::AppError> {
        Ok(Self::new(
            Kv::open(super::KV_NAMESPACE)?,
            BudgetPolicy::default(),
        ))
    }

    /// `Ok` when the call fits. A store failure answers `Ok`: budgets are advisory and may be
    /// lost with the key-value store, and X's own 429 remains the backstop.
    pub fn may_call(
        &self,
        account: &str,
        endpoint: Endpoint,
        now: DateTime<Utc>,
    ) -> Result<(), DeferUntil> {
        let budget = self.load(account, endpoint, now).unwrap_or_default();
        let app = self.load_app(endpoint, now);
        check(&budget, app.as_ref(), &self.policy, now)
    }

    /// Folds a response's headers into the stored budgets; failures are swallowed for the same
    /// reason `may_call` fails open. `served` is false for a 429, which X did not count.
    pub fn record(
        &self,
        account: &str,
        endpoint: Endpoint,
        rate: &RateHeaders,
        served: bool,
        now: DateTime<Utc>,
    ) {
        if rate.main.is_some() || rate.user24.is_some() {
            let base = key(account, endpoint);
            let current = self.kv.get_raw(&base).ok().flatten();
            let old: Budget = decode_any(current.as_deref()).unwrap_or_default();
            let bytes = next_budget(current.as_deref(), rate, now);
            let new: Budget = decode(Some(&bytes), now).unwrap_or_default();
            if served {
                self.count(&base, MAIN, new.main, rate.main);
                self.count(&base, USER24, new.user24, rate.user24);
            }
            if self.kv.set_raw(&base, &bytes).is_ok() {
                self.forget(&base, MAIN, old.main, new.main);
                self.forget(&base, USER24, old.user24, new.user24);
            }
        }
        if rate.app24.is_some() {
            let base = app_key(endpoint);
            let current = self.kv.get_raw(&base).ok().flatten();
            let old: Option<Window> = decode_any::<Option<Window>>(current.as_deref()).flatten();
            let bytes = next_app_window(current.as_deref(), rate.app24, now);
            let new: Option<Window> = decode::<Option<Window>>(Some(&bytes), now).flatten();
            if served {
                self.count(&base, APP24, new, rate.app24);
            }
            if self.kv.set_raw(&base, &bytes).is_ok() {
                self.forget(&base, APP24, old, new);
            }
        }
    }

    /// The stored budget of one account and endpoint, if any, each window's remaining lowered
    /// to what its call counter implies.
    pub fn load(&self, account: &str, endpoint: Endpoint, now: DateTime<Utc>) -> Option<Budget> {
        let base = key(account, endpoint);
        // Not `get_json`: an expired value stays until the next record, which reads it to
        // delete the counters of its windows.
        let bytes = self.kv.get_raw(&base).ok().flatten();
        let budget: Budget = decode(bytes.as_deref(), now)?;
        Some(Budget {
            main: self.counted(&base, MAIN, budget.main, now),
            user24: self.counted(&base, USER24, budget.user24, now),
        })
    }

    /// The app-wide 24-hour window of an endpoint, for sharing it fairly across accounts.
    pub fn load_app(&self, endpoint: Endpoint, now: DateTime<Utc>) -> Option<Window> {
        let base = app_key(endpoint);
        let bytes = self.kv.get_raw(&base).ok().flatten();
        let window = decode::<Option<Window>>(bytes.as_deref(), now).flatten();
        self.counted(&base, APP24, window, now)
    }

    /// Counts one answered call in the stored window, when the response belongs to it (a
    /// stale response of an older window counts nowhere).
    fn count(&self, base: &str, which: &str, stored: Option<Window>, seen: Option<Window>) {
        if let (Some(stored), Some(seen)) = (stored, seen) {
            if stored.reset == seen.reset {
                // Without atomics (some stores) the observation alone must do.
                let _ = self.kv.increment(&count_key(base, which, stored.reset), 1);
            }
        }
    }

    /// Deletes the counter of a window the stored budget has moved past.
    fn forget(&self, base: &str, which: &str, old: Option<Window>, new: Option<Window>) {
        if let Some(old) = old {
            if new.is_none_or(|n| n.reset != old.reset) {
                let _ = self.kv.delete(&count_key(base, which, old.reset));
            }
        }
    }

    /// The window with its remaining lowered to `limit - calls counted` (a window whose reset
    /// has passed binds nothing, so its counter is not read).
    fn counted(
        &self,
        base: &str,
        which: &str,
        window: Option<Window>,
        now: DateTime<Utc>,
    ) -> Option<Window> {
        let mut w = window?;
        if let (Some(limit), true) = (w.limit, w.reset > now) {
            // A read is an increment by 0: counters are only ever written by increments.
            if let Ok(calls) = self.kv.increment(&count_key(base, which, w.reset), 0) {
                w.remaining = w.remaining.min(remaining_after(limit, calls));
            }
        }
        Some(w)
    }
}

const MAIN: &str = "main";
const USER24: &str = "user24";
const APP24: &str = "app24";

/// What is left of `limit` after `calls` calls.
pub fn remaining_after(limit: u32, calls: i64) -> u32 {
    limit.saturating_sub(u32::try_from(calls.max(0)).unwrap_or(u32::MAX))
}

fn count_key(base: &str, which: &str, reset: DateTime<Utc>) -> String {
    format!("{base}:n:{which}:{}", reset.timestamp())
}

fn key(account: &str, endpoint: Endpoint) -> String {
    format!("budget:{account}:{}", endpoint.as_str())
}

fn app_key(endpoint: Endpoint) -> String {
    format!("budget-app:{}", endpoint.as_str())
}

fn ttl_ms(latest_reset: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    latest_reset.map(|r| ((r - now).num_seconds().max(0) + KEY_GRACE_SECS) * 1000)
}

/// The value of stored bytes whatever its expiry (to find the windows it named).
fn decode_any<T: DeserializeOwned>(bytes: Option<&[u8]>) -> Option<T> {
    crate::kv::decode_json(bytes?, i64::MIN).ok().flatten()
}

/// The unexpired value of stored bytes (in `Kv::set_json`'s form); anything unreadable counts
/// as absent.
fn decode<T: DeserializeOwned>(bytes: Option<&[u8]>, now: DateTime<Utc>) -> Option<T> {
    crate::kv::decode_json(bytes?, now.timestamp_millis())
        .ok()
        .flatten()
}

fn encode<T: Serialize>(v: T, ttl_ms: Option<i64>, now: DateTime<Utc>) -> Vec<u8> {
    crate::kv::encode_json(&v, ttl_ms, now.timestamp_millis()).unwrap_or_default()
}

/// The stored bytes of an account's budget after merging a response's headers into them.
fn next_budget(current: Option<&[u8]>, rate: &RateHeaders, now: DateTime<Utc>) -> Vec<u8> {
    let old: Budget = decode(current, now).unwrap_or_default();
    let new = Budget {
        main: merge(old.main, rate.main),
        user24: merge(old.user24, rate.user24),
    };
    let latest = [new.main, new.user24]
        .into_iter()
        .flatten()
        .map(|w| w.reset)
        .max();
    encode(new, ttl_ms(latest, now), now)
}

/// The stored bytes of the app's 24-hour window after merging a response's into them.
fn next_app_window(current: Option<&[u8]>, app24: Option<Window>, now: DateTime<Utc>) -> Vec<u8> {
    let old: Option<Window> = decode::<Option<Window>>(current, now).flatten();
    let new = merge(old, app24);
    encode(new, ttl_ms(new.map(|w| w.reset), now), now)
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
