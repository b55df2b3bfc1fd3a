//! X's rate-limit headers, read once: `x-rate-limit-{limit,remaining,reset}` and, on
//! daily-capped endpoints, `x-user-limit-24hour-*` and `x-app-limit-24hour-*`. Pure and below
//! both [`super::error`] (a 429 names the window it exhausted) and [`super::budget`] (windows
//! become budgets), which is why it is a module of its own.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Which budget a 429 exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateScope {
    /// The authenticated user's budget (per account).
    User,
    /// The whole app's budget (shared by every account).
    App,
}

/// The window a 429 refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateWindow {
    Min15,
    Hours24,
}

/// One rate-limit window as X reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    pub remaining: u32,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub reset: DateTime<Utc>,
}

/// The rate-limit headers of one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `x-rate-limit-*`: the endpoint's 15-minute (or 24-hour, on some tiers) window.
    pub main: Option<Window>,
    pub user24: Option<Window>,
    pub app24: Option<Window>,
}

impl RateHeaders {
    /// Reads the headers (names case-insensitive); a window needs at least `remaining` and
    /// `reset` to count.
    pub fn parse<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut raw: [[Option<i64>; 3]; 3] = Default::default();
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            let (which, rest) = if let Some(r) = name.strip_prefix("x-rate-limit-") {
                (0, r)
            } else if let Some(r) = name.strip_prefix("x-user-limit-24hour-") {
                (1, r)
            } else if let Some(r) = name.strip_prefix("x-app-limit-24hour-") {
                (2, r)
            } else {
                continue;
            };
            let field = match rest {
                "limit" => 0,
                "remaining" => 1,
                "reset" => 2,
                _ => continue,
            };
            if let Some(slot) = raw.get_mut(which).and_then(|w| w.get_mut(field)) {
                *slot = value.trim().parse::<i64>().ok();
            }
        }
        let window = |[limit, remaining, reset]: [Option<i64>; 3]| {
            Some(Window {
                limit: limit.and_then(|l| u32::try_from(l).ok()),
                remaining: u32::try_from(remaining?.max(0)).unwrap_or(u32::MAX),
                reset: Utc.timestamp_opt(reset?, 0).single()?,
            })
        };
        RateHeaders {
            main: window(raw[0]),
            user24: window(raw[1]),
            app24: window(raw[2]),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.main.is_none() && self.user24.is_none() && self.app24.is_none()
    }
}

/// The span of the `x-rate-limit-*` window: 15 minutes on most endpoints, but a day on some
/// tiers (the free tier's 17 posts), which only the distance to its reset tells.
pub fn main_window(w: Option<Window>, now: DateTime<Utc>) -> RateWindow {
    match w {
        Some(w) if w.reset - now > Duration::minutes(16) => RateWindow::Hours24,
        _ => RateWindow::Min15,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The instant `secs` after the epoch (also for the budget's tests).
    pub(crate) fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// A window with a known limit (also for the budget's tests).
    pub(crate) fn win(limit: u32, remaining: u32, reset: i64) -> Window {
        Window {
            limit: Some(limit),
            remaining,
            reset: at(reset),
        }
    }

    #[test]
    fn headers_become_windows() {
        let h = RateHeaders::parse([
            ("X-Rate-Limit-Limit", "100"),
            ("x-rate-limit-remaining", "97"),
            ("x-rate-limit-reset", "1900"),
            ("x-user-limit-24hour-limit", "2400"),
            ("x-user-limit-24hour-remaining", "2390"),
            ("x-user-limit-24hour-reset", "86400"),
            ("x-app-limit-24hour-limit", "10000"),
            ("x-app-limit-24hour-remaining", "9000"),
            ("x-app-limit-24hour-reset", "80000"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(h.main, Some(win(100, 97, 1_900)));
        assert_eq!(h.user24, Some(win(2_400, 2_390, 86_400)));
        assert_eq!(h.app24, Some(win(10_000, 9_000, 80_000)));
        let partial = RateHeaders::parse([("x-rate-limit-remaining", "3")]);
        assert!(partial.is_empty(), "a window without a reset is unusable");
        let garbage = RateHeaders::parse([
            ("x-rate-limit-remaining", "lots"),
            ("x-rate-limit-reset", "9"),
        ]);
        assert!(garbage.main.is_none());
    }
}
