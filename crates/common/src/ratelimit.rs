//! Sliding-window rate limiting in key-value, with atomic increments only.
//!
//! A limiter counts requests per fixed window of `window_secs` (aligned to the Unix epoch), one
//! counter key per window, and allows a request while the previous window's count, weighted by
//! the share of that window still inside the sliding window that ends now, plus the current
//! window's count (this request included) stays within the limit.
//!
//! Every operation on a counter is an atomic increment (a read is an increment by 0), so
//! simultaneous requests of one subject on any number of instances never conflict and never
//! retry: each gets its own count, and exactly `limit` of a burst are allowed. A denied request
//! takes its count back. The window's first request folds the previous window's count into the
//! current counter's high bits, so an allowed request costs one increment. Counters are written only by increments and the marker only by plain
//! writes, because Spin's SQLite store keeps integers written by `increment` apart from byte
//! values. The first request of a window deletes the counters older than the previous window,
//! named by the marker, so a subject holds at most three keys. `now` is a parameter so tests
//! drive the clock.

use crate::error::{AppError, Code, ErrorKind};
use crate::kv::Kv;
use crate::log::{self, Level};
use serde_json::json;

/// At most `limit` requests in any `window_secs`; a fresh limiter allows `limit` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window_secs: u32,
}

impl Quota {
    pub fn new(limit: u32, window_secs: u32) -> Quota {
        Quota {
            limit: limit.max(1),
            window_secs: window_secs.max(1),
        }
    }

    fn window_ms(&self) -> i64 {
        self.window_secs as i64 * 1000
    }
}

/// The answer for one request, with what the `RateLimit-*` headers report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Milliseconds until the current window ends.
    pub reset_ms: i64,
    /// Milliseconds until the next request would be allowed (0 when allowed).
    pub retry_after_ms: i64,
}

impl Decision {
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds).
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("RateLimit-Limit", self.limit.to_string()),
            ("RateLimit-Remaining", self.remaining.to_string()),
            (
                "RateLimit-Reset",
                ((self.reset_ms + 999) / 1000).to_string(),
            ),
        ]
    }

    /// The 429 for a denial, carrying the headers as well as `Retry-After`.
    pub fn error(&self, code: Code) -> AppError {
        let mut err = AppError::rate_limited(code, self.retry_after_ms);
        for (k, v) in self.headers() {
            err = err.with_header(k, v);
        }
        err
    }
}

/// What a limiter does when its store cannot be reached, decided per purpose (ARCHITECTURE.md,
/// "Rate limits when key-value is down").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenDown {
    /// Let the request through, with a warning in the log: the limit protects capacity, and a
    /// key-value outage should not take the API down with it.
    FailOpen,
    /// Refuse with the store's 503: the limit guards something (passwords) that must not go
    /// unguarded.
    FailClosed,
}

impl Decision {
    /// The decision when the count could not be taken: allowed, the full quota reported.
    pub fn uncounted(quota: Quota) -> Decision {
        Decision {
            allowed: true,
            limit: quota.limit,
            remaining: quota.limit,
            reset_ms: quota.window_ms(),
            retry_after_ms: 0,
        }
    }
}

/// The decision for a request that made the current window's count `current` (itself
/// included), with `previous` counted in the window before. All arithmetic is in integers:
/// the weighted estimate is scaled by the window length.
pub fn decide(previous: i64, current: i64, now_ms: i64, quota: Quota) -> Decision {
    let w = quota.window_ms();
    let limit = quota.limit as i64;
    let elapsed = now_ms.rem_euclid(w);
    let previous = previous.max(0);
    let current = current.max(1);
    // estimate × w = previous × (w − elapsed) + current × w
    let scaled = previous * (w - elapsed) + current * w;
    let allowed = scaled <= limit * w;
    let remaining = ((limit * w - scaled).max(0) / w).clamp(0, limit) as u32;
    let retry_after_ms = if allowed {
        0
    } else {
        retry_after(previous, current - 1, elapsed, w, limit)
    };
    Decision {
        allowed,
        limit: quota.limit,
        remaining,
        reset_ms: w - elapsed,
        retry_after_ms,
    }
}

/// When one more request would fit, given the counts without the refused one: later in this
/// window as the previous window's weight falls, or else in the next window, where this
/// window's count becomes the weighted one.
fn retry_after(previous: i64, current: i64, elapsed: i64, w: i64, limit: i64) -> i64 {
    let room = limit - current - 1;
    if previous > 0 && room >= 0 {
        // previous × (w − elapsed − d) ≤ room × w
        let d = (w - elapsed) - room * w / previous;
        if d < w - elapsed {
            return d.max(1);
        }
    }
    // In the next window, at e: current × (w − e) + w ≤ limit × w
    let e = if current > 0 {
        (w - (limit - 1) * w / current).max(0)
    } else {
        0
    };
    (w - elapsed) + e
}

/// The first request of a window adds (previous window's count + 1) to the window's counter,
/// shifted above the count's bits, so that every later request reads both counts from its one
/// increment. A request whose increment shows nothing folded yet (it came before the fold)
/// reads the previous counter itself: nothing depends on the fold having happened.
const FOLD_SHIFT: u32 = 32;
const COUNT_MASK: i64 = (1 << FOLD_SHIFT) - 1;
/// Counts above this are weighted as this (no quota comes near it); keeps the sum in an i64.
const MAX_FOLDED: i64 = 1 << 30;

/// Rate limiters stored in key-value under `ratelimit:<name>:<subject>:<window>`.
pub struct Limiter<'a> {
    kv: &'a Kv,
}

impl<'a> Limiter<'a> {
    pub fn new(kv: &'a Kv) -> Limiter<'a> {
        Limiter { kv }
    }

    /// Counts one request of `subject`, atomically across instances: one increment, except
    /// for the requests that find the previous window's count not yet folded in (see
    /// [`FOLD_SHIFT`]) and for denials, which take their count back.
    pub fn take(
        &self,
        name: &str,
        subject: &str,
        quota: Quota,
        now_ms: i64,
    ) -> Result<Decision, AppError> {
        let base = format!("ratelimit:{name}:{subject}");
        let window = now_ms.div_euclid(quota.window_ms());
        let counter = |n: i64| format!("{base}:{n}");
        let value = self.kv.increment(&counter(window), 1)?;
        let current = value & COUNT_MASK;
        let previous = match value >> FOLD_SHIFT {
            0 => {
                let previous = self.kv.increment(&counter(window - 1), 0)? & COUNT_MASK;
                if current == 1 {
                    let folded = (previous + 1).min(MAX_FOLDED);
                    self.kv.increment(&counter(window), folded << FOLD_SHIFT)?;
                    self.forget_before(&base, window)?;
                }
                previous
            }
            folded => folded - 1,
        };
        let decision = decide(previous, current, now_ms, quota);
        if !decision.allowed {
            self.kv.increment(&counter(window), -1)?;
        }
        Ok(decision)
    }

    /// [`Limiter::take`], with `when_down` deciding what an unreachable store means. Only an
    /// unavailable store fails open; any other error is returned.
    pub fn take_or(
        &self,
        name: &str,
        subject: &str,
        quota: Quota,
        now_ms: i64,
        when_down: WhenDown,
        correlation_id: &str,
    ) -> Result<Decision, AppError> {
        match self.take(name, subject, quota, now_ms) {
            Err(e)
                if e.kind() == ErrorKind::ServiceUnavailable && when_down == WhenDown::FailOpen =>
            {
                log::emit(
                    Level::Warn,
                    correlation_id,
                    "rate limit store unavailable: failing open",
                    json!({
                        "limiter": name, "code": e.code, "fingerprint": e.fingerprint(),
                        "cause": e.cause,
                    }),
                );
                Ok(Decision::uncounted(quota))
            }
            other => other,
        }
    }

    /// Run by the first request of `window`: deletes the counters of windows before the previous
    /// one (the marker names the last window that ran this), then moves the marker.
    fn forget_before(&self, base: &str, window: i64) -> Result<(), AppError> {
        let marker = format!("{base}:last");
        let last = self
            .kv
            .get_raw(&marker)?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<i64>().ok());
        match last {
            Some(last) => {
                for old in [last - 1, last] {
                    if old < window - 1 {
                        self.kv.delete(&format!("{base}:{old}"))?;
                    }
                }
            }
            // No marker yet: a subject limited before counters existed kept one key (its GCRA
            // time) under the bare name.
            None => self.kv.delete(base)?,
        }
        self.kv.set_raw(&marker, window.to_string().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    /// Counts `n` requests in a row at `now`, as the counters would.
    fn burst(previous: i64, n: i64, now: i64, quota: Quota) -> Vec<Decision> {
        (1..=n).map(|c| decide(previous, c, now, quota)).collect()
    }

    #[test]
    fn a_fresh_limiter_allows_the_limit_at_once_then_refuses_until_the_window_moves_on() {
        let quota = Quota::new(3, 60);
        let start = 100 * MINUTE; // the start of a window
        let decisions = burst(0, 4, start, quota);
        let allowed: Vec<bool> = decisions.iter().map(|d| d.allowed).collect();
        let remaining: Vec<u32> = decisions.iter().map(|d| d.remaining).collect();
        assert_eq!(allowed, [true, true, true, false]);
        assert_eq!(remaining, [2, 1, 0, 0]);
        let denied = &decisions[3];
        // Next window, 20 s in: 3 × (40/60) + 1 = 3 fits.
        assert_eq!(denied.retry_after_ms, MINUTE + 20_000);
        assert_eq!(denied.reset_ms, MINUTE);
        assert!(!decide(3, 1, start + MINUTE + 19_999, quota).allowed);
        assert!(decide(3, 1, start + MINUTE + 20_000, quota).allowed);
    }

    #[test]
    fn the_previous_window_weighs_by_the_share_still_inside_the_sliding_window() {
        let quota = Quota::new(10, 60);
        let halfway = 100 * MINUTE + 30_000;
        // 10 last minute, half of it still counts: 5 more fit, the 6th does not.
        let decisions = burst(10, 6, halfway, quota);
        assert!(decisions[..5].iter().all(|d| d.allowed));
        assert!(!decisions[5].allowed);
        assert_eq!(decisions[4].remaining, 0);
        // 10 × (w − e) + 6w ≤ 10w  ⇔  e ≥ 36 s: 6 s from now.
        assert_eq!(decisions[5].retry_after_ms, 6_000);
        assert!(decide(10, 6, halfway + 6_000, quota).allowed);
        assert!(!decide(10, 6, halfway + 5_999, quota).allowed);
    }

    #[test]
    fn a_limiter_with_no_recent_requests_allows_with_the_whole_quota_left() {
        let quota = Quota::new(5, 10);
        let d = decide(0, 1, 1_000_000, quota);
        assert!(d.allowed);
        assert_eq!(d.remaining, 4);
    }

    #[test]
    fn a_denial_reports_retry_after_in_whole_seconds_and_headers() {
        let quota = Quota::new(1, 60);
        let denied = decide(0, 2, 100 * MINUTE + 500, quota);
        let err = denied.error(Code::RateLimited);
        assert_eq!(err.status(), 429);
        // With a limit of 1 the refused request's window weighs on the next one until it ends.
        assert_eq!(err.retry_after, Some(120));
        assert!(err
            .headers
            .iter()
            .any(|(k, v)| k == "RateLimit-Remaining" && v == "0"));
        assert!(err
            .headers
            .iter()
            .any(|(k, v)| k == "RateLimit-Reset" && v == "60"));
    }
}
