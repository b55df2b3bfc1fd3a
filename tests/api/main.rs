//! The one integration-test binary: real PostgreSQL, real Redis, real `.wasm` in the host.

mod accounts;
mod analytics;
mod audit;
mod auth;
mod helpers;
mod host;
mod limits;
mod media;
mod metrics;
mod migrations;
mod outages;
mod pipeline;
mod posts;
mod scheduler;
mod spin_pool;
mod system;
mod web;
mod workspaces;
mod x_client;
