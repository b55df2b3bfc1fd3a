//! Host log lines: JSON for the host's own events, `[component] line` for guest output.
//! Tests capture them instead of printing.

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub enum LogSink {
    #[default]
    Stdout,
    Capture(Arc<Mutex<Vec<String>>>),
}

impl LogSink {
    pub fn capture() -> (LogSink, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (LogSink::Capture(lines.clone()), lines)
    }

    pub fn line(&self, line: String) {
        match self {
            LogSink::Stdout => println!("{line}"),
            LogSink::Capture(lines) => lines.lock().expect("log lines").push(line),
        }
    }

    /// A host event: `{"ts","level","msg",...fields}`.
    pub fn event(&self, level: &str, msg: &str, fields: Value) {
        let mut obj = json!({
            "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "level": level,
            "msg": msg,
            "source": "host",
        });
        if let (Value::Object(o), Value::Object(extra)) = (&mut obj, fields) {
            o.extend(extra);
        }
        self.line(obj.to_string());
    }

    pub fn guest(&self, component: &str, lines: Vec<String>) {
        for l in lines {
            self.line(format!("[{component}] {l}"));
        }
    }
}
