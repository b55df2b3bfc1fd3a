//! Key-value stores as Spin has them: the embedded store and Redis, their compare-and-swap
//! and counters.

use crate::helpers::{skip_on_spin, Kv, Setup, TestApp, REDIS_URL};
use serde_json::json;

async fn key_value_round_trip(app: &TestApp) {
    let put = app
        .put_json("/probe/kv/greeting", &json!({"text": "hello"}))
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    let got = app.get("/probe/kv/greeting").await;
    assert_eq!(got.json()["data"]["text"], "hello");
    assert_eq!(app.get("/probe/kv/missing").await.status, 404);

    let first = app
        .request(
            reqwest::Method::POST,
            "/probe/kv/counter/incr?by=5",
            &[],
            None,
        )
        .await;
    let second = app
        .request(
            reqwest::Method::POST,
            "/probe/kv/counter/incr?by=2",
            &[],
            None,
        )
        .await;
    assert_eq!(first.json()["data"]["value"], 5);
    assert_eq!(second.json()["data"]["value"], 7);
}

/// One guest compare-and-swap through the probe: what the guest saw, and the stored value.
async fn compare_and_swap(
    app: &TestApp,
    key: &str,
    value: &str,
    interfere: Option<&str>,
) -> (serde_json::Value, serde_json::Value) {
    let interfere = interfere
        .map(|v| format!("&interfere={v}"))
        .unwrap_or_default();
    let resp = app
        .request(
            reqwest::Method::POST,
            &format!("/probe/kv/{key}/cas?value={value}{interfere}"),
            &[],
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let stored = app.get(&format!("/probe/kvraw/{key}")).await;
    (
        resp.json()["data"].clone(),
        stored.json()["data"]["value"].clone(),
    )
}

#[tokio::test]
async fn spins_redis_compare_and_swap_is_reproduced_every_swap_reports_a_conflict_and_writes_only_without_one(
) {
    // Arrange
    let app = Setup::probe().kv(Kv::Redis).spawn().await;

    // Act
    let (written, written_value) = compare_and_swap(&app, "flag", "on", None).await;
    let (conflict, conflict_value) =
        compare_and_swap(&app, "contended", "mine", Some("theirs")).await;

    // Assert: Spin's `UNWATCH <key>` fails after the transaction, so both report a conflict;
    // the transaction itself wrote only where nothing else had.
    assert_eq!(written["swapped"], false, "{written}");
    assert_eq!(written["error"], "cas-failed", "{written}");
    assert_eq!(
        written_value, "on",
        "the swap wrote although it reported a conflict"
    );
    assert_eq!(conflict["swapped"], false, "{conflict}");
    assert_eq!(conflict["error"], "cas-failed", "{conflict}");
    assert_eq!(
        conflict_value, "theirs",
        "the watched transaction must not write over a concurrent write"
    );
}

#[tokio::test]
async fn compare_and_swap_on_the_embedded_store_is_spins_sqlite_one_a_first_write_races_unseen() {
    // Arrange
    let app = Setup::probe().kv(Kv::Embedded).spawn().await;
    let put = app
        .put_json(
            "/probe/kv/present",
            &serde_json::json!({ "value": "before" }),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.text);

    // Act
    let (written, written_value) = compare_and_swap(&app, "flag", "on", None).await;
    let (seen, seen_value) = compare_and_swap(&app, "present", "mine", Some("theirs")).await;
    let (unseen, unseen_value) = compare_and_swap(&app, "absent", "mine", Some("theirs")).await;

    // Assert
    assert_eq!(written["swapped"], true, "{written}");
    assert_eq!(written_value, "on");
    assert_eq!(seen["swapped"], false, "{seen}");
    assert_eq!(seen["error"], "cas-failed", "{seen}");
    assert_eq!(seen_value, "theirs");
    assert_eq!(
        unseen["swapped"], true,
        "Spin's SQLite store upserts a key that was absent in `current`: {unseen}"
    );
    assert_eq!(unseen_value, "mine", "the concurrent first write is lost");
}

#[tokio::test]
async fn key_value_round_trips_on_the_embedded_store() {
    let app = Setup::probe().kv(Kv::Embedded).spawn().await;
    key_value_round_trip(&app).await;
    assert!(
        app.state_dir.path().join("sqlite_key_value.db").exists(),
        "persisted to a local file"
    );
}

#[tokio::test]
async fn xmp_key_value_round_trips_on_redis_under_the_test_prefix() {
    if skip_on_spin("xmp_key_value_round_trips_on_redis_under_the_test_prefix") {
        return;
    }
    let app = Setup::probe().kv(Kv::Redis).spawn().await;
    key_value_round_trip(&app).await;

    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let counter: Option<String> = redis::cmd("GET")
        .arg(format!("{}probe:counter", app.redis_prefix))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(counter.as_deref(), Some("7"), "the value lives in Redis");
}

#[tokio::test]
async fn the_embedded_store_survives_a_restart() {
    let mut first = Setup::probe().kv(Kv::Embedded).spawn().await;
    first.put_json("/probe/kv/kept", &json!(42)).await;
    let dir = first.state_dir.path().to_path_buf();
    first.stop().await;

    let mut setup = Setup::probe().kv(Kv::Embedded);
    setup.state_dir = Some(dir);
    let second = setup.spawn().await;

    assert_eq!(second.get("/probe/kv/kept").await.json()["data"], 42);
}

#[tokio::test]
async fn the_embedded_store_keeps_counters_as_8_le_bytes_and_an_increment_of_other_bytes_traps_as_on_spin(
) {
    // Arrange
    let app = Setup::probe().kv(Kv::Embedded).spawn().await;
    let put = app
        .put_json("/probe/kv/text", &json!("not a counter"))
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    let incr = |key: &str| format!("/probe/kv/{key}/incr?by=7");

    // Act
    let counted = app
        .request(reqwest::Method::POST, &incr("n"), &[], None)
        .await;
    let raw = app.get("/probe/kvraw/n").await;
    let over_text = app
        .request(reqwest::Method::POST, &incr("text"), &[], None)
        .await;

    // Assert
    assert_eq!(counted.json()["data"]["value"], 7, "{}", counted.text);
    assert_eq!(
        raw.json()["data"]["value"],
        "\u{7}\0\0\0\0\0\0\0",
        "Spin's SQLite store keeps an i64 as 8 little-endian bytes"
    );
    assert_eq!(over_text.status, 500, "{}", over_text.text);
    assert_eq!(over_text.text, "", "Spin's store panics: an empty 500");
}

#[tokio::test]
async fn concurrent_compare_and_swap_and_increment_lose_no_update_on_redis() {
    let app = Setup::probe().kv(Kv::Redis).spawn().await;
    let url = format!("{}/probe/kv/hits/incr", app.address);

    let results = futures::future::join_all((0..50).map(|_| app.client.post(&url).send())).await;

    assert!(results
        .iter()
        .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200)));
    let raw = app.get("/probe/kvraw/hits").await;
    assert_eq!(raw.json()["data"]["value"], "50");
}
