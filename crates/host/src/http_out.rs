//! Outgoing HTTP: enforces `allowed_outbound_hosts` exactly where Spin does, before anything
//! leaves the host; a denied request surfaces to the guest as `HTTP-request-denied`.
//!
//! Plain-HTTP requests reuse idle connections, as Spin's do (Spin 3.5 pools outbound
//! connections per host, `connection_pooling` on by default): [`HttpPool`], one per app. A
//! request over TLS, or one whose guest set its own connect timeout, opens a connection of its
//! own, which costs more than Spin and is never kinder.

use crate::outbound::OutboundPolicy;
use hyper::body::{Body, Frame, Incoming};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Every outgoing call gets these timeouts even if the guest sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// The app's pool of idle plain-HTTP connections (cheap to clone: a handle).
#[derive(Clone)]
pub struct HttpPool(Client<HttpConnector, WasiBody>);

impl Default for HttpPool {
    fn default() -> HttpPool {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        HttpPool(Client::builder(TokioExecutor::new()).build(connector))
    }
}

pub struct OutboundHooks {
    policy: Arc<OutboundPolicy>,
    component: String,
    pool: HttpPool,
}

impl OutboundHooks {
    pub fn new(policy: Arc<OutboundPolicy>, component: String, pool: HttpPool) -> OutboundHooks {
        OutboundHooks {
            policy,
            component,
            pool,
        }
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
        let options = options.unwrap_or(RequestOptions {
            connect_timeout: Some(CONNECT_TIMEOUT),
            first_byte_timeout: Some(FIRST_BYTE_TIMEOUT),
            between_bytes_timeout: Some(BETWEEN_BYTES_TIMEOUT),
        });
        let pooled =
            scheme == "http" && options.connect_timeout.is_none_or(|t| t == CONNECT_TIMEOUT);
        if pooled {
            let pool = self.pool.clone();
            return Box::new(async move {
                let res = pool.send(request, options).await?;
                Ok((
                    res,
                    Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
                ))
            });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

impl HttpPool {
    /// Sends on an idle connection to the same host, or a new one kept for later requests.
    async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: RequestOptions,
    ) -> Result<http::Response<WasiBody>, Error> {
        use http_body_util::BodyExt;
        let first_byte = options.first_byte_timeout.unwrap_or(FIRST_BYTE_TIMEOUT);
        let between = options
            .between_bytes_timeout
            .unwrap_or(BETWEEN_BYTES_TIMEOUT);
        let res = tokio::time::timeout(first_byte, self.0.request(request))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(request_error)?;
        Ok(res.map(|body| Paced::new(body, between).boxed_unsync()))
    }
}

/// What a failed pooled request tells the guest: a connection that could not be made is the
/// same error as on a connection of its own (the request was not sent); anything after that is
/// hyper's error, as there.
fn request_error(e: hyper_util::client::legacy::Error) -> Error {
    use std::error::Error as _;
    if !e.is_connect() {
        return Error::HttpProtocolError;
    }
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::TimedOut => Error::ConnectionTimeout,
                kind => Error::Connect(std::io::Error::new(kind, io.to_string())),
            };
        }
        cause = c.source();
    }
    Error::ConnectionTimeout
}

/// A response body that fails with `connection-read-timeout` when no frame comes for `limit`.
struct Paced {
    body: Incoming,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Paced {
    fn new(body: Incoming, limit: Duration) -> Paced {
        let limit = limit.max(Duration::from_nanos(1));
        Paced {
            body,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl Body for Paced {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = Instant::now() + self.limit;
                self.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
