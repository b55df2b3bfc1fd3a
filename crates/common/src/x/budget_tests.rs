//! Budgets: the pure window math, and the key-value store's view of them.

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
