//! Readiness: Postgres and key-value, each with its status and latency, answered within 2 s
//! even when Postgres is unreachable (the connection attempt carries `connect_timeout=1`).

use crate::config::{Config, Secret};
use crate::db::Db;
use crate::error::AppError;
use crate::http::Reply;
use crate::kv::Kv;
use serde_json::{json, Value};
use std::time::Instant;

pub fn check(config: &Config) -> Result<Reply, AppError> {
    let postgres = timed(|| {
        let db = Db::connect(&with_connect_timeout(&config.database_url))?;
        db.query("SELECT 1 AS ok", &[])?;
        Ok(())
    });
    let key_value = timed(|| {
        let kv = Kv::open("health")?;
        let now = chrono::Utc::now().timestamp_millis();
        kv.set_json("probe", &now, Some(60_000), now)?;
        match kv.get_json::<i64>("probe", now)? {
            Some(v) if v == now => Ok(()),
            _ => Err(AppError::unavailable(
                "KV_002",
                "key-value read did not return the write",
            )),
        }
    });
    let healthy = postgres.0 && key_value.0;
    let data = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "checks": { "postgres": postgres.1, "keyValue": key_value.1 },
        "version": env!("CARGO_PKG_VERSION"),
    });
    Ok(Reply::with_status(if healthy { 200 } else { 503 }, data))
}

/// The version document every component can serve.
pub fn version(component: &str) -> Value {
    json!({
        "name": "xmp",
        "version": env!("CARGO_PKG_VERSION"),
        "component": component,
        "commit": option_env!("XMP_GIT_SHA").unwrap_or("unknown"),
    })
}

/// Runs a check, returning (passed, report). A failure names its error code, never its cause.
fn timed(f: impl FnOnce() -> Result<(), AppError>) -> (bool, Value) {
    let started = Instant::now();
    let result = f();
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    match result {
        Ok(()) => (true, json!({ "status": "ok", "latencyMs": latency_ms })),
        Err(e) => (
            false,
            json!({ "status": "failed", "latencyMs": latency_ms, "error": e.code, "fingerprint": e.fingerprint() }),
        ),
    }
}

/// Adds `connect_timeout=1` (seconds) unless the address already sets one.
pub fn with_connect_timeout(url: &Secret<String>) -> Secret<String> {
    let raw = url.expose();
    if raw.contains("connect_timeout") {
        return url.clone();
    }
    let next = if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        let sep = if raw.contains('?') { '&' } else { '?' };
        format!("{raw}{sep}connect_timeout=1")
    } else {
        format!("{raw} connect_timeout=1")
    };
    Secret::new(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once_in_either_address_form() {
        let cases = [
            ("postgres://h/db", "postgres://h/db?connect_timeout=1"),
            (
                "postgres://h/db?sslmode=disable",
                "postgres://h/db?sslmode=disable&connect_timeout=1",
            ),
            ("host=h dbname=db", "host=h dbname=db connect_timeout=1"),
            (
                "postgres://h/db?connect_timeout=5",
                "postgres://h/db?connect_timeout=5",
            ),
        ];
        for (input, expected) in cases {
            let out = with_connect_timeout(&Secret::new(input.to_string()));
            assert_eq!(out.expose(), expected, "{input}");
        }
    }
}
