//! X answering with 5xx storms or after the timeout.

use crate::helpers::{now_ms, Setup};
use crate::scheduler::SchedTest;
use std::time::Duration;
use xsim::{FaultKind, Profile};

#[tokio::test]
async fn a_5xx_storm_at_x_opens_the_breaker_and_everything_is_published_once_afterwards() {
    // Arrange
    let t = SchedTest::start_with(Profile::Standard, 1, Setup::probe()).await;
    let account = t.accounts[0].1.clone();
    for i in 0..12 {
        t.post(
            &account,
            &[&format!("storm {i} https://example.com/s/{i} #storm")],
            -1_000,
        )
        .await;
    }
    t.fault(FaultKind::Status, 503, 0, 10_000, 0);
    let t0 = now_ms();

    // Act: ticks during the storm, then after it.
    let mut storm = Vec::new();
    for i in 0..3 {
        storm.push(t.tick_at(t0 + i * 10_000).await);
    }
    let sent_in_storm = t.sim.state().request_count("POST", "/2/tweets");
    t.sim.state().inner.lock().faults.clear();
    for i in 0..30 {
        t.tick_at(t0 + 600_000 + i * 300_000).await;
        if t.statuses().await == [("published".to_string(), 12)] {
            break;
        }
    }

    // Assert: the breaker stopped the calls (far fewer than 12 posts x 3 ticks), the posts
    // waited rather than failed, and each is on X once.
    assert!(
        sent_in_storm < 12,
        "the breaker held calls back: {sent_in_storm} creates sent; {storm:?}"
    );
    let db = t.app.db.client().await;
    let breaker_deferrals: i64 = db
        .query_one(
            "SELECT count(*) FROM post_events WHERE kind = 'deferred'
               AND details->>'reason' LIKE '%circuit breaker%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        breaker_deferrals > 0,
        "posts were deferred by the open breaker"
    );
    assert_eq!(t.statuses().await, [("published".to_string(), 12)]);
    t.assert_exactly_once(12).await;
}

#[tokio::test]
async fn x_answering_after_the_timeout_still_publishes_each_post_once() {
    // Arrange: X creates the post but answers after the client's 2 s timeout, three times.
    let t = SchedTest::start_with(Profile::Standard, 1, Setup::probe()).await;
    let account = t.accounts[0].1.clone();
    for i in 0..3 {
        t.post(
            &account,
            &[&format!("slow {i} 日本語 https://example.com/slow/{i}")],
            -1_000,
        )
        .await;
    }
    t.fault(FaultKind::Delay, 200, 2_500, 3, 0);
    let t0 = now_ms();

    // Act
    let mut reports = Vec::new();
    for i in 0..20 {
        reports.push(t.tick_at(t0 + i * 120_000).await);
        if t.statuses().await == [("published".to_string(), 3)] {
            break;
        }
        // X's late creates land while the tick has moved on.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }

    // Assert
    assert_eq!(
        t.statuses().await,
        [("published".to_string(), 3)],
        "{reports:?}"
    );
    t.assert_exactly_once(3).await;
}
