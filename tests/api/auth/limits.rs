//! Login throttling and the API rate limit.

use super::profile_status;
use crate::helpers::{assert_error_envelope, Kv, Setup, PASSWORD};

#[tokio::test]
async fn concurrent_login_attempts_past_the_limit_get_429_with_retry_after() {
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("login_limit_per_email", "3")
        .spawn()
        .await;
    app.register("ann@example.com", "Ann").await;

    let attempts = (0..10).map(|i| {
        let app = &app;
        async move {
            app.login("ann@example.com", &format!("guess number {i}"))
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;

    let refused: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    let checked = results.iter().filter(|r| r.status == 401).count();
    assert_eq!(
        (checked, refused.len()),
        (3, 7),
        "exactly the quota is checked"
    );
    for r in &refused {
        assert_error_envelope(r, 429, "RATE_LIMIT_ERROR");
        let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
        // Within the next 15-minute window at the latest.
        assert!((1..=1800).contains(&secs), "Retry-After {secs}");
    }
    let correct = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(correct.status, 429, "even the right password waits");
}

#[tokio::test]
async fn login_attempts_are_limited_per_client_address_across_emails() {
    let app = Setup::app()
        .var("login_limit_per_client", "3")
        .spawn()
        .await;
    app.register("ann@example.com", "Ann").await; // takes one cell

    let a = app.login("x1@example.com", "whatever pw").await;
    let b = app.login("x2@example.com", "whatever pw").await;
    let c = app.login("x3@example.com", "whatever pw").await;

    assert_eq!((a.status, b.status), (401, 401));
    assert_error_envelope(&c, 429, "RATE_LIMIT_ERROR");
    assert!(c.header("retry-after").is_some());
}

#[tokio::test]
async fn authenticated_routes_report_rate_limit_headers_and_refuse_past_the_limit() {
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_limit", "3")
        .var("api_rate_window_seconds", "60")
        .spawn()
        .await;
    let token = app.register("ann@example.com", "Ann").await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();

    let mut remaining = vec![];
    for _ in 0..3 {
        let r = app.auth_get("/api/auth/profile", &token).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-limit"), Some("3"));
        assert!(r.header("ratelimit-reset").is_some());
        remaining.push(r.header("ratelimit-remaining").unwrap().to_string());
    }
    let over = app.auth_get("/api/workspaces", &token).await;

    assert_eq!(remaining, ["2", "1", "0"]);
    assert_error_envelope(&over, 429, "RATE_LIMIT_ERROR");
    // The three requests weigh on the next window until 20 s into it (3 × 40/60 + 1 = 3).
    let retry: i64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((21..=80).contains(&retry), "Retry-After {retry}");
    assert_eq!(over.header("ratelimit-remaining"), Some("0"));
}

#[tokio::test]
async fn a_burst_of_one_users_requests_on_redis_gets_exactly_the_quota_served() {
    // Arrange: Redis, where one user's simultaneous requests reach the same limiter key at once.
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_limit", "40")
        .var("api_rate_window_seconds", "3600")
        .spawn()
        .await;
    let user = app.register("burst@example.com", "Burst").await;
    let token = user["accessToken"].as_str().unwrap().to_string();

    // Act
    let calls = (0..48).map(|_| profile_status(&app, &token));
    let statuses = futures::future::join_all(calls).await;

    // Assert: no request fails on contention, and exactly the quota gets through.
    let served = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((served, refused), (40, 8), "{statuses:?}");
}

#[tokio::test]
async fn a_users_limiter_keeps_at_most_three_keys_however_many_windows_pass() {
    // Arrange: one-second windows, so a few seconds of requests cross several of them.
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_window_seconds", "1")
        .spawn()
        .await;
    let user = app.register("windows@example.com", "Windows").await;
    let token = user["accessToken"].as_str().unwrap().to_string();
    let mut redis = redis::Client::open(app.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let pattern = format!("{}auth:ratelimit:api:*", app.redis_prefix);

    // Act: requests spread over about four and a half windows, the keys counted after each.
    let mut statuses = Vec::new();
    let mut most_keys = 0;
    for _ in 0..15 {
        statuses.push(profile_status(&app, &token).await);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query_async(&mut redis)
            .await
            .unwrap();
        most_keys = most_keys.max(keys.len());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    // Assert: the counters of this and the previous window, and the marker.
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(
        (2..=3).contains(&most_keys),
        "at most 3 keys, saw {most_keys}"
    );
}
