//! Hands a response to the host in one piece.
//!
//! spin-sdk's `#[http_component]` sets the response first and writes its body afterwards, so the
//! host's HTTP server may write the head before the body exists: the response leaves in two TCP
//! segments, and with Nagle's algorithm on (Spin does not set `TCP_NODELAY`) the second waits
//! for the client's delayed ACK, about 40 ms on every kept-alive request. Here the body is
//! written and finished first, with its `content-length`, and only then is the response set, so
//! the server has all of it when it starts writing.

use crate::describe;
use spin_sdk::http::{Headers, OutgoingBody, OutgoingResponse, Response, ResponseOutparam};
use spin_sdk::wit::wasi::http0_2_0::types::HeaderError;

/// Bodies up to this size are buffered by the host whole before the response is set (one
/// write fits wasmtime-wasi-http's per-chunk budget of 1 MiB). Larger ones stream after it.
const WHOLE_BODY_LIMIT: usize = 1 << 20;

/// Sends `response` through `out`: body first, then the response.
pub fn send(out: ResponseOutparam, response: Response) {
    let status = *response.status();
    // A HEAD answer declares the length of the body it leaves out; keep that declaration.
    let declared = response.header("content-length").is_some() && response.body().is_empty();
    let mut fields: Vec<(String, Vec<u8>)> = response
        .headers()
        .filter(|(name, _)| declared || !name.eq_ignore_ascii_case("content-length"))
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    let body = response.into_body();
    let bodiless = status == 204 || status == 304;
    if !bodiless && !declared {
        fields.push((
            "content-length".to_string(),
            body.len().to_string().into_bytes(),
        ));
    }
    let outgoing = match Headers::from_list(&fields) {
        Ok(headers) => OutgoingResponse::new(headers),
        Err(e) => {
            let why = match e {
                HeaderError::InvalidSyntax => "invalid syntax",
                HeaderError::Forbidden => "forbidden",
                HeaderError::Immutable => "immutable",
            };
            eprintln!("response headers refused by the host: {why}");
            OutgoingResponse::new(Headers::new())
        }
    };
    if outgoing.set_status_code(status).is_err() {
        eprintln!("status {status} refused by the host");
    }
    let Ok(outgoing_body) = outgoing.body() else {
        out.set(outgoing);
        return;
    };
    if declared {
        // No body goes out; the host does not read one for HEAD.
        out.set(outgoing);
        drop(outgoing_body);
        return;
    }
    if bodiless || body.len() <= WHOLE_BODY_LIMIT {
        if let Err(e) = write_all(&outgoing_body, &body) {
            eprintln!("could not write the response body: {e}");
        }
        finish(outgoing_body);
        out.set(outgoing);
    } else {
        out.set(outgoing);
        if let Err(e) = write_all(&outgoing_body, &body) {
            eprintln!("could not write the response body: {e}");
        }
        finish(outgoing_body);
    }
}

fn finish(body: OutgoingBody) {
    if let Err(e) = OutgoingBody::finish(body, None) {
        let why = describe::error_code(&e);
        eprintln!("could not finish the response body: {why}");
    }
}

/// Writes every byte, waiting for the host to take them when its buffer is full.
fn write_all(body: &OutgoingBody, mut bytes: &[u8]) -> Result<(), String> {
    let stream = body
        .write()
        .map_err(|()| "the body stream was already taken".to_string())?;
    while !bytes.is_empty() {
        let budget = stream
            .check_write()
            .map_err(|e| describe::stream_error(&e))?;
        if budget == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = usize::try_from(budget)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let (now, rest) = bytes.split_at(n);
        stream.write(now).map_err(|e| describe::stream_error(&e))?;
        bytes = rest;
    }
    stream.flush().map_err(|e| describe::stream_error(&e))?;
    Ok(())
}
