//! `xmp`: a Spin-compatible runner for this application on wasmtime. It reads the same
//! `spin.toml` and Spin-format runtime config and implements exactly the interfaces the
//! components import. The app never depends on anything only this host provides.

pub mod app;
pub mod bindings;
pub mod cron_trigger;
pub mod engine;
pub mod http_out;
pub mod http_trigger;
pub mod kv;
mod link;
pub mod log;
pub mod manifest;
pub mod migrate;
pub mod outbound;
pub mod pg;
pub mod routes;
pub mod runtime_config;
mod shared;
pub mod state;
pub mod variable_name;
pub mod variables;

pub use app::{start, AppOptions, RunningApp};
pub use engine::Runtime;
