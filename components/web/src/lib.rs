//! The web component: serves the web app built from `app/` (embedded at build time by
//! `build.rs`). Thin by design: no variables, no database; every action of the app goes
//! through the public API, which other components serve under `/api/...`.
//!
//! - Files under `/assets/` have content hashes in their names: cached for a year, immutable.
//! - Any other path without a file extension is a client-side route: `index.html`, never cached.
//! - A gzip copy made at build time is sent when the client accepts gzip.

mod serve;

use spin_sdk::http::{IncomingRequest, Response, ResponseOutparam};
use spin_sdk::http_component;

/// Hands the file to the host whole (`common::http::send`), so that it leaves in one write.
#[http_component]
fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let accept_encoding = req
        .headers()
        .get("accept-encoding")
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    let path_and_query = req.path_with_query().unwrap_or_else(|| "/".to_string());
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query.as_str(), |(p, _)| p);
    let reply = serve::answer(&req.method().to_string(), path, &accept_encoding);
    let mut builder = Response::builder();
    builder.status(reply.status);
    for (name, value) in reply.headers {
        builder.header(name, value);
    }
    common::http::send(out, builder.body(reply.body.to_vec()).build());
}
