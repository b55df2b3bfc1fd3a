//! Structured JSON log lines on stdout (the host prefixes them with the component id).
//! Every line carries the correlation id; secrets never reach this module because config wraps
//! them in [`crate::config::Secret`], whose `Debug` and `Display` are redacted.

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Writes one JSON line: `{"ts", "level", "msg", "correlationId", ...fields}`.
pub fn emit(level: Level, correlation_id: &str, msg: &str, fields: Value) {
    println!("{}", line(level, correlation_id, msg, fields));
}

pub fn line(level: Level, correlation_id: &str, msg: &str, fields: Value) -> String {
    let mut obj = Map::new();
    obj.insert("ts".into(), json!(now_rfc3339()));
    obj.insert("level".into(), json!(level.as_str()));
    obj.insert("msg".into(), json!(msg));
    obj.insert("correlationId".into(), json!(correlation_id));
    if let Value::Object(extra) = fields {
        obj.extend(extra);
    }
    Value::Object(obj).to_string()
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_is_one_json_object_with_the_correlation_id() {
        let l = line(Level::Info, "cid-1", "hello\nworld", json!({"status": 200}));
        assert!(!l.contains('\n'));
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["correlationId"], "cid-1");
        assert_eq!(v["status"], 200);
        assert_eq!(v["level"], "info");
    }
}
