//! Deleting an account: its tokens are revoked at X, and its scheduled posts need `force`.

use super::{AccountsTest, ME};
use crate::helpers::assert_error_envelope;

#[tokio::test]
async fn deleting_an_account_revokes_its_tokens_at_x() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    assert_eq!(t.live_tokens(ME).0.len(), 1);

    // Act
    let deleted = t.delete_account(id, "").await;
    let again = t.delete_account(id, "").await;

    // Assert
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(
        t.live_tokens(ME),
        (vec![], vec![]),
        "nothing valid left at X"
    );
    assert_error_envelope(&again, 404, "NOT_FOUND");
    assert!(t
        .audit_actions()
        .await
        .contains(&"account.deleted".to_string()));
}

#[tokio::test]
async fn deleting_an_account_with_scheduled_posts_needs_force_which_cancels_them() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let ws = t.workspace_id().await;
    let db = t.app.db.client().await;
    db.execute(
        "INSERT INTO posts (id, workspace_id, account_id, content, thread_id, status,
           scheduled_at, normalized_text_hash)
         SELECT p, $1::text::uuid, $2::text::uuid, 'post ' || i, p, s,
                now() + interval '1 hour', repeat('a', 64)
         FROM (SELECT gen_random_uuid() AS p, i,
                      CASE WHEN i <= 2 THEN 'scheduled' ELSE 'draft' END AS s
               FROM generate_series(1, 3) i) x",
        &[&ws, &id],
    )
    .await
    .unwrap();

    // Act
    let refused = t.delete_account(id, "").await;
    let bad_flag = t.delete_account(id, "?force=yes").await;
    let forced = t.delete_account(id, "?force=true").await;

    // Assert
    let err = assert_error_envelope(&refused, 409, "CONFLICT");
    assert_eq!(err["code"], "ACCT_HAS_POSTS");
    assert_eq!(err["details"]["scheduledPosts"], 2);
    assert_error_envelope(&bad_flag, 422, "VALIDATION_ERROR");
    assert_eq!(forced.status, 204, "{}", forced.text);
    let statuses: Vec<(String, bool)> = db
        .query(
            "SELECT status, account_id IS NULL FROM posts ORDER BY content",
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
            ("cancelled".to_string(), true),
            ("cancelled".to_string(), true),
            ("draft".to_string(), true)
        ],
        "pending posts cancelled, history kept"
    );
    assert_eq!(
        t.count_rows("SELECT count(*) FROM post_events WHERE kind = 'cancelled'")
            .await,
        2
    );
}
