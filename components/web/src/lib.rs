//! The web component: serves the web app built from `app/` (embedded at build time by
//! `build.rs`). Thin by design: no variables, no database; every action of the app goes
//! through the public API, which other components serve under `/api/...`.
//!
//! - Files under `/assets/` have content hashes in their names: cached for a year, immutable.
//! - Any other path without a file extension is a client-side route: `index.html`, never cached.
//! - A gzip copy made at build time is sent when the client accepts gzip.

mod serve;

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let accept_encoding = req
        .header("accept-encoding")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let reply = serve::answer(
        req.method().to_string().as_str(),
        req.path(),
        accept_encoding,
    );
    let mut builder = Response::builder();
    builder.status(reply.status);
    for (name, value) in reply.headers {
        builder.header(name, value);
    }
    builder.body(reply.body.to_vec()).build()
}
