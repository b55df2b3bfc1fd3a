//! Readiness: Postgres and key-value, each with its status and latency, answered within 2 s
//! even when Postgres is unreachable (the connection attempt carries `connect_timeout=1`).

use crate::config::{Config, Secret};
use crate::db::Db;
use crate::error::{AppError, Code};
use crate::http::Reply;
use crate::kv::Kv;
use crate::log::{self, Level};
use serde_json::{json, Value};
use std::time::Instant;

/// Runs every check. A failed check's report names its error code and fingerprint, never its
/// cause; the cause goes to one log line with that fingerprint and the correlation id, so it
/// reaches the component's log on Spin too (the response is a 503 answered normally, so the
/// pipeline's error line never sees it).
pub fn check(config: &Config, correlation_id: &str) -> Result<Reply, AppError> {
    let postgres = timed("postgres", correlation_id, || {
        let db = Db::connect(&with_connect_timeout(&config.database_url))?;
        db.query("SELECT 1 AS ok", &[])?;
        Ok(())
    });
    let key_value = timed("keyValue", correlation_id, key_value_round_trip);
    let healthy = postgres.0 && key_value.0;
    let data = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "checks": { "postgres": postgres.1, "keyValue": key_value.1 },
        "version": env!("CARGO_PKG_VERSION"),
    });
    Ok(Reply::with_status(if healthy { 200 } else { 503 }, data))
}

/// Writes, reads back and deletes a key of its own: concurrent checks never see each other's
/// writes (one shared key made some of them fail under load).
fn key_value_round_trip() -> Result<(), AppError> {
    let kv = Kv::open("health")?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    let key = format!("probe:{}", hex::encode(nonce));
    let now = chrono::Utc::now().timestamp_millis();
    let written = format!("{now}:{}", hex::encode(nonce));
    kv.set_json(&key, &written, Some(60_000), now)?;
    let read = kv.get_json::<String>(&key, now);
    // Deleted whatever the read said; a failed delete expires on its own.
    let deleted = kv.delete(&key);
    match read? {
        Some(v) if v == written => deleted,
        _ => Err(AppError::server(
            Code::KvInconsistent,
            "key-value read did not return the write",
        )),
    }
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

/// Runs a check, returning (passed, report). A failure names its error code, never its cause,
/// and is logged with its cause.
fn timed(
    name: &str,
    correlation_id: &str,
    f: impl FnOnce() -> Result<(), AppError>,
) -> (bool, Value) {
    let started = Instant::now();
    let result = f();
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    match result {
        Ok(()) => (true, json!({ "status": "ok", "latencyMs": latency_ms })),
        Err(e) => {
            let fingerprint = e.fingerprint();
            log::emit(
                Level::Error,
                correlation_id,
                "health check failed",
                json!({
                    "check": name,
                    "code": e.code,
                    "fingerprint": fingerprint,
                    "cause": e.cause.as_deref().unwrap_or(&e.message),
                }),
            );
            (
                false,
                json!({ "status": "failed", "latencyMs": latency_ms, "error": e.code, "fingerprint": fingerprint }),
            )
        }
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
