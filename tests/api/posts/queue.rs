//! The queue: the account's next free slots in its time zone.

use super::PostsTest;
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

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
    let sql = include_str!("../../../crates/posts/src/queue.rs");
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
