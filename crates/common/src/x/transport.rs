//! The only place that touches the network: one request through `spin_sdk::http::send`, raced
//! against a timer, and a sleep, both on the component's event loop (wasi clocks + the
//! executor spin-sdk drives). `spin_sdk::http::send` takes no request options, so the timeout
//! is a race rather than a `first-byte-timeout`; it also bounds reading the body.

use super::api::Method;
use crate::describe;
use futures::future::{select, Either};
use futures::SinkExt;
use spin_sdk::http::conversions::TryIntoOutgoingRequest;
use spin_sdk::http::{ErrorCode, Request, Response, SendError};
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

/// A complete answer, whatever its status.
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Why no answer came. `maybe_sent` is false only when the request provably never reached
/// the server, which is what decides whether a create's outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Timeout { maybe_sent: bool },
    Network { maybe_sent: bool, detail: String },
}

pub(crate) async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<RawResponse, Failure> {
    let mut builder = Request::builder();
    builder.method(match method {
        Method::Get => spin_sdk::http::Method::Get,
        Method::Post => spin_sdk::http::Method::Post,
        Method::Delete => spin_sdk::http::Method::Delete,
    });
    builder.uri(url);
    for (k, v) in headers {
        builder.header(*k, v.clone());
    }
    let request = builder.build();
    let exchange = pin!(exchange(request, body));
    match select(exchange, pin!(sleep(timeout))).await {
        Either::Left((Ok(resp), _)) => Ok(RawResponse {
            status: *resp.status(),
            headers: resp
                .headers()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
                .collect(),
            body: resp.into_body(),
        }),
        Either::Left((Err(e), _)) => Err(classify(&e)),
        // Dropping the exchange cancels it; whether the server acted is unknowable.
        Either::Right(_) => Err(Failure::Timeout { maybe_sent: true }),
    }
}

/// `spin_sdk::http::send` with a buffered body writes the body before it looks at the
/// request's fate, so a request the host refuses (not in `allowed_outbound_hosts`) surfaces as
/// a closed body stream — indistinguishable from a connection lost mid-request, which for a
/// create means "unknown outcome". Here the exchange is started first and, when writing the
/// body fails, its own error (e.g. `HttpRequestDenied`: never sent) is the one reported.
async fn exchange(request: Request, body: Vec<u8>) -> Result<Response, SendError> {
    let (outgoing, _) = request
        .try_into_outgoing_request()
        .map_err(|e| SendError::RequestConversion(e.into()))?;
    let mut sink = outgoing.take_body();
    // An `OutgoingRequest` carries no buffered body: `send` only hands it to the host.
    let mut response = pin!(spin_sdk::http::send::<_, Response>(outgoing));
    let write = async move {
        let written = sink.send(body).await;
        // Dropping the sink finishes the body.
        drop(sink);
        written
    };
    match select(response.as_mut(), pin!(write)).await {
        Either::Left((answer, _)) => answer,
        Either::Right((Ok(()), response)) => response.await,
        Either::Right((Err(io), response)) => match response.await {
            Err(e) => Err(e),
            Ok(_) => Err(SendError::Io(io)),
        },
    }
}

fn classify(e: &SendError) -> Failure {
    match e {
        SendError::Http(code) => classify_code(code),
        SendError::RequestConversion(e) => Failure::Network {
            maybe_sent: false,
            detail: e.to_string(),
        },
        SendError::Io(e) => Failure::Network {
            maybe_sent: true,
            detail: format!("body write: {}", describe::stream_error(e)),
        },
        SendError::ResponseConversion(e) => Failure::Network {
            maybe_sent: true,
            detail: format!("response read: {e}"),
        },
    }
}

/// wasi:http error codes: those raised before a connection carries the request mean "not
/// sent"; everything else (a reset, a truncated answer, a read timeout) means "maybe sent".
pub(crate) fn classify_code(code: &ErrorCode) -> Failure {
    let detail = describe::error_code(code);
    match code {
        ErrorCode::DnsTimeout | ErrorCode::ConnectionTimeout => {
            Failure::Timeout { maybe_sent: false }
        }
        ErrorCode::ConnectionReadTimeout | ErrorCode::ConnectionWriteTimeout => {
            Failure::Timeout { maybe_sent: true }
        }
        ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::TlsCertificateError
        | ErrorCode::HttpRequestDenied
        | ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong => Failure::Network {
            maybe_sent: false,
            detail,
        },
        _ => Failure::Network {
            maybe_sent: true,
            detail,
        },
    }
}

/// Resolves once `duration` has passed on the monotonic clock.
pub(crate) fn sleep(duration: Duration) -> Sleep {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    Sleep {
        deadline: wasi::clocks::monotonic_clock::now().saturating_add(nanos),
        token: None,
    }
}

pub(crate) struct Sleep {
    deadline: u64,
    token: Option<spin_executor::CancelOnDropToken>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if wasi::clocks::monotonic_clock::now() >= self.deadline {
            return Poll::Ready(());
        }
        // The executor takes the pollable; a fresh one per poll keeps the waker current, and
        // dropping the previous token cancels the previous registration.
        let pollable = wasi::clocks::monotonic_clock::subscribe_instant(self.deadline);
        let token = spin_executor::push_waker_and_get_token(pollable, cx.waker().clone());
        self.token = Some(token.into());
        Poll::Pending
    }
}
