//! What runs at X: likes and reposts now or later, and deleting published posts.

use super::{history_kinds, in_hours, PostsTest, ME};
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn likes_and_reposts_run_at_x_now_or_are_stored_for_later_and_are_listed() {
    // Arrange: a post published by another X user, and one of ours marked published.
    let p = PostsTest::start().await;
    let other =
        p.t.st()
            .issue_user_token(1_700_000_000_000_000_777, None, None)
            .unwrap();
    let x_id = p.post_at_x(&other.access_token, "worth a like").await;
    let ours = p
        .created(&json!({ "content": "ours", "accountId": p.account }))
        .await;
    let ours_id = ours["id"].as_str().unwrap();
    let db = p.t.app.db.client().await;
    let unpublished_like = p.on_post(Method::POST, ours_id, "/like", None).await;
    db.execute(
        "UPDATE posts SET status = 'published', x_post_id = $2, published_at = now()
         WHERE id = $1::text::uuid",
        &[&ours_id, &x_id],
    )
    .await
    .unwrap();

    // Act
    let as_account = json!({ "accountId": p.account });
    let like = p
        .on_post(Method::POST, ours_id, "/like", Some(&as_account))
        .await;
    let repost = p.engage("repost", &x_id, None).await;
    let later = p.engage("unlike", &x_id, Some(in_hours(1))).await;
    let missing = p.engage("like", "1234567890123456789", None).await;
    let bad_action = p.engage("follow", &x_id, None).await;
    let list =
        p.t.app
            .auth_get("/api/engagements?limit=10", &p.t.token)
            .await;

    // Assert
    let err = assert_error_envelope(&unpublished_like, 409, "CONFLICT");
    assert_eq!(err["code"], "POST_NOT_PUBLISHED");
    assert_eq!(like.status, 201, "{}", like.text);
    assert_eq!(like.json()["data"]["status"], "done");
    assert_eq!(repost.status, 201, "{}", repost.text);
    assert_eq!(later.status, 202, "{}", later.text);
    assert_eq!(later.json()["data"]["status"], "scheduled");
    assert_error_envelope(&missing, 404, "NOT_FOUND");
    assert!(
        bad_action.status == 400 || bad_action.status == 422,
        "{}",
        bad_action.text
    );
    let me: u64 = xsim::DEFAULT_USER_ID;
    let x_id_num: u64 = x_id.parse().unwrap();
    {
        let inner = p.t.st().inner.lock();
        assert!(inner.likes.contains(&(me, x_id_num)), "liked at X");
        assert!(inner.retweets.contains(&(me, x_id_num)), "reposted at X");
    }
    let items = list.json()["data"]["items"].clone();
    let statuses = actions_and_statuses(&items);
    assert_eq!(
        statuses,
        [
            ("like", "failed"),
            ("unlike", "scheduled"),
            ("repost", "done"),
            ("like", "done")
        ],
        "{items}"
    );
}

/// Each engagement of a list as (action, status).
fn actions_and_statuses(items: &Value) -> Vec<(&str, &str)> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["action"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn published_posts_are_deleted_on_x_and_posts_in_flight_cannot_be_changed() {
    // Arrange: a thread our account published at X, and a post being published right now.
    let p = PostsTest::start().await;
    let token = p.t.st().issue_user_token(ME, None, None).unwrap();
    let mut x_ids = Vec::new();
    for text in ["published head", "published reply"] {
        x_ids.push(p.post_at_x(&token.access_token, text).await);
    }
    let published = p
        .created(
            &json!({ "content": "published head", "accountId": p.account,
                          "thread": [{ "content": "published reply" }] }),
        )
        .await;
    let in_flight = p
        .created(&json!({ "content": "in flight", "accountId": p.account }))
        .await;
    let (pub_id, flight_id) = (
        published["id"].as_str().unwrap(),
        in_flight["id"].as_str().unwrap(),
    );
    let db = p.t.app.db.client().await;
    db.execute(
        "UPDATE posts SET status = 'published', published_at = now(),
           x_post_id = CASE thread_position WHEN 0 THEN $2 ELSE $3 END
         WHERE thread_id = $1::text::uuid",
        &[&pub_id, &x_ids[0], &x_ids[1]],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE posts SET status = 'publishing', lease_owner = 'tick-1',
           lease_expires_at = now() + interval '1 minute' WHERE id = $1::text::uuid",
        &[&flight_id],
    )
    .await
    .unwrap();
    let edit = json!({ "content": "changed", "accountId": p.account });

    // Act
    let edit_published = p.on_post(Method::PUT, pub_id, "", Some(&edit)).await;
    let edit_in_flight = p.on_post(Method::PUT, flight_id, "", Some(&edit)).await;
    let delete_in_flight = p.on_post(Method::DELETE, flight_id, "", None).await;
    let deleted = p.on_post(Method::DELETE, pub_id, "", None).await;

    let failed = p
        .created(&json!({ "content": "failed one", "accountId": p.account }))
        .await;
    let failed_id = failed["id"].as_str().unwrap();
    db.execute(
        "UPDATE posts SET status = 'failed', last_error = 'X refused it' WHERE id = $1::text::uuid",
        &[&failed_id],
    )
    .await
    .unwrap();
    let edit_failed = p.on_post(Method::PUT, failed_id, "", Some(&edit)).await;
    let cancel_failed = p.on_post(Method::DELETE, failed_id, "", None).await;

    // Assert
    assert_error_envelope(&edit_failed, 409, "CONFLICT");
    assert_eq!(cancel_failed.status, 200, "{}", cancel_failed.text);
    assert_eq!(cancel_failed.json()["data"]["status"], "cancelled");
    for resp in [&edit_published, &edit_in_flight, &delete_in_flight] {
        assert_error_envelope(resp, 409, "CONFLICT");
    }
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    let data = deleted.json()["data"].clone();
    assert_eq!(
        data["status"], "published",
        "it stays published in the history"
    );
    assert!(data["deletedOnXAt"].is_string(), "{data}");
    assert_eq!(history_kinds(&data), ["created", "deleted_on_x"]);
    let log = p.t.st().posts_of(Some(ME));
    let gone: Vec<bool> = log
        .iter()
        .map(|post| post["deleted"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(gone, [true, true], "both parts deleted at X: {log:?}");
}
