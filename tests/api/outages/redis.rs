//! Redis shut down mid-run and started again on the same port.

use super::servers::PrivateRedis;
use super::{each_route, summary};
use crate::helpers::Setup;
use std::time::{Duration, Instant};

#[tokio::test]
async fn redis_stopped_mid_run_holds_requests_until_it_is_back_without_a_500_or_a_restart() {
    // Arrange
    let redis = PrivateRedis::start_new();
    let app = Setup::app().redis_at(&redis.url()).spawn().await;
    let user = app.register("outage@example.com", "Outage").await;
    let token = user["accessToken"].as_str().unwrap().to_string();

    // Act: Redis goes away. The first key-value call fails at once (the health check's), and
    // the store's connection manager starts reconnecting, as Spin's does (redis-rs
    // `ConnectionManager`, exponential backoff); calls meanwhile wait for it.
    redis.stop();
    let first = app.get("/api/health").await;
    let stopped = Instant::now();
    let monitor = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let version = app.get("/api/version").await;
        redis.start();
        (version, Instant::now())
    };
    let ((during, done), (version_during, restarted)) = tokio::time::timeout(
        Duration::from_secs(180),
        futures::future::join(
            async { (each_route(&app, &token).await, Instant::now()) },
            monitor,
        ),
    )
    .await
    .expect("requests held by the outage complete once Redis is back");
    let held = done > restarted;
    eprintln!("during the outage:\n{}", summary(&during));
    eprintln!(
        "held requests drained {:?} after Redis restarted ({:?} after it stopped)",
        done.saturating_duration_since(restarted),
        stopped.elapsed()
    );
    let after = each_route(&app, &token).await;

    // Assert: the failing call is a 503 envelope naming key-value, never a 500; what needs no
    // key-value answers throughout; the held requests complete after the restart with what
    // they would have answered anyway; afterwards everything works, without restarting xmp.
    assert_eq!(first.status, 503, "{}", first.text);
    assert_eq!(
        first.json()["data"]["checks"]["keyValue"]["status"],
        "failed",
        "{}",
        first.text
    );
    assert_eq!(version_during.status, 200, "version needs no key-value");
    assert!(held, "requests that count a rate limit wait for the store");
    for (what, r) in during.iter().chain(after.iter()) {
        assert!(
            r.status < 500 || *what == "health",
            "{what}:\n{}\n{}",
            summary(&during),
            summary(&after)
        );
    }
    let expected = [
        ("health", 200),
        ("version", 200),
        ("login", 200),
        ("register", 201),
        ("profile", 200),
        ("accounts", 200),
        ("posts", 200),
        // No account given: the handler's own validation answers, as it would anyway.
        ("create draft", 422),
    ];
    let got: Vec<(&str, u16)> = after.iter().map(|(w, r)| (*w, r.status)).collect();
    assert_eq!(got, expected, "\n{}", summary(&after));
}
