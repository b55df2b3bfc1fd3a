//! The common request pipeline: envelopes for bad input, correlation ids, logs.

use crate::helpers::{assert_error_envelope, Setup};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn bad_bodies_get_their_envelopes() {
    let app = Setup::probe().spawn().await;
    let big = vec![b' '; 300 * 1024];
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            vec![("content-type", "application/json")],
            b"{\"a\": ".to_vec(),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "wrong content type",
            vec![("content-type", "text/plain")],
            b"{}".to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "no content type",
            vec![],
            b"{}".to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "over 256 KiB",
            vec![("content-type", "application/json")],
            big,
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "empty body",
            vec![("content-type", "application/json")],
            Vec::new(),
            400,
            "VALIDATION_ERROR",
        ),
    ];
    for (why, headers, body, status, kind) in cases {
        let resp = app
            .request(Method::POST, "/probe/echo", &headers, Some(body))
            .await;
        let error = assert_error_envelope(&resp, status, kind);
        if why == "malformed JSON" {
            assert_eq!(error["details"]["line"], 1, "{why}: position given");
            assert_eq!(error["details"]["column"], 6, "{why}: position given");
        }
    }
}

#[tokio::test]
async fn an_oversized_body_without_content_length_is_refused_while_streaming() {
    let app = Setup::probe().spawn().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..64).map(|_| Ok(vec![b' '; 8 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));

    let resp = app
        .client
        .post(format!("{}/probe/echo", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status().as_u16(), 413);
}

#[tokio::test]
async fn a_well_formed_body_is_parsed() {
    let app = Setup::probe().spawn().await;

    let resp = app
        .post_json("/probe/echo", &json!({"hello": "world"}))
        .await;

    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.json()["data"]["body"]["hello"], "world");
}

#[tokio::test]
async fn a_well_formed_correlation_id_is_echoed_and_a_bad_one_replaced() {
    let app = Setup::app().spawn().await;

    let kept = app
        .request(
            Method::GET,
            "/api/version",
            &[("x-correlation-id", "req-123_ABC")],
            None,
        )
        .await;
    let replaced = app
        .request(
            Method::GET,
            "/api/version",
            &[("x-correlation-id", "bad id!")],
            None,
        )
        .await;
    let generated = app.get("/api/nowhere").await;

    assert_eq!(kept.header("x-correlation-id"), Some("req-123_ABC"));
    assert_eq!(kept.json()["correlationId"], "req-123_ABC");
    let new_id = replaced.header("x-correlation-id").unwrap();
    assert_ne!(new_id, "bad id!");
    assert!(
        new_id.len() <= 64
            && new_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert!(generated
        .header("x-correlation-id")
        .is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn every_request_is_logged_as_json_with_method_route_status_duration_and_correlation_id() {
    let app = Setup::app().spawn().await;

    app.request(
        Method::GET,
        "/api/version",
        &[("x-correlation-id", "log-check-1")],
        None,
    )
    .await;

    let v = app
        .component_log("system", "log-check-1")
        .await
        .expect("an access log line of the system component");
    assert_eq!(v["method"], "GET");
    assert_eq!(v["route"], "/api/version");
    assert_eq!(v["status"], 200);
    assert!(v["durationMs"].is_number());
}

/// Sends `GET path` on `stream` and answers the chunks `read` returned until the whole response
/// (by its `content-length`) was in.
async fn reads_of_one_response(stream: &mut tokio::net::TcpStream, path: &str) -> Vec<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut reads = Vec::new();
    let mut all = Vec::new();
    loop {
        let mut buf = vec![0u8; 65536];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed mid-response");
        buf.truncate(n);
        all.extend_from_slice(&buf);
        reads.push(buf);
        let text = String::from_utf8_lossy(&all).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or_else(|| panic!("every response carries content-length: {head}"));
            if body.len() >= length {
                return reads;
            }
        }
    }
}

#[tokio::test]
async fn responses_leave_in_one_piece_with_their_length_on_a_kept_alive_connection() {
    // A response written as head, then body, waits for the client's delayed ACK behind Nagle's
    // algorithm (Spin leaves it on): about 40 ms per request on a kept-alive connection. The
    // pipeline hands the host the finished body with its length, so one read gets everything.
    let app = Setup::app().spawn().await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();

    for (i, path) in [
        "/api/version",
        "/api/health",
        "/nope",
        "/api/version",
        "/api/openapi.json",
    ]
    .iter()
    .cycle()
    .take(10)
    .enumerate()
    {
        let reads = reads_of_one_response(&mut stream, path).await;
        if !path.ends_with("openapi.json") {
            assert_eq!(
                reads.len(),
                1,
                "request {i} ({path}) arrived in {} pieces",
                reads.len()
            );
        }
    }
}
