//! Variables, outbound HTTP and PostgreSQL addresses as the manifest allows them.

use crate::helpers::{skip_on_spin, Setup, TestApp};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

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

/// An HTTP/1.1 server that answers every request on a connection and keeps it open, counting
/// the connections it accepted; while `closing` is set it closes each connection right after
/// its answer, without saying so (as a server whose keep-alive ran out).
async fn keep_alive_server(closing: Arc<AtomicBool>) -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let closing = closing.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = sock.read(&mut buf).await {
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if sock.write_all(answer).await.is_err() {
                            return;
                        }
                        if closing.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn outbound_http_reuses_idle_connections_as_spin_does_but_never_one_the_server_closed() {
    let closing = Arc::new(AtomicBool::new(false));
    let (port, accepted) = keep_alive_server(closing.clone()).await;
    let app = Setup::probe()
        .var("probe_allowed_host", &format!("127.0.0.1:{port}"))
        .spawn()
        .await;
    let url = format!("/probe/outbound?url=http://127.0.0.1:{port}/");

    // Requests of different instances, one after another: one connection carries them all.
    for _ in 0..3 {
        let resp = app.get(&url).await;
        assert_eq!(resp.json()["data"]["status"], 200, "{}", resp.text);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // The server closes the idle connection after its next answer: the request after that
    // opens a new one instead of failing on the closed one.
    closing.store(true, Ordering::SeqCst);
    let resp = app.get(&url).await;
    assert_eq!(resp.json()["data"]["status"], 200, "{}", resp.text);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let resp = app.get(&url).await;
    assert_eq!(resp.json()["data"]["status"], 200, "{}", resp.text);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
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
