//! Everything the components share. Components are thin: they parse a request, call into this
//! crate, and respond. Only [`error`] decides status codes.

// Production code never panics: a panic is a trap, which Spin answers with an empty 500.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod clock;
pub mod config;
pub mod correlation;
pub mod cron;
pub mod crypto;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod identity;
pub mod json;
pub mod kv;
pub mod log;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod posts;
pub mod ratelimit;
pub mod scheduler;
pub mod users;
pub mod workspaces;
pub mod x;

pub use error::{AppError, ErrorKind};
