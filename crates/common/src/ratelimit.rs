//! GCRA (generic cell rate algorithm) rate limiting in key-value.
//!
//! The state of one limiter is a single number, its theoretical arrival time (TAT) in Unix
//! milliseconds. Deciding is a pure function of (stored TAT, now, quota); storing uses
//! compare-and-swap, so two instances deciding at once cannot both spend the same cell: the
//! loser reads again and decides again. `now` is a parameter so tests drive the clock.

use crate::error::AppError;
use crate::kv::{Kv, Swap};

/// `limit` requests per `window_secs`, refilling smoothly; a full bucket allows `limit` at once.
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

    /// Milliseconds between two cells.
    fn interval_ms(&self) -> i64 {
        (self.window_secs as i64 * 1000 / self.limit as i64).max(1)
    }

    fn tolerance_ms(&self) -> i64 {
        self.interval_ms() * self.limit as i64
    }
}

/// The answer for one request, with what the `RateLimit-*` headers report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: i64,
    /// Milliseconds until the next request would be allowed (0 when allowed).
    pub retry_after_ms: i64,
    /// The TAT to store when allowed.
    new_tat: i64,
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
    pub fn error(&self, code: &'static str) -> AppError {
        let mut err = AppError::rate_limited(code, self.retry_after_ms);
        for (k, v) in self.headers() {
            err = err.with_header(k, v);
        }
        err
    }
}

/// GCRA: allow when `now >= TAT + interval - tolerance`; the new TAT is `max(TAT, now) + interval`.
pub fn decide(stored_tat: Option<i64>, now_ms: i64, quota: Quota) -> Decision {
    let t = quota.interval_ms();
    let tau = quota.tolerance_ms();
    let tat = stored_tat.unwrap_or(now_ms).max(now_ms);
    let new_tat = tat + t;
    let allow_at = new_tat - tau;
    if now_ms < allow_at {
        let remaining = 0;
        return Decision {
            allowed: false,
            limit: quota.limit,
            remaining,
            reset_ms: tat - now_ms,
            retry_after_ms: allow_at - now_ms,
            new_tat: tat,
        };
    }
    let remaining = ((now_ms + tau - new_tat) / t).clamp(0, quota.limit as i64) as u32;
    Decision {
        allowed: true,
        limit: quota.limit,
        remaining,
        reset_ms: new_tat - now_ms,
        retry_after_ms: 0,
        new_tat,
    }
}

/// Rate limiters stored in key-value under `ratelimit:<name>:<subject>`.
pub struct Limiter<'a> {
    kv: &'a Kv,
}

/// Attempts before giving up on a key that other instances keep changing.
const MAX_CAS_ATTEMPTS: usize = 8;

impl<'a> Limiter<'a> {
    pub fn new(kv: &'a Kv) -> Limiter<'a> {
        Limiter { kv }
    }

    /// Takes one cell for `subject`, atomically across instances.
    pub fn take(
        &self,
        name: &str,
        subject: &str,
        quota: Quota,
        now_ms: i64,
    ) -> Result<Decision, AppError> {
        let key = format!("ratelimit:{name}:{subject}");
        let mut last = None;
        for _ in 0..MAX_CAS_ATTEMPTS {
            let mut decision = None;
            let swap = self.kv.compare_and_swap(&key, |current| {
                let stored = current
                    .as_deref()
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|s| s.trim().parse::<i64>().ok());
                let d = decide(stored, now_ms, quota);
                // A denial writes back what it read: the CAS still proves nobody moved it.
                let bytes = if d.allowed {
                    d.new_tat.to_string().into_bytes()
                } else {
                    current.unwrap_or_default()
                };
                decision = Some(d);
                bytes
            })?;
            if swap == Swap::Done {
                if let Some(d) = decision {
                    return Ok(d);
                }
            }
            last = decision;
        }
        // Many requests of one subject at the same instant keep changing the key. A denial read
        // under contention is still a denial; an allowance that could not be recorded lets the
        // request through: the limiter errs on the caller's side rather than failing requests
        // (a burst may then exceed the quota by the requests that raced).
        crate::log::emit(
            crate::log::Level::Warn,
            "",
            "rate limiter kept conflicting; allowing",
            serde_json::json!({ "key": key }),
        );
        Ok(last.unwrap_or_else(|| decide(None, now_ms, quota)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_allows_the_limit_at_once_then_refuses_until_a_cell_refills() {
        let quota = Quota::new(3, 60); // one cell every 20 s
        let now = 1_000_000;
        let mut tat = None;
        let mut remaining = vec![];
        for _ in 0..3 {
            let d = decide(tat, now, quota);
            assert!(d.allowed);
            remaining.push(d.remaining);
            tat = Some(d.new_tat);
        }
        assert_eq!(remaining, vec![2, 1, 0]);
        let denied = decide(tat, now, quota);
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after_ms, 20_000);
        assert_eq!(denied.reset_ms, 60_000);
        assert!(
            !decide(tat, now + 19_999, quota).allowed,
            "not yet refilled"
        );
        let later = decide(tat, now + 20_000, quota);
        assert!(later.allowed, "one cell refilled after the interval");
        assert_eq!(later.remaining, 0);
    }

    #[test]
    fn an_idle_limiter_is_full_again_after_the_window() {
        let quota = Quota::new(5, 10);
        let d = decide(Some(1_000), 1_000_000, quota);
        assert!(d.allowed);
        assert_eq!(d.remaining, 4);
    }

    #[test]
    fn a_denial_reports_retry_after_in_whole_seconds_and_headers() {
        let quota = Quota::new(1, 60);
        let first = decide(None, 0, quota);
        let denied = decide(Some(first.new_tat), 500, quota);
        let err = denied.error("RATE_001");
        assert_eq!(err.status(), 429);
        assert_eq!(err.retry_after, Some(60));
        assert!(err
            .headers
            .iter()
            .any(|(k, v)| k == "RateLimit-Remaining" && v == "0"));
    }
}
