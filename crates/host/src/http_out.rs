//! Outgoing HTTP: enforces `allowed_outbound_hosts` exactly where Spin does, before anything
//! leaves the host; a denied request surfaces to the guest as `HTTP-request-denied`.

use crate::outbound::OutboundPolicy;
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::{RequestOptions, WasiBody};

pub struct OutboundHooks {
    policy: Arc<OutboundPolicy>,
    component: String,
}

impl OutboundHooks {
    pub fn new(policy: Arc<OutboundPolicy>, component: String) -> OutboundHooks {
        OutboundHooks { policy, component }
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl wasmtime_wasi_http::WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let _ = fut;
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_string();
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri.port_u16();
        if !self.policy.allows(&scheme, &host, port) {
            let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
            eprintln!(
                "[{}] outbound network destination not allowed: {scheme}://{authority} (add it to allowed_outbound_hosts)",
                self.component
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        // Every outgoing call gets a timeout even if the guest sets none.
        let options = Some(options.unwrap_or(RequestOptions {
            connect_timeout: Some(Duration::from_secs(10)),
            first_byte_timeout: Some(Duration::from_secs(30)),
            between_bytes_timeout: Some(Duration::from_secs(30)),
        }));
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}
