//! `TestApp`: the host started in-process on a free port, against a fresh database cloned from
//! a migrated template and a per-test Redis key prefix. One wasmtime engine for the whole test
//! binary; components are built once (`cargo build --target wasm32-wasip2`) and compiled once.
//!
//! With `SPIN_BIN=/path/to/spin` (`make test-spin`), every `TestApp` is a real `spin up` of the
//! same manifest instead, against the same per-test database; on Redis, each app gets a Redis
//! database number of its own (Spin's store has no key prefix). Tests about `xmp` itself are
//! named `xmp_…` and return at once there ([`skip_on_spin`]).

mod app;
mod db;
mod probe;
mod setup;
mod spin;

pub use app::{Resp, TestApp};
pub use db::{admin, TestDb};
pub use probe::{insert_workspace, seed_account};
pub use setup::{start_sim, Kv, Setup};
pub use spin::{skip_on_spin, spin_bin};

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use xmp_host::Runtime;

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The `jwt_secret` every TestApp gets unless a test sets another.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123456789";
/// The `encryption_key` every TestApp gets unless a test sets another (32 bytes, base64).
pub const TEST_ENCRYPTION_KEY: &str = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The wall clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Builds the wasm components once per test binary.
pub(crate) fn build_components() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        // The same two builds as `make components` (the size profile for the API components).
        let builds: [&[&str]; 2] = [
            &["--release", "-p", "system", "-p", "web", "-p", "probe"],
            &[
                "--profile",
                "release-small",
                "-p",
                "auth",
                "-p",
                "accounts",
                "-p",
                "tweets",
                "-p",
                "scheduler",
                "-p",
                "analytics",
            ],
        ];
        for args in builds {
            let status = std::process::Command::new(env!("CARGO"))
                .current_dir(root())
                .args(["build", "--target", "wasm32-wasip2"])
                .args(args)
                .status()
                .expect("run cargo build for the components");
            assert!(status.success(), "building the components failed");
        }
    });
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        build_components();
        Runtime::new(Some(root().join("target/xmp-test-cache"))).expect("engine")
    })
}

/// Asserts the error envelope every failure answers (`success: false` and an `error` with
/// type, code, message, timestamp and the request's correlation id); returns the `error`.
pub fn assert_error_envelope(resp: &Resp, status: u16, kind: &str) -> Value {
    assert_eq!(resp.status, status, "status; body: {}", resp.text);
    let body = resp.json();
    assert_eq!(body["success"], false, "{body}");
    let error = body["error"].clone();
    assert_eq!(error["type"], kind, "{body}");
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "code: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message: {body}"
    );
    assert!(
        error["timestamp"].as_str().is_some_and(|t| t.contains('T')),
        "timestamp: {body}"
    );
    let cid = resp
        .header("x-correlation-id")
        .expect("x-correlation-id header");
    assert_eq!(
        error["correlationId"], cid,
        "envelope and header agree: {body}"
    );
    error
}
