//! Retries with exponential backoff and full jitter, under a deadline.
//!
//! Only reads and the mutations X treats idempotently (delete, like, unlike, repost, unrepost,
//! media steps) are retried, and only on transient failures (5xx, timeouts, network). A 429 is
//! never retried here: the budget says when to come back, and a retry would only burn quota.
//! `POST /2/tweets` is never retried by the client: X has no idempotency key, so a second
//! attempt after a lost answer could publish twice.

use super::error::XError;
use chrono::{DateTime, Utc};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first delay; it doubles with each retry.
    pub base: Duration,
    pub max_delay: Duration,
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// No retry starts after this much time since the first attempt.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    /// Small numbers: a component answers a person or a scheduler tick, and the scheduler has
    /// its own, longer retry schedule.
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(4),
            max_attempts: 4,
            deadline: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The upper bound of the delay before retry number `retry` (0 for the first retry):
    /// `min(max_delay, base * 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_delay)
    }

    /// Full jitter: uniformly in `[0, ceiling]`, given `unit` in `[0, 1)`. Spreading retries
    /// over the whole interval is what keeps many instances from retrying in lockstep.
    pub fn delay(&self, retry: u32, unit: f64) -> Duration {
        self.ceiling(retry).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The delay before the next attempt, or `None` when attempts are spent or the retry would
    /// start past the deadline. `attempts_made` counts the attempts so far (≥ 1).
    pub fn next_delay(
        &self,
        attempts_made: u32,
        started: DateTime<Utc>,
        now: DateTime<Utc>,
        unit: f64,
    ) -> Option<Duration> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        let delay = self.delay(attempts_made.saturating_sub(1), unit);
        let deadline = started + chrono::Duration::from_std(self.deadline).ok()?;
        let resume = now + chrono::Duration::from_std(delay).ok()?;
        (resume < deadline).then_some(delay)
    }
}

/// Whether a failed call may be tried again by the client.
pub fn should_retry(error: &XError, idempotent: bool) -> bool {
    idempotent && error.is_transient()
}

/// A uniform number in `[0, 1)` from the system's randomness (0.5 if it is unavailable).
pub fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x::rate::{RateScope, RateWindow};
    use chrono::TimeZone;

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let p = RetryPolicy::default();
        let ceilings: Vec<u128> = (0..8).map(|r| p.ceiling(r).as_millis()).collect();
        assert_eq!(ceilings, [200, 400, 800, 1_600, 3_200, 4_000, 4_000, 4_000]);
        assert_eq!(
            p.ceiling(1_000),
            p.max_delay,
            "no overflow on absurd retry numbers"
        );
    }

    #[test]
    fn full_jitter_stays_within_zero_and_the_ceiling() {
        let p = RetryPolicy::default();
        for retry in 0..6 {
            assert_eq!(p.delay(retry, 0.0), Duration::ZERO);
            assert_eq!(p.delay(retry, 1.0), p.ceiling(retry));
            for _ in 0..200 {
                let d = p.delay(retry, random_unit());
                assert!(d <= p.ceiling(retry), "retry {retry}: {d:?}");
            }
        }
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn retries_stop_at_the_attempt_limit_and_the_deadline() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.next_delay(1, t(0), t(100), 1.0),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            p.next_delay(3, t(0), t(100), 1.0),
            Some(Duration::from_millis(800))
        );
        assert_eq!(
            p.next_delay(4, t(0), t(100), 0.0),
            None,
            "four attempts in all"
        );
        assert_eq!(
            p.next_delay(2, t(0), t(9_700), 1.0),
            None,
            "would resume past 10 s"
        );
        assert_eq!(
            p.next_delay(2, t(0), t(9_500), 1.0),
            Some(Duration::from_millis(400))
        );
        assert_eq!(RetryPolicy::none().next_delay(1, t(0), t(0), 0.0), None);
    }

    #[test]
    fn only_transient_failures_of_idempotent_calls_are_retried() {
        assert!(should_retry(&XError::Server { status: 503 }, true));
        assert!(should_retry(&XError::Timeout, true));
        assert!(should_retry(
            &XError::Network {
                detail: String::new()
            },
            true
        ));
        assert!(
            !should_retry(&XError::Server { status: 503 }, false),
            "create post"
        );
        let limited = XError::RateLimited {
            reset_at: t(0),
            scope: RateScope::User,
            window: RateWindow::Min15,
        };
        assert!(!should_retry(&limited, true), "a 429 never burns a retry");
        assert!(!should_retry(
            &XError::UnknownOutcome {
                detail: String::new()
            },
            true
        ));
        assert!(!should_retry(&XError::DuplicateContent, true));
        assert!(!should_retry(
            &XError::Unauthorized {
                detail: String::new()
            },
            true
        ));
    }
}
