//! Composing drafts, scheduled posts and threads, and validation at the edges.

use super::{history_kinds, in_hours, PostsTest};
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn drafts_scheduled_posts_and_threads_are_created_read_edited_and_cancelled_with_history() {
    // Arrange
    let p = PostsTest::start().await;
    let at = in_hours(3);
    let later = in_hours(5);

    // Act
    let draft = p
        .created(&json!({ "content": "A draft", "accountId": p.account }))
        .await;
    let scheduled = p
        .created(&json!({
            "content": "Thread start", "accountId": p.account, "scheduledAt": at,
            "thread": [{ "content": "part two" }, { "content": "part three" }],
        }))
        .await;
    let id = scheduled["id"].as_str().unwrap();
    let edited =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{id}"),
            &p.t.token,
            Some(
                &json!({ "content": "Thread start, edited", "accountId": p.account,
                          "scheduledAt": later, "thread": [{ "content": "only part two" }] }),
            ),
        )
        .await;
    let cancelled =
        p.t.call(
            Method::DELETE,
            &format!("/api/tweets/{id}"),
            &p.t.token,
            None,
        )
        .await;
    let edit_cancelled =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{id}"),
            &p.t.token,
            Some(&json!({ "content": "again", "accountId": p.account })),
        )
        .await;
    let read = p.get(id).await.json()["data"].clone();

    // Assert
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["scheduledAt"], Value::Null);
    assert_eq!(draft["account"]["username"], xsim::DEFAULT_USERNAME);
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["scheduledAt"].as_str().unwrap()[..19], at[..19]);
    assert_eq!(scheduled["thread"].as_array().unwrap().len(), 2);
    assert_eq!(edited.status, 200, "{}", edited.text);
    let edited = edited.json()["data"].clone();
    assert_eq!(edited["content"], "Thread start, edited");
    assert_eq!(edited["thread"][0]["content"], "only part two");
    assert_eq!(edited["thread"].as_array().unwrap().len(), 1);
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json()["data"]["status"], "cancelled");
    let err = assert_error_envelope(&edit_cancelled, 409, "CONFLICT");
    assert_eq!(err["code"], "POST_NOT_EDITABLE");
    assert_eq!(
        history_kinds(&read),
        ["created", "rescheduled", "edited", "cancelled"],
        "{read}"
    );
    assert_eq!(p.posts_count().await, 3, "draft + head + one part");
}

#[tokio::test]
async fn a_new_post_is_written_whole_and_answers_what_its_read_answers() {
    // Arrange: no active account yet.
    let p = PostsTest::start().await;
    let body = json!({
        "content": "Which one?", "accountId": p.account, "scheduledAt": in_hours(6),
        "replyTo": "1234567890", "poll": { "options": ["this", "that"], "durationMinutes": 60 },
        "thread": [{ "content": "part two" }, { "content": "part three" }],
    });

    // Act
    let unnamed = p.post(&json!({ "content": "no account named" })).await;
    let unknown = p
        .post(&json!({ "content": "a stranger's", "accountId": uuid::Uuid::now_v7() }))
        .await;
    let headers = [
        ("x-correlation-id", "corr-create-1"),
        ("user-agent", "create-test/1.0"),
    ];
    let created = p.post_with(&body, &headers).await;

    // Assert: the two refusals name the field and write nothing.
    for (resp, why) in [
        (&unnamed, "required"),
        (&unknown, "not an account of this workspace"),
    ] {
        let err = assert_error_envelope(resp, 422, "VALIDATION_ERROR");
        assert_eq!(err["details"]["errors"][0]["field"], "accountId", "{err}");
        assert_eq!(err["details"]["errors"][0]["message"], why, "{err}");
    }
    assert_eq!(created.status, 201, "{}", created.text);
    let post = created.json()["data"].clone();
    let id = post["id"].as_str().unwrap();
    assert_eq!(
        p.get(id).await.json()["data"],
        post,
        "the answer is the post as read"
    );
    assert_eq!(post["replyTo"], "1234567890");
    assert_eq!(post["poll"]["options"], json!(["this", "that"]));
    let parts: Vec<(i64, &str)> = post["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["position"].as_i64().unwrap(),
                t["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(parts, [(1, "part two"), (2, "part three")]);
    assert_eq!(history_kinds(&post), ["created"]);
    assert_eq!(post["history"][0]["details"]["parts"], 3);
    assert_eq!(
        p.posts_count().await,
        3,
        "the head and its two parts, nothing else"
    );
    let log =
        p.t.app
            .auth_get("/api/audit?action=post.created", &p.t.token)
            .await;
    let rows = log.json()["data"]["items"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{}", log.text);
    assert_eq!(rows[0]["targetId"], id);
    assert_eq!(rows[0]["correlationId"], "corr-create-1");
    assert_eq!(rows[0]["userAgent"], "create-test/1.0");
    assert_eq!(rows[0]["details"]["accountId"], p.account.as_str());
    assert_eq!(rows[0]["details"]["status"], "scheduled");
}

#[tokio::test]
async fn validation_counts_weighted_length_at_the_edges_and_create_enforces_the_same_rules() {
    // Arrange
    let p = PostsTest::start().await;
    let url = format!("https://example.com/{}", "a".repeat(100));
    let cases: Vec<(String, i64, bool, &str)> = vec![
        ("a".repeat(280), 280, true, "280 ASCII"),
        ("a".repeat(281), 281, false, "281 ASCII"),
        ("漢".repeat(140), 280, true, "140 CJK count double"),
        ("漢".repeat(141), 282, false, "141 CJK"),
        ("👍".repeat(140), 280, true, "140 emoji count double"),
        ("👨‍👩‍👧‍👦".repeat(141), 282, false, "a ZWJ family is one emoji"),
        (
            format!("{} {url}", "a".repeat(256)),
            280,
            true,
            "a long URL counts 23",
        ),
        (
            format!("{} {url}", "a".repeat(257)),
            281,
            false,
            "one more character",
        ),
        (
            "e\u{301}".repeat(280),
            280,
            true,
            "NFC first: e + combining accent is one",
        ),
    ];

    for (content, weighted, valid, why) in cases {
        // Act
        let report = p.validate(&json!({ "content": content })).await;
        let created = p
            .post(&json!({ "content": content, "accountId": p.account, "allowDuplicate": true }))
            .await;

        // Assert
        assert_eq!(report["weightedLength"], weighted, "{why}: {report}");
        assert_eq!(report["valid"], valid, "{why}");
        assert_eq!(report["remaining"], 280 - weighted, "{why}");
        if valid {
            assert_eq!(created.status, 201, "{why}: {}", created.text);
        } else {
            assert_error_envelope(&created, 422, "VALIDATION_ERROR");
        }
    }
}

#[tokio::test]
async fn polls_quotes_replies_and_schedules_are_checked_and_every_error_is_reported_at_once() {
    // Arrange
    let p = PostsTest::start().await;
    let poll = |options: Value, minutes: i64| {
        json!({ "content": "Which?", "accountId": p.account,
                "poll": { "options": options, "durationMinutes": minutes } })
    };
    let valid = [
        poll(json!(["a", "b"]), 5),
        poll(json!(["a", "b", "c", "d"]), 10_080),
        poll(json!(["a", "x".repeat(25)]), 60),
    ];
    let invalid = [
        (poll(json!(["only one"]), 60), "poll.options"),
        (poll(json!(["a", "b", "c", "d", "e"]), 60), "poll.options"),
        (poll(json!(["a", "x".repeat(26)]), 60), "poll.options[1]"),
        (poll(json!(["a", "b"]), 4), "poll.durationMinutes"),
        (poll(json!(["a", "b"]), 10_081), "poll.durationMinutes"),
        (
            json!({ "content": "q", "accountId": p.account, "quoteOf": "123",
                    "poll": { "options": ["a", "b"], "durationMinutes": 60 } }),
            "quoteOf",
        ),
        (
            json!({ "content": "q", "accountId": p.account, "replyTo": "12x" }),
            "replyTo",
        ),
        (
            json!({ "content": "q", "accountId": p.account, "scheduledAt": "2020-01-01T00:00:00Z" }),
            "scheduledAt",
        ),
        (
            json!({ "content": "q", "accountId": p.account, "scheduledAt": "2027-01-01T09:00:00" }),
            "scheduledAt",
        ),
        (
            json!({ "content": "q", "accountId": p.account, "mediaIds": ["1", "2", "3", "4", "5"] }),
            "mediaIds",
        ),
    ];

    // Act / Assert
    for body in valid {
        let resp = p.post(&body).await;
        assert_eq!(resp.status, 201, "{body}: {}", resp.text);
    }
    for (body, field) in invalid {
        let before = p.posts_count().await;
        let resp = p.post(&body).await;
        let err = assert_error_envelope(&resp, 422, "VALIDATION_ERROR");
        let fields: Vec<&str> = err["details"]["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{err}"))
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{field} in {fields:?}"
        );
        assert_eq!(p.posts_count().await, before, "nothing written for {body}");
    }
    let many = p
        .post(&json!({ "content": "", "accountId": "nope", "replyTo": "x",
                       "thread": [{ "content": "" }] }))
        .await;
    let err = assert_error_envelope(&many, 422, "VALIDATION_ERROR");
    assert!(
        err["details"]["errors"].as_array().unwrap().len() >= 4,
        "{err}"
    );
}

#[tokio::test]
async fn a_poll_duration_may_be_written_with_a_zero_fraction_as_json_allows() {
    // Arrange (found by the contract run: `60.0` was a 422 VAL_003)
    let p = PostsTest::start().await;
    let body = json!({ "content": "Which?", "accountId": p.account,
                       "poll": { "options": ["a", "b"], "durationMinutes": 60.0 } });

    // Act
    let resp = p.post(&body).await;

    // Assert
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        p.get(resp.json()["data"]["id"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn text_with_the_nul_character_is_refused_with_422_and_nothing_is_stored() {
    // Arrange (found by the contract run: PostgreSQL refuses U+0000 in text, which was a 500)
    let p = PostsTest::start().await;
    let before = p.posts_count().await;

    // Act
    let resp = p
        .post(&json!({ "content": "a\u{0}b", "accountId": p.account }))
        .await;

    // Assert
    let err = assert_error_envelope(&resp, 422, "VALIDATION_ERROR");
    assert_eq!(err["code"], "VAL_010", "{err}");
    assert_eq!(p.posts_count().await, before);
}

#[tokio::test]
async fn a_thread_whose_author_was_deleted_can_still_be_edited_and_its_new_parts_have_no_author() {
    // Arrange: an editor writes a thread, then their user is deleted (the posts keep no author).
    let p = PostsTest::start().await;
    let editor = p.t.member("editor@example.com", "editor").await;
    let created =
        p.t.call(
            Method::POST,
            "/api/tweets",
            &editor,
            Some(&json!({ "content": "By the editor", "accountId": p.account,
                          "scheduledAt": in_hours(3), "thread": [{ "content": "part two" }] })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["data"]["id"].as_str().unwrap().to_string();
    let db = p.t.app.db.client().await;
    db.execute("DELETE FROM users WHERE email = 'editor@example.com'", &[])
        .await
        .unwrap();

    // Act: the owner edits it, with one part more than before.
    let edited =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{id}"),
            &p.t.token,
            Some(
                &json!({ "content": "By the editor, edited", "accountId": p.account,
                          "thread": [{ "content": "part two" }, { "content": "part three" }] }),
            ),
        )
        .await;

    // Assert
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.json()["data"]["thread"].as_array().unwrap().len(), 2);
    let authored =
        p.t.count_rows("SELECT count(*) FROM posts WHERE author_id IS NOT NULL")
            .await;
    assert_eq!(authored, 0, "no part may name a user that does not exist");
    assert_eq!(p.posts_count().await, 3);
}
