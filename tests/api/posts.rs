//! The tweets component: composing drafts, scheduled posts and threads, validation at the
//! edges, the queue, the duplicate rule, idempotency keys, edits with history, cancellation,
//! roles and workspace isolation.

use crate::accounts::AccountsTest;
use crate::helpers::{assert_error_envelope, Resp};
use reqwest::Method;
use serde_json::{json, Value};

const ME: u64 = xsim::DEFAULT_USER_ID;

struct PostsTest {
    t: AccountsTest,
    account: String,
}

fn in_hours(h: i64) -> String {
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs((h * 3600) as u64);
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    chrono_like(secs)
}

/// RFC 3339 UTC from Unix seconds, without a date library.
fn chrono_like(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl PostsTest {
    async fn start() -> PostsTest {
        let t = AccountsTest::start().await;
        let account = t.connected(ME).await["id"].as_str().unwrap().to_string();
        PostsTest { t, account }
    }

    async fn post(&self, body: &Value) -> Resp {
        self.t
            .call(Method::POST, "/api/tweets", &self.t.token, Some(body))
            .await
    }

    async fn created(&self, body: &Value) -> Value {
        let resp = self.post(body).await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.json()["data"].clone()
    }

    async fn get(&self, id: &str) -> Resp {
        self.t
            .app
            .auth_get(&format!("/api/tweets/{id}"), &self.t.token)
            .await
    }

    async fn validate(&self, body: &Value) -> Value {
        let resp = self
            .t
            .call(
                Method::POST,
                "/api/tweets/validate",
                &self.t.token,
                Some(body),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    async fn posts_count(&self) -> i64 {
        self.t.count_rows("SELECT count(*) FROM posts").await
    }
}

fn history_kinds(post: &Value) -> Vec<String> {
    post["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

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
            p.t.app
                .authed(
                    Method::POST,
                    "/api/tweets",
                    &p.t.token,
                    Some(&body),
                    &[("idempotency-key", "retry-me-1")],
                )
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
async fn queued_posts_take_the_accounts_next_free_slots_in_its_time_zone() {
    // Arrange: a slot every day at 09:00 New York time.
    let p = PostsTest::start().await;
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let slots: Vec<Value> = days
        .iter()
        .map(|d| json!({ "day": d, "time": "09:00" }))
        .collect();
    let resp =
        p.t.call(
            Method::PATCH,
            &format!("/api/accounts/{}", p.account),
            &p.t.token,
            Some(&json!({ "timezone": "America/New_York", "postingSlots": slots })),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);

    // Act
    let mut times = Vec::new();
    for i in 0..3 {
        let post = p
            .created(
                &json!({ "content": format!("queued {i}"), "accountId": p.account, "queue": true }),
            )
            .await;
        assert_eq!(post["queued"], true);
        times.push(post["scheduledAt"].as_str().unwrap().to_string());
    }
    let no_slots_account = p.t.connected(1_700_000_000_000_000_777).await;
    let no_slots = p
        .post(&json!({ "content": "x", "accountId": no_slots_account["id"], "queue": true }))
        .await;

    // Assert: three consecutive days, each at 09:00 in New York (14:00 UTC in winter,
    // 13:00 UTC in summer).
    let db = p.t.app.db.client().await;
    for t in &times {
        let local: String = db
            .query_one(
                "SELECT to_char($1::text::timestamptz AT TIME ZONE 'America/New_York', 'HH24:MI')",
                &[t],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(local, "09:00", "{t}");
    }
    let mut unique = times.clone();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{times:?}");
    assert!(times[0] < times[1] && times[1] < times[2], "{times:?}");
    let err = assert_error_envelope(&no_slots, 409, "CONFLICT");
    assert_eq!(err["code"], "POST_NO_SLOTS");
}

#[tokio::test]
async fn the_next_free_slot_is_correct_across_daylight_saving_changes() {
    // Arrange: the queue's SQL, as the component runs it, at instants around DST changes
    // (times are UTC; the slot is 09:00 local every day).
    let p = PostsTest::start().await;
    let db = p.t.app.db.client().await;
    let cases = [
        // New York springs forward on Sun 8 March 2026 at 02:00 (EST → EDT).
        (
            "America/New_York",
            "09:00",
            "2026-03-07",
            "2026-03-07 15:00Z",
            "2026-03-08 13:00",
        ),
        (
            "America/New_York",
            "09:00",
            "2026-03-07",
            "2026-03-07 13:00Z",
            "2026-03-07 14:00",
        ),
        // New York falls back on Sun 1 November 2026.
        (
            "America/New_York",
            "09:00",
            "2026-10-31",
            "2026-10-31 14:00Z",
            "2026-11-01 14:00",
        ),
        // Berlin springs forward on Sun 29 March 2026 and falls back on Sun 25 October 2026.
        (
            "Europe/Berlin",
            "09:00",
            "2026-03-28",
            "2026-03-28 09:00Z",
            "2026-03-29 07:00",
        ),
        (
            "Europe/Berlin",
            "09:00",
            "2026-10-24",
            "2026-10-24 08:00Z",
            "2026-10-25 08:00",
        ),
    ];

    for (zone, time, from, now, expected) in cases {
        // Act
        let next = next_slot_via_component_sql(&db, zone, time, now).await;

        // Assert
        assert_eq!(next, expected, "{zone}, now {now} (week of {from})");
    }
}

/// Runs `posts::queue::NEXT_FREE_SLOT_SQL` (copied from the crate at build time) for a
/// slot every day at `time`, for an account with no posts.
async fn next_slot_via_component_sql(
    db: &tokio_postgres::Client,
    zone: &str,
    time: &str,
    now: &str,
) -> String {
    let sql = include_str!("../../crates/posts/src/queue.rs");
    let start = sql
        .find("pub const NEXT_FREE_SLOT_SQL: &str = \"\\")
        .unwrap();
    let body = &sql[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let body = &body[..body.find("\";").unwrap()];
    let slots: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({ "day": d, "time": time }))
        .collect();
    let now_secs: i64 = db
        .query_one(
            "SELECT extract(epoch FROM $1::text::timestamptz)::int8",
            &[&now],
        )
        .await
        .unwrap()
        .get(0);
    let account = uuid::Uuid::new_v4();
    let at: i64 = db
        .query_one(
            body,
            &[&zone, &json!(slots).to_string(), &now_secs, &account],
        )
        .await
        .unwrap()
        .get(0);
    db.query_one(
        "SELECT to_char(to_timestamp($1) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')",
        &[&(at as f64)],
    )
    .await
    .unwrap()
    .get(0)
}

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
}

#[tokio::test]
async fn each_list_item_is_the_post_exactly_as_reading_it_alone_shows_it() {
    // Arrange: a draft, a scheduled post with a poll, one with a quote.
    let p = PostsTest::start().await;
    let bodies = [
        json!({ "content": "a draft", "accountId": p.account }),
        json!({ "content": "which one?", "accountId": p.account, "scheduledAt": in_hours(3),
                "poll": { "options": ["this", "that"], "durationMinutes": 60 } }),
        json!({ "content": "look at this", "accountId": p.account, "scheduledAt": in_hours(5),
                "quoteOf": "1234567890123456789" }),
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
    for item in items {
        let mut alone = p.get(item["id"].as_str().unwrap()).await.json()["data"].clone();
        let alone = alone.as_object_mut().unwrap();
        assert!(alone.remove("thread").is_some() && alone.remove("history").is_some());
        assert_eq!(item, Value::Object(alone.clone()));
        assert!(item["createdAt"].as_str().unwrap().ends_with('Z'), "{item}");
    }
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

#[tokio::test]
async fn likes_and_reposts_run_at_x_now_or_are_stored_for_later_and_are_listed() {
    // Arrange: a post published by another X user, and one of ours marked published.
    let p = PostsTest::start().await;
    let other =
        p.t.st()
            .issue_user_token(1_700_000_000_000_000_777, None, None)
            .unwrap();
    let x_post: Value = reqwest::Client::new()
        .post(format!("{}/2/tweets", p.t.sim.base_url()))
        .bearer_auth(&other.access_token)
        .json(&json!({ "text": "worth a like" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x_id = x_post["data"]["id"].as_str().unwrap().to_string();
    let ours = p
        .created(&json!({ "content": "ours", "accountId": p.account }))
        .await;
    let ours_id = ours["id"].as_str().unwrap();
    let db = p.t.app.db.client().await;
    let unpublished_like =
        p.t.call(
            Method::POST,
            &format!("/api/tweets/{ours_id}/like"),
            &p.t.token,
            None,
        )
        .await;
    db.execute(
        "UPDATE posts SET status = 'published', x_post_id = $2, published_at = now()
         WHERE id = $1::text::uuid",
        &[&ours_id, &x_id],
    )
    .await
    .unwrap();

    // Act
    let like =
        p.t.call(
            Method::POST,
            &format!("/api/tweets/{ours_id}/like"),
            &p.t.token,
            Some(&json!({ "accountId": p.account })),
        )
        .await;
    let repost =
        p.t.call(
            Method::POST,
            "/api/engagements",
            &p.t.token,
            Some(&json!({ "accountId": p.account, "action": "repost", "postId": x_id })),
        )
        .await;
    let later =
        p.t.call(
            Method::POST,
            "/api/engagements",
            &p.t.token,
            Some(
                &json!({ "accountId": p.account, "action": "unlike", "postId": x_id,
                          "scheduledAt": in_hours(1) }),
            ),
        )
        .await;
    let missing = p
        .t
        .call(
            Method::POST,
            "/api/engagements",
            &p.t.token,
            Some(&json!({ "accountId": p.account, "action": "like", "postId": "1234567890123456789" })),
        )
        .await;
    let bad_action =
        p.t.call(
            Method::POST,
            "/api/engagements",
            &p.t.token,
            Some(&json!({ "accountId": p.account, "action": "follow", "postId": x_id })),
        )
        .await;
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
    let statuses: Vec<(&str, &str)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["action"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
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

#[tokio::test]
async fn published_posts_are_deleted_on_x_and_posts_in_flight_cannot_be_changed() {
    // Arrange: a thread our account published at X, and a post being published right now.
    let p = PostsTest::start().await;
    let token = p.t.st().issue_user_token(ME, None, None).unwrap();
    let mut x_ids = Vec::new();
    for text in ["published head", "published reply"] {
        let created: Value = reqwest::Client::new()
            .post(format!("{}/2/tweets", p.t.sim.base_url()))
            .bearer_auth(&token.access_token)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        x_ids.push(created["data"]["id"].as_str().unwrap().to_string());
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
    let edit_published =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{pub_id}"),
            &p.t.token,
            Some(&edit),
        )
        .await;
    let edit_in_flight =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{flight_id}"),
            &p.t.token,
            Some(&edit),
        )
        .await;
    let delete_in_flight =
        p.t.call(
            Method::DELETE,
            &format!("/api/tweets/{flight_id}"),
            &p.t.token,
            None,
        )
        .await;
    let deleted =
        p.t.call(
            Method::DELETE,
            &format!("/api/tweets/{pub_id}"),
            &p.t.token,
            None,
        )
        .await;

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
    let edit_failed =
        p.t.call(
            Method::PUT,
            &format!("/api/tweets/{failed_id}"),
            &p.t.token,
            Some(&edit),
        )
        .await;
    let cancel_failed =
        p.t.call(
            Method::DELETE,
            &format!("/api/tweets/{failed_id}"),
            &p.t.token,
            None,
        )
        .await;

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
