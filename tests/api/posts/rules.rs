//! The rules around writing: the duplicate rule, idempotency keys, what counts as an edit,
//! paused accounts and all-or-nothing bulk imports.

use super::{history_kinds, in_hours, PostsTest};
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn the_same_text_on_the_same_account_within_24_hours_is_a_conflict_unless_allowed() {
    // Arrange
    let p = PostsTest::start().await;
    p.created(
        &json!({ "content": "Launch day!", "accountId": p.account, "scheduledAt": in_hours(2) }),
    )
    .await;

    // Act
    let again = p
        .post(&json!({ "content": "  launch   DAY! ", "accountId": p.account, "scheduledAt": in_hours(10) }))
        .await;
    let next_week = p
        .post(&json!({ "content": "Launch day!", "accountId": p.account, "scheduledAt": in_hours(200) }))
        .await;
    let allowed = p
        .post(&json!({ "content": "Launch day!", "accountId": p.account,
                       "scheduledAt": in_hours(3), "allowDuplicate": true }))
        .await;

    // Assert
    let err = assert_error_envelope(&again, 409, "CONFLICT");
    assert_eq!(err["code"], "POST_DUPLICATE");
    assert_eq!(next_week.status, 201, "{}", next_week.text);
    assert_eq!(allowed.status, 201, "{}", allowed.text);
    assert_eq!(p.posts_count().await, 3, "the refused post wrote nothing");
    let log =
        p.t.app
            .auth_get("/api/audit?action=post.created", &p.t.token)
            .await;
    assert_eq!(
        log.json()["data"]["items"].as_array().map(Vec::len),
        Some(3),
        "{}",
        log.text
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response_and_refuses_a_different_body() {
    // Arrange
    let p = PostsTest::start().await;
    let body =
        json!({ "content": "Exactly once", "accountId": p.account, "scheduledAt": in_hours(4) });
    let send = |body: Value| {
        let p = &p;
        async move {
            p.post_with(&body, &[("idempotency-key", "retry-me-1")])
                .await
        }
    };

    // Act
    let (first, concurrent) = tokio::join!(send(body.clone()), send(body.clone()));
    let replay = send(body.clone()).await;
    let different = send(json!({ "content": "Something else", "accountId": p.account })).await;

    // Assert
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(concurrent.status, 201, "{}", concurrent.text);
    assert_eq!(replay.status, 201, "{}", replay.text);
    let id = first.json()["data"]["id"].clone();
    assert_eq!(concurrent.json()["data"]["id"], id);
    assert_eq!(replay.json()["data"]["id"], id);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let err = assert_error_envelope(&different, 409, "CONFLICT");
    assert_eq!(err["code"], "IDEMPOTENCY_MISMATCH");
    assert_eq!(p.posts_count().await, 1);
}

#[tokio::test]
async fn a_reschedule_that_also_changes_a_later_part_the_poll_or_the_quote_is_an_edit_too() {
    // Arrange: three scheduled posts: a thread, a poll, a quote.
    let p = PostsTest::start().await;
    let (at, later) = (in_hours(3), in_hours(5));
    let thread = json!({ "content": "Thread", "accountId": p.account, "scheduledAt": at,
                         "thread": [{ "content": "part two" }] });
    let poll = json!({ "content": "Poll", "accountId": p.account, "scheduledAt": at,
                       "poll": { "options": ["a", "b"], "durationMinutes": 60 } });
    let quote = json!({ "content": "Quote", "accountId": p.account, "scheduledAt": at,
                        "quoteOf": "1234567890123456789" });
    let mut ids = Vec::new();
    for body in [&thread, &poll, &quote] {
        ids.push(p.created(body).await["id"].as_str().unwrap().to_string());
    }

    // Act: each is moved to a later time and changed only where the old check did not look;
    // then one is moved again with nothing else changed.
    let mut changed = [thread.clone(), poll.clone(), quote.clone()];
    changed[0]["thread"][0]["content"] = json!("part two, reworded");
    changed[1]["poll"]["options"] = json!(["a", "c"]);
    changed[2]["quoteOf"] = json!("1234567890123456790");
    for (id, body) in ids.iter().zip(changed.iter_mut()) {
        body["scheduledAt"] = json!(later);
        let resp =
            p.t.call(
                Method::PUT,
                &format!("/api/tweets/{id}"),
                &p.t.token,
                Some(body),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
    }
    let mut moved_only = changed[0].clone();
    moved_only["scheduledAt"] = json!(in_hours(7));
    let resp =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{}", ids[0]),
            &p.t.token,
            Some(&moved_only),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);

    // Assert: every change is in the history; a move alone is a reschedule alone.
    let thread_history = history_kinds(&p.get(&ids[0]).await.json()["data"]);
    assert_eq!(
        thread_history,
        ["created", "rescheduled", "edited", "rescheduled"]
    );
    for id in &ids[1..] {
        let read = p.get(id).await.json()["data"].clone();
        assert_eq!(
            history_kinds(&read),
            ["created", "rescheduled", "edited"],
            "{read}"
        );
    }
}

#[tokio::test]
async fn a_paused_account_cannot_get_scheduled_posts_but_keeps_drafts() {
    // Arrange
    let p = PostsTest::start().await;
    let resp =
        p.t.call(
            Method::PATCH,
            &format!("/api/accounts/{}", p.account),
            &p.t.token,
            Some(&json!({ "paused": true })),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);

    // Act
    let scheduled = p
        .post(&json!({ "content": "later", "accountId": p.account, "scheduledAt": in_hours(2) }))
        .await;
    let draft = p
        .post(&json!({ "content": "draft", "accountId": p.account }))
        .await;
    let switched =
        p.t.call(
            Method::POST,
            &format!("/api/accounts/{}/switch", p.account),
            &p.t.token,
            None,
        )
        .await;
    let active_default = p.post(&json!({ "content": "no account named" })).await;

    // Assert
    let err = assert_error_envelope(&scheduled, 409, "CONFLICT");
    assert_eq!(err["code"], "POST_ACCOUNT_INACTIVE");
    assert_eq!(draft.status, 201, "{}", draft.text);
    assert_eq!(p.posts_count().await, 2, "the refused post wrote nothing");
    assert_eq!(switched.status, 200);
    assert_eq!(active_default.status, 201, "{}", active_default.text);
    assert_eq!(
        active_default.json()["data"]["account"]["id"],
        p.account.as_str()
    );
}

#[tokio::test]
async fn a_bulk_import_is_all_or_nothing_with_errors_by_row() {
    // Arrange
    let p = PostsTest::start().await;
    let (a, b, c) = (in_hours(2), in_hours(30), in_hours(60));
    let good_csv = format!(
        "content,accountId,scheduledAt\r\n\"Hello, world\",{acc},{a}\r\n\"She said \"\"hi\"\"\",{acc},{b}\r\nThird,{acc},{c}\r\n",
        acc = p.account
    );
    let bad_csv = format!(
        "content,accountId,scheduledAt\nfine,{acc},{a}\n{long},{acc},{b}\nalso fine,{acc},2020-01-01T00:00:00Z\n",
        acc = p.account,
        long = "x".repeat(281)
    );
    let duplicate_json = json!([
        { "content": "Same words", "accountId": p.account, "scheduledAt": a },
        { "content": "Same words", "accountId": p.account, "scheduledAt": in_hours(3) },
    ]);
    let import = |body: String, content_type: &'static str| {
        let p = &p;
        async move {
            let bearer = format!("Bearer {}", p.t.token);
            p.t.app
                .request(
                    Method::POST,
                    "/api/tweets/bulk",
                    &[
                        ("authorization", bearer.as_str()),
                        ("content-type", content_type),
                    ],
                    Some(body.into_bytes()),
                )
                .await
        }
    };

    // Act
    let bad = import(bad_csv, "text/csv").await;
    let duplicates = import(duplicate_json.to_string(), "application/json").await;
    let after_failures = p.posts_count().await;
    let good = import(good_csv, "text/csv; charset=utf-8").await;
    let wrong_type = import("a,b".into(), "text/plain").await;

    // Assert
    let err = assert_error_envelope(&bad, 422, "VALIDATION_ERROR");
    let rows: Vec<i64> = err["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [2, 3], "{err}");
    let err = assert_error_envelope(&duplicates, 422, "VALIDATION_ERROR");
    assert_eq!(err["details"]["errors"][0]["row"], 2, "{err}");
    assert_eq!(err["details"]["errors"][0]["code"], "POST_DUPLICATE");
    assert_eq!(after_failures, 0, "a failed import changes nothing");
    assert_eq!(good.status, 201, "{}", good.text);
    assert_eq!(good.json()["data"]["created"], 3);
    assert_eq!(p.posts_count().await, 3);
    let list = p.t.app.auth_get("/api/tweets", &p.t.token).await.json()["data"]["items"].clone();
    let contents: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content"].as_str().unwrap())
        .collect();
    assert!(contents.contains(&"She said \"hi\""), "{contents:?}");
    assert!(contents.contains(&"Hello, world"), "{contents:?}");
    assert_error_envelope(&wrong_type, 415, "UNSUPPORTED_MEDIA_TYPE");
}
