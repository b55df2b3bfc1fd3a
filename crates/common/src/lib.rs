//! The plumbing every component and domain crate shares: errors (only [`error`] decides status
//! codes), correlation ids, the HTTP pipeline and router, typed configuration from Spin
//! variables, PostgreSQL and key-value helpers, the clock, pagination, logging, crypto, API rate
//! limiting, JSON helpers, the cron bindings, the API document, readiness and the X API client.
//!
//! Architecture invariant: this crate knows no domain. It depends on no crate of the workspace
//! but `envelope` (the error envelope and the correlation-id rule, shared with the host); users,
//! roles, accounts, posts, the scheduler and analytics live in their own crates above it (see
//! ARCHITECTURE.md and `tests/layering`).

pub mod clock;
pub mod config;
pub mod correlation;
pub mod cron;
pub mod crypto;
pub mod db;
pub mod describe;
pub mod error;
pub mod health;
pub mod http;
pub mod json;
pub mod kv;
pub mod log;
pub mod openapi;
pub mod pagination;
pub mod ratelimit;
pub mod task;
pub mod x;

pub use error::{AppError, ErrorKind};
