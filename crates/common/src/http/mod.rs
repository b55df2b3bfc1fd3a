//! The request pipeline every HTTP component uses: correlation, routing (404/405 envelopes),
//! JSON bodies with a size limit (413), content-type checks (415), malformed JSON (400 with the
//! position), the success and error envelopes, and one structured access-log line per request.

mod pipeline;
mod respond;
mod router;

pub use pipeline::{query_value, serve, Ctx, Reply};
pub use respond::send;
pub use router::{Method, Params, Router};
