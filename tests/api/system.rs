//! The system component through the shipping `spin.toml`.

use crate::helpers::{assert_error_envelope, Kv, Setup, TestApp};
use std::time::{Duration, Instant};

#[tokio::test]
async fn health_is_200_with_each_check_when_postgres_and_key_value_are_up() {
    let app = Setup::app().spawn().await;

    let resp = app.get("/api/health").await;

    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["status"], "ok");
    for check in ["postgres", "keyValue"] {
        assert_eq!(body["data"]["checks"][check]["status"], "ok", "{check}");
        assert!(
            body["data"]["checks"][check]["latencyMs"].is_number(),
            "{check}"
        );
    }
    assert_eq!(
        body["correlationId"],
        resp.header("x-correlation-id").unwrap()
    );
}

#[tokio::test]
async fn health_is_503_within_two_seconds_naming_postgres_when_it_is_unreachable() {
    // A refused port and an unroutable address (TEST-NET-1) must both answer in time.
    for (host, why) in [("127.0.0.1:1", "refused"), ("192.0.2.1:5432", "unroutable")] {
        let app = Setup::app()
            .var("database_url", &format!("postgres://postgres@{host}/xmp"))
            .var("database_host", host)
            .spawn()
            .await;
        let started = Instant::now();

        let resp = app.get("/api/health").await;

        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{why}: took {:?}",
            started.elapsed()
        );
        assert_eq!(resp.status, 503, "{why}: {}", resp.text);
        let body = resp.json();
        assert_eq!(
            body["data"]["checks"]["postgres"]["status"], "failed",
            "{why}"
        );
        assert_eq!(body["data"]["checks"]["keyValue"]["status"], "ok", "{why}");
        assert!(
            !resp.text.contains("192.0.2.1") && !resp.text.contains("refused"),
            "{why}: no internals: {}",
            resp.text
        );
    }
}

#[tokio::test]
async fn version_names_the_build() {
    let app = Setup::app().spawn().await;

    let resp = app.get("/api/version").await;

    assert_eq!(resp.status, 200);
    let data = &resp.json()["data"];
    assert_eq!(data["name"], "xmp");
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(data["component"], "system");
}

#[tokio::test]
async fn an_unknown_route_is_a_404_envelope_and_a_wrong_method_a_405_with_allow() {
    let app = Setup::app().spawn().await;

    let not_found = app.get("/api/does-not-exist").await;
    let wrong_method = app.post_json("/api/health", &serde_json::json!({})).await;

    assert_error_envelope(&not_found, 404, "NOT_FOUND");
    assert_error_envelope(&wrong_method, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(wrong_method.header("allow"), Some("GET"));
}

#[tokio::test]
async fn two_hundred_concurrent_requests_are_all_answered() {
    let app = Setup::app().spawn().await;
    let url = format!("{}/api/version", app.address);

    let responses = futures::future::join_all((0..200).map(|_| {
        let client = app.client.clone();
        let url = url.clone();
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    }))
    .await;

    let ok = responses.iter().filter(|r| matches!(r, Ok(200))).count();
    assert_eq!(
        ok,
        200,
        "{:?}",
        responses
            .iter()
            .filter(|r| !matches!(r, Ok(200)))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn every_route_in_the_openapi_document_is_served() {
    let app = Setup::app().spawn().await;

    let doc = app.get("/api/openapi.json").await;

    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{userId}", "00000000-0000-0000-0000-000000000000");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app.request(m, &concrete, &[], None).await;
            let unknown = resp.status == 404 && resp.text.contains("NF_002");
            let wrong_method = resp.status == 405;
            assert!(
                !unknown && !wrong_method,
                "{method} {path} is documented but not served: {}",
                resp.text
            );
        }
    }
}

#[tokio::test]
async fn a_failed_health_check_logs_its_cause_with_the_bodys_fingerprint_and_correlation_id() {
    // Arrange
    let app = Setup::app()
        .var("database_url", "postgres://postgres@127.0.0.1:1/xmp")
        .var("database_host", "127.0.0.1:1")
        .spawn()
        .await;

    // Act
    let resp = app
        .request(
            reqwest::Method::GET,
            "/api/health",
            &[("x-correlation-id", "health-log-check-1")],
            None,
        )
        .await;

    // Assert
    assert_eq!(resp.status, 503, "{}", resp.text);
    let fingerprint = resp.json()["data"]["checks"]["postgres"]["fingerprint"]
        .as_str()
        .expect("the failed check's fingerprint")
        .to_string();
    let v = app
        .component_log("system", &fingerprint)
        .await
        .unwrap_or_else(|| panic!("a log line with {fingerprint}: {:?}", app.log_lines()));
    assert_eq!(v["correlationId"], "health-log-check-1", "{v}");
    assert_eq!(v["level"], "error", "{v}");
    assert_eq!(v["check"], "postgres", "{v}");
    assert_eq!(v["code"], "DB_001", "{v}");
    let cause = v["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("postgres connection failed"), "{v}");
    assert!(
        !resp.text.contains(cause),
        "the cause stays out of the body"
    );
}

async fn concurrent_health_checks(kv: Kv) -> (Vec<u16>, TestApp) {
    let app = Setup::app().kv(kv).spawn().await;
    let url = format!("{}/api/health", app.address);
    let statuses = futures::future::join_all((0..64).map(|_| {
        let client = app.client.clone();
        let url = url.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    }))
    .await;
    let leftovers = app
        .log_lines()
        .iter()
        .filter(|l| l.contains("health check failed"))
        .count();
    assert_eq!(leftovers, 0, "{kv:?}: no check failed");
    (statuses, app)
}

#[tokio::test]
async fn sixty_four_concurrent_health_checks_are_all_healthy_on_the_embedded_store() {
    // Arrange, Act
    let (statuses, _app) = concurrent_health_checks(Kv::Embedded).await;

    // Assert
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn sixty_four_concurrent_health_checks_are_all_healthy_on_redis_and_leave_no_key() {
    // Arrange, Act
    let (statuses, app) = concurrent_health_checks(Kv::Redis).await;

    // Assert
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let mut redis = redis::Client::open(app.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}health:*", app.redis_prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(keys.is_empty(), "every check deleted its key: {keys:?}");
}
