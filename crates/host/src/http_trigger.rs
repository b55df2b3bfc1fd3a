//! The HTTP trigger: accept, route as Spin does, add Spin's request headers, run a fresh
//! instance per request. Answers the host gives itself are Spin's: an empty 404 when no route
//! matches, an empty 500 when the guest traps or sets no response (the cause goes to the log).
//! Connections keep Nagle's algorithm on, as Spin's do, so a response written in pieces pays
//! the client's delayed ACK here as it does on Spin. Shutdown stops accepting and lets
//! in-flight requests finish.

use crate::log::LogSink;
use crate::routes::RouteMatch;
use crate::shared::Shared;
use bytes::Bytes;
use envelope::correlation;
use http::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

type Response = hyper::Response<HyperOutgoingBody>;
type GuestResponse = Result<Response, ErrorCode>;
/// What an instance's task hands back: how the guest call ended and what the guest printed.
type TaskOutcome = (wasmtime::Result<()>, Vec<String>);

pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        shared.log.event("warn", "accept failed", json!({ "error": e.to_string() }));
                        continue;
                    }
                };
                let shared = shared.clone();
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(handle(shared, req, peer).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        shared.log.event(
            "warn",
            "shutdown timed out with requests in flight",
            json!({}),
        );
    }
}

/// Why the host answers a request itself instead of the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostAnswer {
    /// No route matches the path.
    NoRoute,
    /// No instance could be had.
    Busy,
    /// The instance could not be run, trapped, or set no response (the cause is logged).
    Failed,
}

impl HostAnswer {
    /// Spin's answer: a bare status with an empty body, never an envelope, since the app is
    /// tested against what Spin itself sends.
    fn response(self) -> Response {
        empty(match self {
            HostAnswer::NoRoute => 404,
            HostAnswer::Busy => 503,
            HostAnswer::Failed => 500,
        })
    }
}

async fn handle(
    shared: Arc<Shared>,
    mut req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let started = Instant::now();
    let cid = set_correlation_id(&mut req);
    dispatch(&shared, req, peer, cid, started)
        .await
        .unwrap_or_else(HostAnswer::response)
}

/// Applies the components' correlation-id rule, so that the host's log lines about this
/// request carry the id the guest logs under, and hands the id on to the guest.
fn set_correlation_id(req: &mut hyper::Request<Incoming>) -> String {
    let incoming = req
        .headers()
        .get(correlation::HEADER)
        .and_then(|v| v.to_str().ok());
    let cid = correlation::accept_or_generate(incoming);
    if let Ok(v) = HeaderValue::from_str(&cid) {
        req.headers_mut()
            .insert(HeaderName::from_static(correlation::HEADER), v);
    }
    cid
}

async fn dispatch(
    shared: &Arc<Shared>,
    mut req: hyper::Request<Incoming>,
    peer: SocketAddr,
    cid: String,
    started: Instant,
) -> Result<Response, HostAnswer> {
    let path = req.uri().path().to_string();
    let m = shared.routes.find(&path).ok_or(HostAnswer::NoRoute)?;
    let component = m.target.clone();
    let prepared = shared
        .components
        .get(&component)
        .ok_or(HostAnswer::Failed)?
        .current();
    let proxy = prepared.proxy.clone().ok_or(HostAnswer::Failed)?;
    add_spin_headers(&mut req, &m, peer);

    let permit = shared
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| HostAnswer::Busy)?;
    let mut store = shared.new_store(&prepared);
    let (tx, rx) = oneshot::channel();
    let wasi_req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .map_err(|_| HostAnswer::Failed)?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(tx)
        .map_err(|_| HostAnswer::Failed)?;
    let task = tokio::spawn(async move {
        let result = async {
            let proxy = proxy.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, wasi_req, out)
                .await
        }
        .await;
        drop(permit);
        (result, store.data().take_output())
    });
    let report = Report {
        log: shared.log.clone(),
        component,
        cid,
        started,
    };
    await_response(rx, task, report).await
}

/// Adds the headers Spin gives every request (`spin-full-url`, `spin-path-info`, the matched
/// route, the client address, one `spin-path-match-<name>` per route parameter).
fn add_spin_headers(
    req: &mut hyper::Request<Incoming>,
    m: &RouteMatch<'_, String>,
    peer: SocketAddr,
) {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let spin_headers = [
        ("spin-full-url", format!("http://{host}{path_and_query}")),
        ("spin-path-info", m.path_info.clone()),
        ("spin-matched-route", m.raw.to_string()),
        ("spin-raw-component-route", m.raw.to_string()),
        ("spin-component-route", m.component_route.clone()),
        ("spin-base-path", "/".to_string()),
        ("spin-client-addr", peer.to_string()),
    ];
    for (name, value) in spin_headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            req.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
    for (name, value) in &m.params {
        let header = format!("spin-path-match-{}", name.to_ascii_lowercase());
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(header.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            req.headers_mut().insert(n, v);
        }
    }
    // Hosts in *.spin.internal are Spin's service-chaining names; never forward them.
    if host.ends_with(".spin.internal") {
        req.headers_mut().remove(http::header::HOST);
    }
}

/// Waits for the guest to set its response. A response is returned while its body may still
/// be streaming, so the guest's output and errors are collected when its task ends.
async fn await_response(
    rx: oneshot::Receiver<GuestResponse>,
    task: JoinHandle<TaskOutcome>,
    report: Report,
) -> Result<Response, HostAnswer> {
    let failure = match rx.await {
        Ok(Ok(resp)) => {
            tokio::spawn(report.when_done(task, None));
            return Ok(resp);
        }
        Ok(Err(code)) => format!("guest answered with error code {code:?}"),
        Err(_) => "guest never set a response".to_string(),
    };
    report.when_done(task, Some(failure)).await;
    Err(HostAnswer::Failed)
}

/// What the log needs to know about one request once its instance is done.
struct Report {
    log: LogSink,
    component: String,
    cid: String,
    started: Instant,
}

impl Report {
    /// Logs the guest's output, then the trap or `failure` (the reason the host answers for
    /// the guest), whichever came first.
    async fn when_done(self, task: JoinHandle<TaskOutcome>, failure: Option<String>) {
        let (result, output) = match task.await {
            Ok(outcome) => outcome,
            Err(join) => {
                self.log.event(
                    "error",
                    "instance task failed",
                    json!({ "error": join.to_string(), "correlationId": self.cid }),
                );
                return;
            }
        };
        self.log.guest(&self.component, output);
        let result = match failure {
            Some(why) => result.and(Err(wasmtime::format_err!("{why}"))),
            None => result,
        };
        if let Err(e) = result {
            self.trapped(&e);
        }
    }

    fn trapped(&self, e: &wasmtime::Error) {
        let text = format!("{e:?}");
        let fingerprint = hex::encode(&Sha256::digest(text.as_bytes())[..8]);
        self.log.event(
            "error",
            "guest trapped",
            json!({
                "component": self.component,
                "correlationId": self.cid,
                "fingerprint": fingerprint,
                "cause": text,
                "durationMs": self.started.elapsed().as_secs_f64() * 1000.0,
            }),
        );
    }
}

/// An answer the host gives itself, as Spin does: a bare status with an empty body.
fn empty(status: u16) -> Response {
    let body = Full::new(Bytes::new())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}
