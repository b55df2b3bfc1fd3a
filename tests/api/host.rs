//! The host against Spin's behaviour, through the `probe` fixture component.

use crate::helpers::{skip_on_spin, spin_bin, Kv, Setup, TestApp, REDIS_URL};
use serde_json::json;
use std::time::{Duration, Instant};

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

#[tokio::test]
async fn spin_variable_environment_overrides_the_manifest_default() {
    let default = Setup::probe().spawn().await;
    let overridden = Setup::probe()
        .env("SPIN_VARIABLE_PROBE_MESSAGE", "from-env")
        .spawn()
        .await;

    assert_eq!(
        default.get("/probe/var/probe_message").await.json()["data"]["value"],
        "from-default"
    );
    assert_eq!(
        overridden.get("/probe/var/probe_message").await.json()["data"]["value"],
        "from-env"
    );
    let unmapped = default.get("/probe/var/database_host").await;
    assert_eq!(
        unmapped.status, 404,
        "a variable not mapped into the component is undefined"
    );
}

#[tokio::test]
async fn xmp_a_required_variable_without_a_value_refuses_to_start_with_a_clear_message() {
    if skip_on_spin("xmp_a_required_variable_without_a_value_refuses_to_start_with_a_clear_message")
    {
        return;
    }
    let err = TestApp::try_start(Setup::probe().var("database_url", ""))
        .await
        .unwrap_err();

    let text = format!("{err:#}");
    assert!(text.contains("database_url"), "{text}");
    assert!(text.contains("SPIN_VARIABLE_DATABASE_URL"), "{text}");
}

/// A one-shot HTTP server answering 200 to anything.
async fn tiny_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    });
    port
}

#[tokio::test]
async fn outbound_http_reaches_allowed_hosts_and_is_denied_elsewhere() {
    let allowed = tiny_server().await;
    let other = tiny_server().await;
    let app = Setup::probe()
        .var("probe_allowed_host", &format!("127.0.0.1:{allowed}"))
        .spawn()
        .await;

    let ok = app
        .get(&format!("/probe/outbound?url=http://127.0.0.1:{allowed}/"))
        .await;
    let denied_port = app
        .get(&format!("/probe/outbound?url=http://127.0.0.1:{other}/"))
        .await;
    let denied_host = app
        .get(&format!("/probe/outbound?url=http://localhost:{allowed}/"))
        .await;

    assert_eq!(ok.json()["data"]["status"], 200, "{}", ok.text);
    for (resp, why) in [
        (denied_port, "other port"),
        (denied_host, "localhost is not 127.0.0.1"),
    ] {
        let error = resp.json()["data"]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(error.contains("HttpRequestDenied"), "{why}: {}", resp.text);
    }
}

#[tokio::test]
async fn postgres_is_reachable_only_at_allowed_addresses() {
    let app = Setup::probe().spawn().await;
    let own = app.db.client().await;
    own.batch_execute(
        "CREATE TABLE probe_marker (id int); INSERT INTO probe_marker VALUES (1), (2);",
    )
    .await
    .unwrap();

    let ok = app.get("/probe/pg").await;
    let mine = app
        .get("/probe/pg?sql=SELECT%20id%20FROM%20probe_marker")
        .await;
    let denied = app
        .get("/probe/pg?url=postgres://postgres@localhost:5432/postgres")
        .await;

    assert_eq!(ok.json()["data"]["rows"], 1, "{}", ok.text);
    assert_eq!(
        mine.json()["data"]["rows"],
        2,
        "the component uses this test's database: {}",
        mine.text
    );
    let error = denied.json()["data"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("ConnectionFailed") && error.contains("not permitted"),
        "{}",
        denied.text
    );
}

#[tokio::test]
async fn a_timestamptz_column_fails_as_it_does_on_spin_so_code_must_cast_it() {
    let app = Setup::probe().spawn().await;

    let raw = app.get("/probe/pg?sql=SELECT%20now()%20AS%20t").await;
    let cast = app
        .get("/probe/pg?sql=SELECT%20(extract(epoch%20FROM%20now())*1000)::int8%20AS%20t")
        .await;

    assert!(
        raw.json()["data"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("timestamptz")),
        "{}",
        raw.text
    );
    assert_eq!(cast.json()["data"]["rows"], 1, "{}", cast.text);
}

#[tokio::test]
async fn the_cron_trigger_fires_every_second() {
    let app = Setup::probe().spawn().await;
    let deadline = Instant::now() + Duration::from_secs(5);

    let mut fired = 0;
    while Instant::now() < deadline && fired < 2 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        // Read through an increment of 0: counters are stored differently by each store.
        let resp = app
            .request(
                reqwest::Method::POST,
                "/probe/kv/cron-fired/incr?by=0",
                &[],
                None,
            )
            .await;
        fired = resp.json()["data"]["value"].as_i64().unwrap_or(0);
    }

    assert!(fired >= 2, "cron fired {fired} times in 5 s");
    let last = app.get("/probe/kv/cron-last").await.json()["data"]
        .as_u64()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(last) < 10,
        "metadata timestamp is Unix seconds: {last} vs {now}"
    );
}

#[tokio::test]
async fn a_trap_is_spins_empty_500_and_is_logged_with_a_fingerprint() {
    let app = Setup::probe().spawn().await;

    let resp = app
        .request(
            reqwest::Method::GET,
            "/probe/trap",
            &[("x-correlation-id", "trap-1")],
            None,
        )
        .await;

    assert_eq!(resp.status, 500);
    assert_eq!(resp.text, "", "Spin answers a trap with an empty body");
    let on_spin = spin_bin().is_some();
    let guest_output = app
        .wait_for_log(|l| {
            l.contains("secret-internal-detail") && (on_spin || l.starts_with("[probe] "))
        })
        .await;
    assert!(guest_output.is_some(), "guest stderr reaches the log");
    if on_spin {
        return; // Spin's own log lines are its business; xmp's are checked below.
    }
    let logged = app
        .log_lines()
        .into_iter()
        .find(|l| l.contains("guest trapped") && l.contains("trap-1"));
    let logged: serde_json::Value = serde_json::from_str(&logged.expect("trap logged")).unwrap();
    assert_eq!(logged["fingerprint"].as_str().unwrap().len(), 16);
}

#[tokio::test]
async fn a_path_no_route_matches_is_spins_empty_404() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    let probe = crate::helpers::root().join("target/wasm32-wasip2/release/probe.wasm");
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"only-probe\"\n\
             [[trigger.http]]\nroute = \"/probe/...\"\ncomponent = \"probe\"\n\
             [component.probe]\nsource = \"{}\"\n",
            probe.display()
        ),
    )
    .unwrap();
    let app = Setup::with_manifest(manifest).spawn().await;

    let resp = app.get("/nowhere").await;

    assert_eq!(resp.status, 404);
    assert_eq!(resp.text, "");
}

#[tokio::test]
async fn xmp_a_request_past_its_cpu_deadline_is_interrupted() {
    if skip_on_spin("xmp_a_request_past_its_cpu_deadline_is_interrupted") {
        return;
    }
    let mut setup = Setup::probe();
    setup.cpu_limit = Duration::from_millis(300);
    let app = setup.spawn().await;

    let endless = app.get("/probe/busy").await;
    let short = app.get("/probe/busy?ms=50").await;

    assert_eq!((endless.status, endless.text.as_str()), (500, ""));
    assert_eq!(short.status, 200, "a request within budget completes");
}

#[tokio::test]
async fn xmp_a_request_past_its_memory_limit_fails_and_the_next_one_works() {
    if skip_on_spin("xmp_a_request_past_its_memory_limit_fails_and_the_next_one_works") {
        return;
    }
    let mut setup = Setup::probe();
    setup.memory_limit = 64 << 20;
    let app = setup.spawn().await;

    let big = app.get("/probe/alloc?mb=100").await;
    let small = app.get("/probe/alloc?mb=8").await;

    assert_eq!((big.status, big.text.as_str()), (500, ""));
    assert_eq!(small.status, 200);
}

#[tokio::test]
async fn components_receive_spins_request_headers() {
    let app = Setup::probe().spawn().await;

    let resp = app.get("/probe/spin/abc?x=1").await;

    let headers = &resp.json()["data"]["headers"];
    assert_eq!(
        headers["spin-full-url"],
        format!("{}/probe/spin/abc?x=1", app.address)
    );
    assert_eq!(headers["spin-path-info"], "/spin/abc");
    assert_eq!(headers["spin-matched-route"], "/probe/...");
    assert_eq!(headers["spin-raw-component-route"], "/probe/...");
    assert_eq!(headers["spin-component-route"], "/probe");
    assert_eq!(headers["spin-base-path"], "/");
    assert!(headers["spin-client-addr"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
}

#[tokio::test]
async fn xmp_stopping_the_test_host_lets_in_flight_requests_finish() {
    // The in-process stop the tests use for restarts. Spin, and `xmp up`, stop at once on
    // SIGTERM and cut what is in flight (crates/host/tests/sigterm.rs).
    if skip_on_spin("xmp_stopping_the_test_host_lets_in_flight_requests_finish") {
        return;
    }
    let mut app = Setup::probe().spawn().await;
    let url = format!("{}/probe/busy?ms=400", app.address);
    let in_flight = tokio::spawn(app.client.get(url).send());
    tokio::time::sleep(Duration::from_millis(100)).await;

    app.stop().await;

    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        app.client
            .get(format!("{}/api/version", app.address))
            .send()
            .await
            .is_err(),
        "no longer accepting"
    );
}
