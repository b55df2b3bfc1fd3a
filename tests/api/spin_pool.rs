//! Spin's PostgreSQL client as `xmp` reproduces it — TLS by `sslmode`, `Clean` recycling that
//! leaves an open transaction open — and the app safe on it. The `..._as_on_spin` tests pin the
//! runtime's behaviour (they fail on a host kinder than Spin); the others pin the app's.

use crate::helpers::*;
use serde_json::{json, Value};

/// `GET /probe/pg`: runs `sql` on a raw connection (no check of the app's) and answers
/// `{rows, columns, first}` or `{error}`.
async fn probe_sql(app: &TestApp, sql: &str, url: Option<&str>) -> Value {
    let mut path = format!("/probe/pg?sql={}", encode(sql));
    if let Some(url) = url {
        path.push_str(&format!("&url={}", encode(url)));
    }
    let resp = app.get(&path).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()["data"].clone()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn trap_inside_a_transaction(app: &TestApp) {
    let resp = app
        .request(
            reqwest::Method::POST,
            "/probe/pg/trap-in-transaction",
            &[],
            None,
        )
        .await;
    assert_eq!(resp.status, 500, "{}", resp.text);
}

async fn sessions_idle_in_transaction(db: &tokio_postgres::Client) -> i64 {
    db.query_one(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn postgres_uses_tls_with_certificate_verification_unless_sslmode_is_disable_as_on_spin() {
    // Arrange: this machine's server offers TLS with a self-signed certificate (Debian's
    // default); where a server offers none, `prefer` falls back to plain text as Spin's does.
    let app = Setup::probe().spawn().await;
    let ssl_on = admin()
        .await
        .query_one("SHOW ssl", &[])
        .await
        .unwrap()
        .get::<_, String>(0)
        == "on";
    let base = format!("postgres://postgres@127.0.0.1:5432/{}", app.db.name);

    // Act
    let prefer = probe_sql(&app, "SELECT 1::int4", Some(&base)).await;
    let require = probe_sql(
        &app,
        "SELECT 1::int4",
        Some(&format!("{base}?sslmode=require")),
    )
    .await;
    let disable = probe_sql(
        &app,
        "SELECT 1::int4",
        Some(&format!("{base}?sslmode=disable")),
    )
    .await;

    // Assert
    assert_eq!(disable["first"], 1, "sslmode=disable connects: {disable}");
    let refused = |v: &Value| {
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("ConnectionFailed"))
    };
    assert!(
        refused(&require),
        "require needs a certificate that verifies: {require}"
    );
    if ssl_on {
        assert!(refused(&prefer), "prefer tries TLS and verifies: {prefer}");
        assert!(
            prefer["error"]
                .as_str()
                .is_some_and(|e| e.to_ascii_lowercase().contains("certificate")),
            "the refusal names the certificate: {prefer}"
        );
    } else {
        assert_eq!(prefer["first"], 1, "no TLS offered: plain text: {prefer}");
    }
}

#[tokio::test]
async fn a_pooled_connection_comes_back_with_its_session_reset_as_on_spin() {
    // Arrange: requests one after another share one pooled connection.
    let app = Setup::probe().spawn().await;
    let first = probe_sql(&app, "SELECT pg_backend_pid()", None).await;

    // Act
    probe_sql(
        &app,
        "SELECT set_config('search_path', 'pg_catalog', false)",
        None,
    )
    .await;
    let seen = probe_sql(
        &app,
        "SELECT pg_backend_pid() AS pid, current_setting('search_path') AS path",
        None,
    )
    .await;
    let path = probe_sql(&app, "SELECT current_setting('search_path')", None).await;

    // Assert
    assert_eq!(seen["first"], first["first"], "the same connection: {seen}");
    assert_ne!(
        path["first"], "pg_catalog",
        "`Clean` recycling resets session settings: {path}"
    );
}

#[tokio::test]
async fn a_connection_handed_back_inside_a_transaction_stays_inside_it_as_on_spin() {
    // Arrange
    let app = Setup::probe().spawn().await;
    let outside = app.db.client().await;

    // Act: a raw connection (without the app's check) gets the trapped request's connection.
    trap_inside_a_transaction(&app).await;
    let inside = probe_sql(
        &app,
        "SELECT to_regclass('probe_uncommitted') IS NOT NULL",
        None,
    )
    .await;

    // Assert
    assert_eq!(
        inside["first"], true,
        "the next request runs inside the trapped request's transaction: {inside}"
    );
    let seen_outside: bool = outside
        .query_one("SELECT to_regclass('probe_uncommitted') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!seen_outside, "nothing of it is committed");
    assert_eq!(sessions_idle_in_transaction(&outside).await, 1);
}

#[tokio::test]
async fn after_traps_inside_transactions_the_apps_writes_are_committed_alone() {
    // Arrange
    let app = Setup::probe().spawn().await;
    let outside = app.db.client().await;

    // Act: a public route (register), a guarded route (create a workspace) and a login, each
    // right after a request that trapped inside a transaction on the same pooled connection.
    trap_inside_a_transaction(&app).await;
    let user = app.register("pool@example.com", "Pool").await;
    let token = user["accessToken"].as_str().unwrap().to_string();
    trap_inside_a_transaction(&app).await;
    let created = app
        .authed(
            reqwest::Method::POST,
            "/api/workspaces",
            &token,
            Some(&json!({ "name": "After a trap" })),
            &[],
        )
        .await;
    trap_inside_a_transaction(&app).await;
    let login = app.login("pool@example.com", PASSWORD).await;

    // Assert
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(login.status, 200, "{}", login.text);
    let row = outside
        .query_one(
            "SELECT (SELECT count(*) FROM users WHERE email = 'pool@example.com'),
                    (SELECT count(*) FROM workspaces WHERE name = 'After a trap'),
                    (SELECT count(*) FROM refresh_tokens),
                    to_regclass('probe_uncommitted') IS NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1, "the registration is committed");
    assert_eq!(row.get::<_, i64>(1), 1, "the workspace is committed");
    assert_eq!(row.get::<_, i64>(2), 2, "both sessions are committed");
    assert!(
        row.get::<_, bool>(3),
        "the trapped transactions were rolled back, not committed with the app's writes"
    );
    assert_eq!(
        sessions_idle_in_transaction(&outside).await,
        0,
        "no connection is left inside a transaction"
    );
}
