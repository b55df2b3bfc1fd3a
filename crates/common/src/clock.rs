//! The wall clock as the components read it, and the one way instants are written in the API.

/// Unix milliseconds now. Logic takes `now` as a parameter; only entry points call this.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds (`2026-11-25T01:15:20.003Z`), the format
/// of every instant the API answers (PostgreSQL's `xmp_iso()` writes the same).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
