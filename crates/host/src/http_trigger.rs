//! The HTTP trigger: accept, route as Spin does, add Spin's request headers, run a fresh
//! instance per request. Answers the host gives itself are Spin's: an empty 404 when no route
//! matches, an empty 500 when the guest traps or sets no response (the cause goes to the log).
//! Connections keep Nagle's algorithm on, as Spin's do, so a response written in pieces pays
//! the client's delayed ACK here as it does on Spin. Shutdown stops accepting and lets
//! in-flight requests finish.

use crate::app::Shared;
use crate::state::InstanceState;
use bytes::Bytes;
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
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

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

pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// A store for one instance, with the memory limit and the CPU deadline armed.
pub(crate) fn new_store(
    shared: &Shared,
    env: Arc<crate::state::ComponentEnv>,
) -> Store<InstanceState> {
    let mut store = Store::new(&shared.engine, InstanceState::new(env, shared.memory_limit));
    store.limiter(|s| &mut s.limits);
    let limit = shared.cpu_ticks;
    store.set_epoch_deadline(1);
    // Each tick spent in guest code counts; time blocked in host calls does not. Yielding on
    // every tick keeps one busy guest from starving the executor.
    store.epoch_deadline_callback(move |mut ctx| {
        let s = ctx.data_mut();
        s.cpu_ticks += 1;
        if s.cpu_ticks > limit {
            Err(wasmtime::Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

async fn handle(
    shared: Arc<Shared>,
    mut req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> hyper::Response<HyperOutgoingBody> {
    let started = Instant::now();
    let incoming_id = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok());
    let cid = accept_or_generate(incoming_id);
    if let Ok(v) = HeaderValue::from_str(&cid) {
        req.headers_mut().insert("x-correlation-id", v);
    }
    let path = req.uri().path().to_string();
    let Some(m) = shared.routes.find(&path) else {
        return empty(404);
    };
    let component_id = m.target.clone();
    let Some(prepared) = shared.components.get(&component_id) else {
        return empty(500);
    };
    let Some(proxy) = prepared.proxy.clone() else {
        return empty(500);
    };

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
    let params = m.params.clone();
    for (name, value) in spin_headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            req.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
    for (name, value) in params {
        let header = format!("spin-path-match-{}", name.to_ascii_lowercase());
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(header.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            req.headers_mut().insert(n, v);
        }
    }
    // Hosts in *.spin.internal are Spin's service-chaining names; never forward them.
    if host.ends_with(".spin.internal") {
        req.headers_mut().remove(http::header::HOST);
    }

    let Ok(permit) = shared.permits.clone().acquire_owned().await else {
        return empty(503);
    };
    let mut store = new_store(&shared, prepared.env.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let prepared_req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req);
    let out = store.data_mut().http().new_response_outparam(tx);
    let (Ok(wasi_req), Ok(out)) = (prepared_req, out) else {
        return empty(500);
    };
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

    let log = shared.log.clone();
    let cid_for_log = cid.clone();
    let finish = move |result: wasmtime::Result<()>, output: Vec<String>| {
        log.guest(&component_id, output);
        if let Err(e) = result {
            report_trap(&log, &component_id, &cid_for_log, &e, started);
        }
    };
    match rx.await {
        Ok(Ok(resp)) => {
            // The body may still be streaming: collect output and errors when the task ends.
            tokio::spawn(async move {
                if let Ok((result, output)) = task.await {
                    finish(result, output);
                }
            });
            resp
        }
        Ok(Err(code)) => {
            if let Ok((result, output)) = task.await {
                finish(
                    result.and(Err(wasmtime::format_err!(
                        "guest answered with error code {code:?}"
                    ))),
                    output,
                );
            }
            empty(500)
        }
        Err(_) => {
            match task.await {
                Ok((result, output)) => {
                    finish(
                        result.and(Err(wasmtime::format_err!("guest never set a response"))),
                        output,
                    );
                }
                Err(join) => shared.log.event(
                    "error",
                    "instance task failed",
                    json!({ "error": join.to_string(), "correlationId": cid }),
                ),
            }
            empty(500)
        }
    }
}

fn report_trap(
    log: &crate::log::LogSink,
    component: &str,
    cid: &str,
    e: &wasmtime::Error,
    started: Instant,
) {
    let text = format!("{e:?}");
    let fingerprint = hex::encode(&Sha256::digest(text.as_bytes())[..8]);
    log.event(
        "error",
        "guest trapped",
        json!({
            "component": component,
            "correlationId": cid,
            "fingerprint": fingerprint,
            "cause": text,
            "durationMs": started.elapsed().as_secs_f64() * 1000.0,
        }),
    );
}

/// An answer the host gives itself, as Spin does: a bare status with an empty body.
pub(crate) fn empty(status: u16) -> hyper::Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::new())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

/// The same rule as `common::correlation`: 1–64 of `[A-Za-z0-9_-]`, else a fresh UUIDv7.
pub fn accept_or_generate(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            id.to_string()
        }
        _ => uuid::Uuid::now_v7().simple().to_string(),
    }
}
