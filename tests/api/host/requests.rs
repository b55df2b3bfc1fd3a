//! Requests and triggers: the cron trigger, traps, unmatched paths, limits, headers and
//! stopping.

use crate::helpers::{skip_on_spin, spin_bin, Setup, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};

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

/// The host's events named `msg` in `app`'s log, as JSON.
fn host_events(app: &TestApp, msg: &str) -> Vec<Value> {
    app.log_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["msg"] == msg)
        .collect()
}

#[tokio::test]
async fn xmp_an_app_not_yet_compiled_serves_at_once_and_its_optimised_code_takes_over() {
    if skip_on_spin("xmp_an_app_not_yet_compiled_serves_at_once_and_its_optimised_code_takes_over")
    {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let cold = |cpu_limit| {
        let mut setup = Setup::probe();
        setup.compile_cache = Some(cache.path().to_path_buf());
        setup.cpu_limit = cpu_limit;
        setup
    };
    let app = cold(Duration::from_millis(300)).spawn().await;
    let froms = |app: &TestApp| -> Vec<String> {
        host_events(app, "component loaded")
            .iter()
            .map(|e| format!("{} {}", e["component"].as_str().unwrap(), e["from"]))
            .collect()
    };

    let quick = froms(&app);
    let short = app.get("/probe/busy?ms=50").await;
    let endless = app.get("/probe/busy").await;
    let optimised = app
        .wait_for_log(|l| l.contains("\"components optimised\""))
        .await;

    assert_eq!(quick.len(), 3, "{quick:?}");
    assert!(quick.iter().all(|l| l.ends_with("\"Quick\"")), "{quick:?}");
    assert_eq!(short.status, 200, "quick code serves");
    assert_eq!((endless.status, endless.text.as_str()), (500, ""));
    assert!(
        optimised.is_some(),
        "the optimised code replaces the quick code"
    );
    let mut replaced: Vec<String> = host_events(&app, "component optimised")
        .iter()
        .map(|e| e["component"].as_str().unwrap().to_string())
        .collect();
    replaced.sort();
    assert_eq!(replaced, ["auth", "probe", "system"]);
    let cached = std::fs::read_dir(cache.path())
        .unwrap()
        .filter(|f| f.as_ref().unwrap().path().extension() == Some("cwasm".as_ref()))
        .count();
    assert_eq!(cached, 3, "only the optimised code is cached");
    assert_eq!(app.get("/probe/busy?ms=50").await.status, 200);
    assert_eq!(app.get("/probe/busy").await.status, 500);
    assert_eq!(app.get("/api/version").await.status, 200);

    let warm = cold(Duration::from_secs(10)).spawn().await;
    let from_disk = froms(&warm);
    assert!(
        from_disk.len() == 3 && from_disk.iter().all(|l| l.ends_with("\"DiskCache\"")),
        "{from_disk:?}"
    );
    assert_eq!(warm.get("/probe/busy?ms=50").await.status, 200);
    assert!(host_events(&warm, "components optimised").is_empty());
}
