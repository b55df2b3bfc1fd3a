//! Ticks that die, run at once or lose the database: every post is published exactly once.

use super::{SchedTest, OTHER};
use crate::helpers::now_ms;
use serde_json::json;
use xsim::{Fault, FaultKind, Profile};

#[tokio::test]
async fn a_tick_that_dies_mid_batch_leaves_leases_that_later_ticks_finish_exactly_once() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    for i in 0..6 {
        t.post(&t.accounts[0].1, &[&format!("batch post {i}")], -1_000)
            .await;
    }

    // Act: the tick traps after publishing two posts of its claimed batch, before the batch's
    // last marks are written.
    let dead = t
        .app
        .post_json(
            "/probe/scheduler/tick",
            &json!({ "now_ms": now_ms(), "trap_at_clock_read": 7, "lease_ms": 30_000 }),
        )
        .await;
    let before_expiry = t.tick_at(now_ms()).await;
    let after_expiry = t.tick_at(now_ms() + 31_000).await;

    // Assert
    assert_eq!(dead.status, 500, "{}", dead.text);
    assert_eq!(
        before_expiry["claimed"], 0,
        "leases still held: {before_expiry}"
    );
    // Every lease is taken over; the two posts on X are found there, not sent again.
    assert_eq!(after_expiry["recovered"], 6, "{after_expiry}");
    assert_eq!(after_expiry["reconciled"], 2, "{after_expiry}");
    assert_eq!(after_expiry["published"], 4, "{after_expiry}");
    assert_eq!(t.statuses().await, [("published".to_string(), 6)]);
    t.assert_exactly_once(6).await;
}

#[tokio::test]
async fn concurrent_ticks_never_publish_a_post_twice() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 3).await;
    for i in 0..45 {
        let account = &t.accounts[i % 3].1;
        t.post(account, &[&format!("concurrent {i}")], -1_000).await;
    }

    // Act
    let now = now_ms();
    let (a, b, c) = tokio::join!(t.tick_at(now), t.tick_at(now), t.tick_at(now));

    // Assert
    let claimed: i64 = [&a, &b, &c]
        .iter()
        .map(|r| r["claimed"].as_i64().unwrap())
        .sum();
    assert_eq!(claimed, 45, "{a} {b} {c}");
    assert_eq!(t.statuses().await, [("published".to_string(), 45)]);
    t.assert_exactly_once(45).await;
}

#[tokio::test]
async fn losing_every_database_connection_mid_run_loses_and_doubles_nothing() {
    // Arrange: X answers slowly so that the run is in flight when the connections die.
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    for i in 0..10 {
        t.post(
            &t.accounts[0].1,
            &[&format!("through a restart {i}")],
            -1_000,
        )
        .await;
    }
    t.fault(FaultKind::Delay, 200, 150, 100, 0);
    let db_name = t.app.db.name.clone();

    // Act: PostgreSQL drops every connection of the database (as a restart does) mid-run.
    let killer = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let admin = crate::helpers::admin().await;
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&db_name],
            )
            .await
            .unwrap();
    };
    let body = json!({ "now_ms": now_ms(), "lease_ms": 20_000 });
    let (interrupted, ()) = tokio::join!(t.app.post_json("/probe/scheduler/tick", &body), killer);
    let mut later = Vec::new();
    for _ in 0..3 {
        // A pooled connection the restart killed can still be handed out once, before its
        // closing is noticed: that tick answers 503 and the next one carries on, as the cron
        // trigger's next tick would.
        let body = json!({ "now_ms": now_ms() + 21_000 });
        let first = t.app.post_json("/probe/scheduler/tick", &body).await;
        if first.status == 503 {
            later.push(t.tick(body).await);
        } else {
            later.push(first.json()["data"].clone());
        }
    }

    // Assert
    assert_eq!(
        interrupted.status, 503,
        "the run was cut: {}",
        interrupted.text
    );
    assert_eq!(
        t.statuses().await,
        [("published".to_string(), 10)],
        "{later:?}"
    );
    t.assert_exactly_once(10).await;
}

#[tokio::test]
async fn one_tick_publishes_different_accounts_at_once_and_each_accounts_posts_in_order() {
    // Arrange: four accounts with two posts each; X takes a while to answer every create.
    let t = SchedTest::start(Profile::Unlimited, 4).await;
    for (_, account) in &t.accounts {
        t.post(account, &["first of the account"], -2_000).await;
        t.post(account, &["second of the account"], -1_000).await;
    }
    t.fault(FaultKind::Delay, 200, 300, 8, 0);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["published"], 8, "{report}");
    let most_at_once = t.sim.state().inner.lock().most_in_flight;
    assert!(
        most_at_once >= 2,
        "the creates were sent one at a time ({most_at_once} at most in flight)"
    );
    for (user, _) in &t.accounts {
        assert_eq!(
            t.x_texts(*user),
            ["first of the account", "second of the account"],
            "one account's posts reach X in their scheduled order"
        );
    }
    t.assert_exactly_once(8).await;
}

#[tokio::test]
async fn an_attempt_is_committed_before_its_create_while_another_lane_refreshes_a_token() {
    // Arrange: two accounts, one post each. The first account's token is about to expire, and
    // X holds its refresh for 2 s, then fails it; the second account's create takes 1 s.
    let t = SchedTest::start(Profile::Unlimited, 2).await;
    let db = t.app.db.client().await;
    db.execute(
        "UPDATE x_accounts SET token_expires_at = now() + interval '30 seconds'
         WHERE id = $1::text::uuid",
        &[&t.accounts[0].1],
    )
    .await
    .unwrap();
    t.post(&t.accounts[0].1, &["waits for its token"], -2_000)
        .await;
    let other = t.post(&t.accounts[1].1, &["sent meanwhile"], -1_000).await;
    t.sim.state().add_fault(Fault {
        method: Some("POST".into()),
        path: "/2/oauth2/token".into(),
        count: 1,
        status: 503,
        delay_ms: 2_000,
        kind: FaultKind::Status,
        skip: 0,
    });
    t.fault(FaultKind::Delay, 200, 1_000, 1, 0);

    // Act: while both calls are at X (the refresh's transaction still open), look at the
    // second post's attempt from another connection.
    let look = async {
        while t.sim.state().inner.lock().in_flight < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        db.query_one(
            "SELECT count(*) FROM post_events WHERE post_id = $1::text::uuid AND kind = 'attempt'",
            &[&other],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
    };
    let (report, seen) = tokio::join!(t.tick_at(now_ms()), look);

    // Assert
    assert_eq!(
        seen, 1,
        "the attempt was committed before its create was sent, not held in the refresh's transaction"
    );
    assert_eq!(report["published"], 1, "{report}");
    assert_eq!(report["retrying"], 1, "{report}");
    assert_eq!(t.x_texts(OTHER + 1), ["sent meanwhile"]);
    t.assert_exactly_once(1).await;
}
