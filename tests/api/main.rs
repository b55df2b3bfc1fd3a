//! The one integration-test binary: real PostgreSQL, real Redis, real `.wasm` in the host.

mod accounts;
mod audit;
mod auth;
mod helpers;
mod host;
mod limits;
mod media;
mod migrations;
mod outages;
mod pipeline;
mod posts;
mod scheduler;
mod system;
mod workspaces;
mod x_client;
