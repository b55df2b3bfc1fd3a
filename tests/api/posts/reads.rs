//! Reading posts: workspace isolation and roles, lists and their items.

use super::{in_hours, PostsTest};
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn another_workspaces_posts_are_not_found_and_viewers_cannot_write() {
    // Arrange
    let p = PostsTest::start().await;
    let post = p
        .created(&json!({ "content": "Ours", "accountId": p.account, "scheduledAt": in_hours(2) }))
        .await;
    let id = post["id"].as_str().unwrap();
    let stranger = p.t.app.register("stranger@example.com", "Stranger").await;
    let stranger = stranger["accessToken"].as_str().unwrap();
    let viewer = p.t.member("viewer@example.com", "viewer").await;
    let editor = p.t.member("editor@example.com", "editor").await;
    let body = json!({ "content": "Theirs", "accountId": p.account });

    // Act / Assert: another workspace sees nothing and can change nothing.
    for (method, path, body) in [
        (Method::GET, format!("/api/tweets/{id}"), None),
        (Method::PUT, format!("/api/tweets/{id}"), Some(body.clone())),
        (Method::DELETE, format!("/api/tweets/{id}"), None),
    ] {
        let resp = p.t.call(method, &path, stranger, body.as_ref()).await;
        assert_error_envelope(&resp, 404, "NOT_FOUND");
    }
    let foreign_account =
        p.t.call(Method::POST, "/api/tweets", stranger, Some(&body))
            .await;
    assert_error_envelope(&foreign_account, 422, "VALIDATION_ERROR");
    let list = p.t.app.auth_get("/api/tweets", stranger).await;
    assert_eq!(list.json()["data"]["items"], json!([]));

    // Viewers read; editors write.
    let read =
        p.t.app
            .auth_get(&format!("/api/tweets/{id}"), &viewer)
            .await;
    assert_eq!(read.status, 200, "{}", read.text);
    for (method, path) in [
        (Method::POST, "/api/tweets".to_string()),
        (Method::PUT, format!("/api/tweets/{id}")),
        (Method::DELETE, format!("/api/tweets/{id}")),
    ] {
        let resp = p.t.call(method, &path, &viewer, Some(&body)).await;
        assert_error_envelope(&resp, 403, "AUTHORIZATION_ERROR");
    }
    let by_editor =
        p.t.call(Method::POST, "/api/tweets", &editor, Some(&body))
            .await;
    assert_eq!(by_editor.status, 201, "{}", by_editor.text);
    let unchanged = p.get(id).await.json()["data"].clone();
    assert_eq!(unchanged["content"], "Ours");
    assert_eq!(unchanged["status"], "scheduled");
}

#[tokio::test]
async fn lists_filter_by_status_and_account_and_page_without_repeats() {
    // Arrange
    let p = PostsTest::start().await;
    for i in 0..7 {
        let mut body = json!({ "content": format!("post {i}"), "accountId": p.account });
        if i % 2 == 0 {
            body["scheduledAt"] = json!(in_hours(2 + i));
        }
        p.created(&body).await;
    }

    // Act
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let resp =
            p.t.app
                .auth_get(&format!("/api/tweets?limit=3{cursor}"), &p.t.token)
                .await;
        let data = resp.json()["data"].clone();
        for item in data["items"].as_array().unwrap() {
            seen.push(item["content"].as_str().unwrap().to_string());
        }
        match data["nextCursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let scheduled =
        p.t.app
            .auth_get(
                &format!("/api/tweets?status=scheduled&accountId={}", p.account),
                &p.t.token,
            )
            .await;
    let window =
        p.t.app
            .auth_get(
                &format!(
                    "/api/tweets?from={}&to={}",
                    in_hours(3).replace(':', "%3A"),
                    in_hours(7).replace(':', "%3A")
                ),
                &p.t.token,
            )
            .await;
    let bad =
        p.t.app
            .auth_get("/api/tweets?status=sent", &p.t.token)
            .await;

    // Assert
    let expected: Vec<String> = (0..7).rev().map(|i| format!("post {i}")).collect();
    assert_eq!(seen, expected, "newest first, each once");
    assert_eq!(
        scheduled.json()["data"]["items"].as_array().unwrap().len(),
        4
    );
    let in_window: Vec<Value> = window.json()["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content"].clone())
        .collect();
    assert_eq!(
        in_window,
        [json!("post 4"), json!("post 2")],
        "scheduled 4 h and 6 h ahead, newest first"
    );
    assert_error_envelope(&bad, 422, "VALIDATION_ERROR");

    // Each filter alone, and a status filter paged by its cursor (each shape of filters has a
    // statement of its own in xmp_post_page).
    let contents = |query: String| {
        let p = &p;
        async move {
            let resp =
                p.t.app
                    .auth_get(&format!("/api/tweets?{query}"), &p.t.token)
                    .await;
            let data = resp.json()["data"].clone();
            let items: Vec<String> = data["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{}", resp.text))
                .iter()
                .map(|i| i["content"].as_str().unwrap().to_string())
                .collect();
            (items, data["nextCursor"].as_str().map(str::to_string))
        }
    };
    let (of_account, _) = contents(format!("accountId={}", p.account)).await;
    assert_eq!(of_account, expected);
    let (drafts, _) = contents("status=draft".into()).await;
    assert_eq!(drafts, ["post 5", "post 3", "post 1"]);
    let (first, cursor) = contents("status=scheduled&limit=3".into()).await;
    let (rest, end) = contents(format!(
        "status=scheduled&limit=3&cursor={}",
        cursor.unwrap()
    ))
    .await;
    assert_eq!(first, ["post 6", "post 4", "post 2"]);
    assert_eq!((rest, end), (vec!["post 0".to_string()], None));
}

#[tokio::test]
async fn each_list_item_is_the_post_exactly_as_reading_it_alone_shows_it() {
    // Arrange: a draft, a scheduled post with a poll, one with a quote, a text to escape.
    let p = PostsTest::start().await;
    let bodies = [
        json!({ "content": "a draft", "accountId": p.account }),
        json!({ "content": "which one?", "accountId": p.account, "scheduledAt": in_hours(3),
                "poll": { "options": ["this", "that"], "durationMinutes": 60 } }),
        json!({ "content": "look at this", "accountId": p.account, "scheduledAt": in_hours(5),
                "quoteOf": "1234567890123456789" }),
        // What PostgreSQL must escape when it writes the item out (migration 0018).
        json!({ "content": "She said \"ship it\" \\ then\nleft\t🚀 </script>",
                "accountId": p.account }),
    ];
    for body in &bodies {
        p.created(body).await;
    }

    // Act
    let list = p.t.app.auth_get("/api/tweets", &p.t.token).await;

    // Assert: the same object, field for field, as GET /api/tweets/:id without its thread and
    // history (which only the single post carries).
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.json()["data"]["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), bodies.len());
    for item in &items {
        let mut alone = p.get(item["id"].as_str().unwrap()).await.json()["data"].clone();
        let alone = alone.as_object_mut().unwrap();
        assert!(alone.remove("thread").is_some() && alone.remove("history").is_some());
        assert_eq!(*item, Value::Object(alone.clone()));
        assert!(item["createdAt"].as_str().unwrap().ends_with('Z'), "{item}");
    }
    let sent: Vec<&Value> = bodies.iter().rev().map(|b| &b["content"]).collect();
    let shown: Vec<&Value> = items.iter().map(|i| &i["content"]).collect();
    assert_eq!(shown, sent, "each text exactly as sent, newest first");
    let poll = &items[2];
    assert_eq!(
        (&poll["poll"], &poll["quoteOf"], &poll["account"]["id"]),
        (&bodies[1]["poll"], &Value::Null, &bodies[1]["accountId"])
    );
    assert_eq!(items[1]["quoteOf"], json!("1234567890123456789"));
    assert_eq!(
        (
            &items[0]["scheduledAt"],
            &items[0]["mediaIds"],
            &items[0]["attempts"]
        ),
        (&Value::Null, &json!([]), &json!(0))
    );
}

/// The reads folded into the guard's statement (ARCHITECTURE.md, "A read folded into the
/// guard's statement"): the post, the account list and the caller's workspaces answer as their
/// own reads do, and only once every check passed: a removed member and a revoked session get
/// their error and none of the read's data.
#[tokio::test]
async fn folded_reads_answer_as_their_own_reads_and_only_after_every_check() {
    // Arrange: a post and an account in the owner's workspace, a viewer acting in it.
    let p = PostsTest::start().await;
    let post = p
        .created(
            &json!({ "content": "Folded", "accountId": p.account, "scheduledAt": in_hours(2) }),
        )
        .await;
    let id = post["id"].as_str().unwrap();
    let viewer = p.t.member("viewer@example.com", "viewer").await;
    let ws = p.t.workspace_id().await;
    let as_viewer = |path: String, token: String| {
        let app = &p.t.app;
        let ws = ws.clone();
        async move {
            app.authed(Method::GET, &path, &token, None, &[("x-workspace-id", &ws)])
                .await
        }
    };

    // Act / Assert: each folded read answers what its own read answers.
    let read = as_viewer(format!("/api/tweets/{id}"), viewer.clone()).await;
    assert_eq!(read.status, 200, "{}", read.text);
    for field in [
        "id",
        "content",
        "status",
        "scheduledAt",
        "account",
        "createdAt",
    ] {
        assert_eq!(read.json()["data"][field], post[field], "{field}");
    }
    let list = as_viewer("/api/accounts".into(), viewer.clone()).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.json()["data"]["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{}", list.text);
    assert_eq!(items[0]["id"], p.account.as_str());
    let bad_page = as_viewer("/api/accounts?limit=0".into(), viewer.clone()).await;
    assert_error_envelope(&bad_page, 422, "VALIDATION_ERROR");
    let posts = as_viewer("/api/tweets?limit=1".into(), viewer.clone()).await;
    assert_eq!(posts.status, 200, "{}", posts.text);
    let mut head = post.clone();
    for shown_alone in ["thread", "history"] {
        head.as_object_mut().unwrap().remove(shown_alone);
    }
    assert_eq!(
        posts.json()["data"]["items"],
        json!([head]),
        "{}",
        posts.text
    );
    assert_eq!(posts.json()["data"]["nextCursor"], Value::Null);
    for bad in [
        "/api/tweets?limit=0",
        "/api/tweets?cursor=nope",
        "/api/tweets?from=soon",
    ] {
        let resp = as_viewer(bad.into(), viewer.clone()).await;
        assert_error_envelope(&resp, 422, "VALIDATION_ERROR");
    }
    let profile = p.t.app.auth_get("/api/auth/profile", &viewer).await;
    assert_eq!(profile.status, 200, "{}", profile.text);
    let profile = profile.json()["data"].clone();
    // PATCH answers the profile by its own read; GET folds it.
    let patched =
        p.t.call(
            Method::PATCH,
            "/api/auth/profile",
            &viewer,
            Some(&json!({ "defaultWorkspaceId": ws })),
        )
        .await;
    assert_eq!(patched.json()["data"], profile, "{}", patched.text);
    let roles: Vec<&str> = profile["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "viewer"], "their own, then the shared one");
    let workspaces = p.t.app.auth_get("/api/workspaces", &viewer).await;
    assert_eq!(workspaces.json()["data"]["items"], profile["workspaces"]);

    // A removed member: the shared workspace's reads are 404 and carry none of its data.
    let user_id = profile["id"].as_str().unwrap();
    let removed =
        p.t.call(
            Method::DELETE,
            &format!("/api/workspaces/{ws}/members/{user_id}"),
            &p.t.token,
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    for path in [
        format!("/api/tweets/{id}"),
        "/api/accounts".into(),
        "/api/tweets".into(),
    ] {
        let resp = as_viewer(path.clone(), viewer.clone()).await;
        assert_error_envelope(&resp, 404, "NOT_FOUND");
        assert!(
            !resp.text.contains(&p.account) && !resp.text.contains("Folded"),
            "{path}"
        );
    }
    let profile = p.t.app.auth_get("/api/auth/profile", &viewer).await;
    assert_eq!(
        profile.json()["data"]["workspaces"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // The owner's session revoked: 401, and nothing of their workspace read.
    let owner_logout =
        p.t.call(Method::POST, "/api/auth/logout", &p.t.token, None)
            .await;
    assert_eq!(owner_logout.status, 200, "{}", owner_logout.text);
    for path in [
        format!("/api/tweets/{id}"),
        "/api/tweets".to_string(),
        "/api/accounts".to_string(),
        "/api/auth/profile".to_string(),
        "/api/workspaces".to_string(),
    ] {
        let resp = p.t.app.auth_get(&path, &p.t.token).await;
        assert_error_envelope(&resp, 401, "AUTHENTICATION_ERROR");
        assert!(
            !resp.text.contains(&p.account) && !resp.text.contains("Folded"),
            "{path}"
        );
    }
}
