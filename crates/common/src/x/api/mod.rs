//! X API v2 requests and responses, without I/O: builders that turn intentions into
//! [`XRequest`]s ([`request`]) and parsers that turn bodies into types ([`response`]). Shapes
//! follow X's OpenAPI document (`shared/x-api/openapi.json`), with X's wire names (`tweet`,
//! `retweet_count`).

pub mod request;
pub mod response;

pub use request::*;
pub use response::*;

#[cfg(test)]
mod tests;
