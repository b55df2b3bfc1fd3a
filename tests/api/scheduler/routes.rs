//! The scheduler component's HTTP tick route, and engagements due in the tick.

use super::{SchedTest, ME};
use crate::helpers::{assert_error_envelope, now_ms, Setup};
use serde_json::{json, Value};
use xsim::Profile;

#[tokio::test]
async fn the_http_tick_needs_the_scheduler_secret() {
    // Arrange
    let app = Setup::app()
        .var("scheduler_secret", "tick-secret-0123456789")
        .spawn()
        .await;
    let call = |auth: Option<&'static str>| {
        let app = &app;
        async move {
            let mut headers = vec![];
            if let Some(a) = auth {
                headers.push(("authorization", a));
            }
            app.request(
                reqwest::Method::POST,
                "/internal/scheduler/tick",
                &headers,
                None,
            )
            .await
        }
    };

    // Act
    let none = call(None).await;
    let wrong = call(Some("Bearer nope")).await;
    let right = call(Some("Bearer tick-secret-0123456789")).await;

    // Assert
    assert_error_envelope(&none, 401, "AUTHENTICATION_ERROR");
    assert_error_envelope(&wrong, 401, "AUTHENTICATION_ERROR");
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(right.json()["data"]["claimed"], 0);
}

#[tokio::test]
async fn due_engagements_run_in_the_tick_and_future_ones_wait() {
    // Arrange: another user's post, a like due now and a repost due in an hour.
    let t = SchedTest::start(Profile::Standard, 2).await;
    let author = t.accounts[1].0;
    let token = t.sim.state().issue_user_token(author, None, None).unwrap();
    let created: Value = reqwest::Client::new()
        .post(format!("{}/2/tweets", t.sim.base_url()))
        .bearer_auth(&token.access_token)
        .json(&json!({ "text": "like me" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x_id = created["data"]["id"].as_str().unwrap().to_string();
    let db = t.app.db.client().await;
    for (action, due_in_ms) in [("like", -1_000_i64), ("repost", 3_600_000)] {
        db.execute(
            "INSERT INTO engagements (id, workspace_id, account_id, action, x_post_id, scheduled_at)
             VALUES (gen_random_uuid(), $1::text::uuid, $2::text::uuid, $3, $4,
                     now() + $5::int8 * interval '1 millisecond')",
            &[&t.ws, &t.accounts[0].1, &action, &x_id, &due_in_ms],
        )
        .await
        .unwrap();
    }

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["engagements"]["done"], 1, "{report}");
    let statuses: Vec<(String, String)> = db
        .query(
            "SELECT action, status FROM engagements ORDER BY action",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        statuses,
        [
            ("like".to_string(), "done".to_string()),
            ("repost".to_string(), "scheduled".to_string())
        ]
    );
    let liked = t
        .sim
        .state()
        .inner
        .lock()
        .likes
        .contains(&(ME, x_id.parse::<u64>().unwrap()));
    assert!(liked, "the like reached X");
}
