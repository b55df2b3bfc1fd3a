//! When a post is captured next, and how the monthly read budget thins the cadence out.
//!
//! A post's counters move fast in its first hours and barely after a week, so captures are due
//! at fixed post ages: 15 min, 1 h, 3 h, 6 h, 12 h, 24 h, then daily to 7 days, then weekly.
//! Non-public metrics (URL and profile clicks) exist only for 30 days, so one more capture is
//! due at 29 days 12 hours, and thinning never skips it.

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// X serves non-public and organic metrics for posts younger than this.
pub const PRIVATE_WINDOW_MS: i64 = 30 * DAY;
/// The last capture that still sees the non-public metrics.
pub const FINAL_PRIVATE_AGE_MS: i64 = 29 * DAY + 12 * HOUR;
/// Accounts (followers, following, posts, listed) are captured this often, at least daily.
pub const ACCOUNT_EVERY_MS: i64 = 6 * HOUR;
/// The most the budget may stretch an interval.
pub const MAX_THINNING: f64 = 16.0;

/// Post ages at which a capture is due, up to four weeks; weekly after that.
const STEPS: &[i64] = &[
    15 * MIN,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    3 * DAY,
    4 * DAY,
    5 * DAY,
    6 * DAY,
    WEEK,
    2 * WEEK,
    3 * WEEK,
    4 * WEEK,
    FINAL_PRIVATE_AGE_MS,
];

/// The first scheduled age strictly after `age_ms`.
fn next_age(age_ms: i64) -> i64 {
    if let Some(s) = STEPS.iter().find(|s| **s > age_ms) {
        return *s;
    }
    // Weekly after four weeks: 5, 6, 7 … weeks.
    (age_ms / WEEK + 1) * WEEK
}

/// When the capture after one taken at `now_ms` is due, for a post published at
/// `published_ms`, with intervals stretched by `thinning` (≥ 1). The final capture of the
/// non-public metrics is never pushed past its age.
pub fn next_capture(published_ms: i64, now_ms: i64, thinning: f64) -> i64 {
    let age = (now_ms - published_ms).max(0);
    let due = published_ms + next_age(age);
    let factor = thinning.clamp(1.0, MAX_THINNING);
    let stretched = now_ms + (((due - now_ms) as f64) * factor) as i64;
    if age < FINAL_PRIVATE_AGE_MS {
        stretched.min(published_ms + FINAL_PRIVATE_AGE_MS)
    } else {
        stretched
    }
}

/// The first capture of a newly registered post is due at 15 minutes (at once for a post that
/// is older, as imported posts are).
pub fn first_capture(published_ms: i64) -> i64 {
    published_ms + STEPS.first().copied().unwrap_or(15 * 60_000)
}

/// Whether a capture at `now_ms` may ask for the non-public metrics.
pub fn wants_private(published_ms: i64, now_ms: i64) -> bool {
    now_ms - published_ms < PRIVATE_WINDOW_MS
}

/// How much to stretch intervals so that the month's reads stay within `budget`: 1 while the
/// share of the budget left is at least the share of the month left, then the ratio of the
/// two (at most [`MAX_THINNING`], also once the budget is spent), so collection slows down
/// near the budget but never stops.
/// A budget of 0 means unlimited.
pub fn thinning(budget: i64, used: i64, month_elapsed: f64) -> f64 {
    if budget <= 0 {
        return 1.0;
    }
    let budget_left = ((budget - used) as f64 / budget as f64).max(0.0);
    let month_left = (1.0 - month_elapsed).clamp(0.0, 1.0);
    if budget_left >= month_left {
        return 1.0;
    }
    if budget_left <= 0.0 {
        return MAX_THINNING;
    }
    (month_left / budget_left).clamp(1.0, MAX_THINNING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_follow_the_decaying_cadence() {
        let p = 1_000_000;
        let cases = [
            (0, 15 * MIN, "just published → 15 min"),
            (15 * MIN, HOUR, "at 15 min → 1 h"),
            (HOUR, 3 * HOUR, "at 1 h → 3 h"),
            (3 * HOUR, 6 * HOUR, "at 3 h → 6 h"),
            (6 * HOUR, 12 * HOUR, "at 6 h → 12 h"),
            (12 * HOUR, DAY, "at 12 h → 24 h"),
            (DAY, 2 * DAY, "daily to a week"),
            (6 * DAY + 5 * MIN, WEEK, "day 6 → day 7"),
            (WEEK, 2 * WEEK, "weekly after"),
            (
                4 * WEEK,
                FINAL_PRIVATE_AGE_MS,
                "the last non-public capture before day 30",
            ),
            (FINAL_PRIVATE_AGE_MS, 5 * WEEK, "weekly again"),
            (10 * WEEK + HOUR, 11 * WEEK, "weekly forever"),
        ];
        for (age, expected, why) in cases {
            assert_eq!(next_capture(p, p + age, 1.0), p + expected, "{why}");
        }
    }

    #[test]
    fn thinning_stretches_intervals_but_keeps_the_final_private_capture() {
        let p = 0;
        assert_eq!(next_capture(p, DAY, 4.0), DAY + 4 * DAY);
        assert_eq!(next_capture(p, 3 * WEEK, 16.0), FINAL_PRIVATE_AGE_MS);
        assert_eq!(next_capture(p, 5 * WEEK, 2.0), 5 * WEEK + 2 * WEEK);
    }

    #[test]
    fn the_first_capture_is_due_at_fifteen_minutes() {
        assert_eq!(first_capture(DAY), DAY + 15 * MIN);
    }

    #[test]
    fn the_budget_thins_the_cadence_out_near_its_end_and_never_stops_it() {
        assert_eq!(thinning(0, 10_000, 0.5), 1.0, "no budget: unlimited");
        assert_eq!(thinning(1_000, 400, 0.5), 1.0, "on pace");
        assert_eq!(
            thinning(1_000, 750, 0.5),
            2.0,
            "a quarter left for half the month"
        );
        assert_eq!(
            thinning(1_000, 1_000, 0.5),
            MAX_THINNING,
            "spent: slowest, not stopped"
        );
        assert_eq!(thinning(1_000, 5_000, 0.9), MAX_THINNING, "overspent");
    }

    #[test]
    fn private_metrics_are_asked_for_only_within_thirty_days() {
        assert!(wants_private(0, PRIVATE_WINDOW_MS - 1));
        assert!(!wants_private(0, PRIVATE_WINDOW_MS));
    }
}
