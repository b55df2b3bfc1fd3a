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
mod tests {
    use super::*;
    use crate::x::rate::tests::{at, win};

    #[test]
    fn a_call_fits_until_the_reserve_then_waits_for_the_reset() {
        let p = BudgetPolicy::default();
        let now = at(1_000);
        let b = |remaining| Budget {
            main: Some(win(100, remaining, 1_900)),
            user24: None,
        };
        assert_eq!(check(&b(6), None, &p, now), Ok(()));
        let d = check(&b(5), None, &p, now).unwrap_err();
        assert_eq!(
            (d.until, d.scope, d.window),
            (at(1_900), RateScope::User, RateWindow::Min15)
        );
        assert_eq!(
            check(&b(0), None, &p, at(1_900)),
            Ok(()),
            "a passed reset is a fresh window"
        );
        assert_eq!(
            check(&Budget::default(), None, &p, now),
            Ok(()),
            "unknown means go"
        );
    }

    #[test]
    fn small_limits_keep_no_reserve_but_zero_always_waits() {
        let p = BudgetPolicy::default();
        assert_eq!(p.threshold(Some(17)), 0);
        assert_eq!(p.threshold(Some(100)), 5);
        assert_eq!(p.threshold(None), 0);
        let b = Budget {
            main: Some(win(17, 1, 90_000)),
            user24: None,
        };
        assert_eq!(check(&b, None, &p, at(0)), Ok(()));
        let spent = Budget {
            main: Some(win(17, 0, 90_000)),
            user24: None,
        };
        assert!(check(&spent, None, &p, at(0)).is_err());
    }

    #[test]
    fn the_longest_blocking_window_decides() {
        let p = BudgetPolicy::default();
        let b = Budget {
            main: Some(win(100, 0, 1_900)),
            user24: Some(win(2_400, 0, 80_000)),
        };
        let app = win(10_000, 0, 50_000);
        let d = check(&b, Some(&app), &p, at(1_000)).unwrap_err();
        assert_eq!(
            (d.until, d.window, d.scope),
            (at(80_000), RateWindow::Hours24, RateScope::User)
        );
        let only_app = check(&Budget::default(), Some(&app), &p, at(1_000)).unwrap_err();
        assert_eq!(only_app.scope, RateScope::App);
    }

    #[test]
    fn a_day_long_main_window_is_reported_as_such_and_ties_go_to_the_app() {
        // The free tier: 17 posts a day, every window spent by the same post.
        let h = RateHeaders {
            main: Some(win(17, 0, 86_400)),
            user24: Some(win(17, 0, 86_400)),
            app24: Some(win(17, 0, 86_400)),
        };
        assert_eq!(
            XError::rate_limited(&h, at(0)),
            XError::RateLimited {
                reset_at: at(86_400),
                scope: RateScope::App,
                window: RateWindow::Hours24,
            }
        );
        let only_main = Budget {
            main: h.main,
            user24: None,
        };
        let d = check(&only_main, None, &BudgetPolicy::default(), at(0)).unwrap_err();
        assert_eq!(d.window, RateWindow::Hours24);
    }

    #[test]
    fn merging_keeps_the_lowest_remaining_of_a_window_and_ignores_stale_ones() {
        let old = Some(win(100, 40, 1_900));
        assert_eq!(
            merge(old, Some(win(100, 45, 1_900))),
            old,
            "out-of-order response"
        );
        assert_eq!(
            merge(old, Some(win(100, 30, 1_900))),
            Some(win(100, 30, 1_900))
        );
        assert_eq!(
            merge(old, Some(win(100, 99, 2_800))),
            Some(win(100, 99, 2_800)),
            "new window"
        );
        assert_eq!(merge(old, Some(win(100, 10, 1_000))), old, "stale window");
        assert_eq!(merge(old, None), old);
        assert_eq!(merge(None, Some(win(1, 0, 5))), Some(win(1, 0, 5)));
    }

    #[test]
    fn a_budget_survives_a_round_trip_through_json() {
        let b = Budget {
            main: Some(win(100, 3, 1_900)),
            user24: None,
        };
        let text = serde_json::to_string(&b).unwrap();
        assert_eq!(text, r#"{"main":{"limit":100,"remaining":3,"reset":1900}}"#);
        assert_eq!(serde_json::from_str::<Budget>(&text).unwrap(), b);
    }

    fn rate(main: Window) -> RateHeaders {
        RateHeaders {
            main: Some(main),
            ..RateHeaders::default()
        }
    }

    #[test]
    fn recording_responses_in_any_order_stores_the_lowest_remaining_of_the_window() {
        // Arrange: three responses of one window, as concurrent instances may fold them.
        let now = at(1_000);
        let seen = [
            win(100, 97, 1_900),
            win(100, 95, 1_900),
            win(100, 96, 1_900),
        ];
        let orders = [[0, 1, 2], [1, 0, 2], [2, 1, 0], [0, 2, 1]];

        for order in orders {
            // Act
            let mut stored: Option<Vec<u8>> = None;
            for i in order {
                stored = Some(next_budget(stored.as_deref(), &rate(seen[i]), now));
            }

            // Assert
            let budget: Budget = decode(stored.as_deref(), now).unwrap();
            assert_eq!(budget.main, Some(win(100, 95, 1_900)), "{order:?}");
        }
    }

    #[test]
    fn the_stored_budget_is_kv_json_with_its_expiry_and_an_expired_one_counts_as_absent() {
        // Arrange
        let now = at(1_000);
        let bytes = next_budget(None, &rate(win(100, 3, 1_900)), now);

        // Act
        let text = String::from_utf8(bytes.clone()).unwrap();
        let later = next_budget(Some(&bytes), &rate(win(100, 99, 1_900)), at(1_961));

        // Assert
        assert_eq!(
            text,
            r#"{"v":{"main":{"limit":100,"remaining":3,"reset":1900}},"exp":1960000}"#
        );
        let after_expiry: Budget = decode(Some(&later), at(1_961)).unwrap();
        assert_eq!(after_expiry.main, Some(win(100, 99, 1_900)));
        assert_eq!(decode::<Budget>(Some(b"garbage"), now), None);
    }

    #[test]
    fn counted_calls_lower_the_remaining_and_never_below_zero() {
        assert_eq!(remaining_after(75, 8), 67);
        assert_eq!(remaining_after(75, 0), 75);
        assert_eq!(remaining_after(17, 18), 0, "a 429 past the limit");
        assert_eq!(
            remaining_after(17, -3),
            17,
            "a counter never read as negative"
        );
    }

    #[test]
    fn the_app_window_merges_like_the_account_budget() {
        // Arrange
        let now = at(1_000);
        let first = next_app_window(None, Some(win(10_000, 40, 80_000)), now);

        // Act
        let higher = next_app_window(Some(&first), Some(win(10_000, 45, 80_000)), now);

        // Assert
        assert_eq!(
            decode::<Option<Window>>(Some(&higher), now).flatten(),
            Some(win(10_000, 40, 80_000))
        );
    }
}
