//! What X's refusals, limits and outages do to scheduled posts and threads.

use super::{SchedTest, ME};
use crate::helpers::now_ms;
use xsim::{FaultKind, Profile};

#[tokio::test]
async fn a_spent_budget_defers_the_post_to_the_reset_without_burning_an_attempt() {
    // Arrange: X's free tier allows 17 posts a day per user.
    let t = SchedTest::start(Profile::Free, 1).await;
    let mut heads = Vec::new();
    for i in 0..18 {
        heads.push(
            t.post(&t.accounts[0].1, &[&format!("free tier {i}")], -1_000)
                .await,
        );
    }

    // Act
    let first = t.tick_at(now_ms()).await;
    let deferred: Vec<_> = {
        let mut v = Vec::new();
        for h in &heads {
            v.push(t.status_of(h).await);
        }
        v
    };
    let waiting = deferred
        .iter()
        .find(|(s, ..)| s == "scheduled")
        .cloned()
        .expect("one post waits");
    let db = t.app.db.client().await;
    let next: i64 = db
        .query_one(
            "SELECT (extract(epoch FROM next_attempt_at) * 1000)::int8 FROM posts
             WHERE status = 'scheduled' AND thread_position = 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // A day passes (at X too): a tick a minute before the reset claims nothing, one after it
    // publishes.
    t.sim.state().clock.advance_secs(24 * 3600 + 60);
    let too_early = t.tick_at(next - 60_000).await;
    let after_reset = t.tick_at(next + 1_000).await;

    // Assert
    assert_eq!(first["published"], 17, "{first}");
    assert_eq!(first["deferred"], 1, "{first}");
    assert_eq!(first["failed"], 0);
    assert_eq!(waiting.2, 0, "no attempt burned: {waiting:?}");
    assert!(
        next > now_ms() + 23 * 3_600_000,
        "deferred to X's 24-hour reset"
    );
    assert_eq!(too_early["claimed"], 0, "{too_early}");
    assert_eq!(after_reset["published"], 1, "{after_reset}");
    assert_eq!(t.statuses().await, [("published".to_string(), 18)]);
    t.assert_exactly_once(18).await;
}

#[tokio::test]
async fn an_account_revoked_at_x_fails_its_posts_with_the_reauth_reason_and_others_publish() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 2).await;
    let mut revoked = Vec::new();
    for i in 0..3 {
        revoked.push(
            t.post(&t.accounts[0].1, &[&format!("revoked {i}")], -1_000)
                .await,
        );
        t.post(&t.accounts[1].1, &[&format!("fine {i}")], -1_000)
            .await;
    }
    t.sim.state().inner.lock().revoke_user(ME);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["published"], 3, "{report}");
    assert_eq!(report["failed"], 3, "{report}");
    for head in &revoked {
        let (status, _, _, error) = t.status_of(head).await;
        assert_eq!(status, "failed");
        assert!(error.unwrap().contains("reconnected"));
    }
    let db = t.app.db.client().await;
    let account_status: String = db
        .query_one(
            "SELECT status FROM x_accounts WHERE id = $1::text::uuid",
            &[&t.accounts[0].1],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(account_status, "needs_reauth");
    assert_eq!(t.x_texts(ME), Vec::<String>::new());
    assert_eq!(t.x_texts(t.accounts[1].0).len(), 3);
}

#[tokio::test]
async fn a_thread_that_fails_at_part_three_resumes_at_part_three() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    let head = t
        .post(
            &t.accounts[0].1,
            &["part one", "part two", "part three", "part four"],
            -1_000,
        )
        .await;
    // X fails the third create with a 503.
    t.fault(FaultKind::Status, 503, 0, 1, 2);

    // Act
    let first = t.tick_at(now_ms()).await;
    let after_first = t.status_of(&head).await;
    let db = t.app.db.client().await;
    let next: i64 = db
        .query_one(
            "SELECT (extract(epoch FROM next_attempt_at) * 1000)::int8 FROM posts WHERE id = $1::text::uuid",
            &[&head],
        )
        .await
        .unwrap()
        .get(0);
    let second = t.tick_at(next + 1).await;

    // Assert
    assert_eq!(first["retrying"], 1, "{first}");
    assert_eq!(after_first.0, "scheduled");
    assert_eq!(second["published"], 1, "{second}");
    let texts = t.x_texts(ME);
    assert_eq!(texts, ["part one", "part two", "part three", "part four"]);
    // Each part replies to the one before it.
    let log = t.sim.state().posts_of(Some(ME));
    for pair in log.windows(2) {
        assert_eq!(
            pair[1]["in_reply_to_tweet_id"]
                .as_str()
                .or(pair[1]["reply_to"].as_str()),
            pair[0]["id"].as_str(),
            "{log:?}"
        );
    }
    assert_eq!(
        t.sim.state().request_count("POST", "/2/tweets"),
        5,
        "3 + the failed one + 1"
    );
    let (status, _, attempts, _) = t.status_of(&head).await;
    assert_eq!(status, "published");
    assert_eq!(attempts, 5, "one attempt per create call");
    t.assert_exactly_once(4).await;
}

#[tokio::test]
async fn a_refusal_fails_at_once_and_an_outage_fails_only_after_the_bounded_retries() {
    // Arrange: X refuses one post (403) and is down (503) for everything after it.
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    let refused = t.post(&t.accounts[0].1, &["refused by X"], -2_000).await;
    t.fault(FaultKind::Status, 403, 0, 1, 0);
    let first = t.tick_at(now_ms()).await;
    let down = t.post(&t.accounts[0].1, &["X is down"], -1_000).await;
    t.fault(FaultKind::Status, 503, 0, 100, 0);

    // Act: tick at each retry time until the post settles.
    let db = t.app.db.client().await;
    let mut ticks = 0;
    loop {
        let due: Option<i64> = db
            .query_one(
                "SELECT (extract(epoch FROM coalesce(next_attempt_at, scheduled_at)) * 1000)::int8
                 FROM posts WHERE id = $1::text::uuid AND status = 'scheduled'",
                &[&down],
            )
            .await
            .ok()
            .map(|r| r.get(0));
        let Some(due) = due else { break };
        t.tick_at(due.max(now_ms()) + 1).await;
        ticks += 1;
        assert!(ticks <= 10, "the retries are bounded");
    }

    // Assert
    assert_eq!(first["failed"], 1, "{first}");
    let (status, _, attempts, error) = t.status_of(&refused).await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.unwrap().contains("X refused the post"));
    let (status, _, attempts, error) = t.status_of(&down).await;
    assert_eq!(status, "failed");
    assert_eq!(attempts, 5, "five attempts in all");
    assert!(
        error.unwrap().contains("5 attempts"),
        "a reason a person can act on"
    );
    assert_eq!(ticks, 5);
    assert!(t.x_texts(ME).is_empty());
}
