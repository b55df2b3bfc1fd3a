//! The few rules the host (`xmp`) and the components must apply identically, kept in one place
//! so that they cannot drift apart: the body of the error envelope ([`ErrorBody`]) and the
//! correlation-id rule ([`correlation`]).
//!
//! Architecture invariant: this crate depends on no crate of the workspace and on neither Spin
//! nor wasmtime, so that both sides can link it; it is linked into every component, so it stays
//! small.

pub mod correlation;

use serde_json::{Map, Value};

/// The body of every error answer: `{"success": false, "error": {...}}`. The caller decides
/// what goes in it (the generic message of a 5xx, whether details may be shown); this type
/// only decides the shape, so that every error answer has the same one.
#[derive(Debug, Clone, Copy)]
pub struct ErrorBody<'a> {
    /// The error's type (`error.type`), e.g. `VALIDATION_ERROR`.
    pub kind: &'a str,
    /// The stable code (`error.code`), e.g. `VAL_001`.
    pub code: &'a str,
    /// The client-visible message.
    pub message: &'a str,
    pub correlation_id: &'a str,
    /// The instant of the answer, in RFC 3339.
    pub timestamp: &'a str,
    /// `error.details`, left out of the body when `None`.
    pub details: Option<&'a Value>,
}

impl ErrorBody<'_> {
    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), self.kind.into());
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.into());
        error.insert("correlationId".into(), self.correlation_id.into());
        error.insert("timestamp".into(), self.timestamp.into());
        if let Some(details) = self.details {
            error.insert("details".into(), details.clone());
        }
        let mut body = Map::new();
        body.insert("success".into(), false.into());
        body.insert("error".into(), error.into());
        body.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(details: Option<&Value>) -> Value {
        ErrorBody {
            kind: "VALIDATION_ERROR",
            code: "VAL_001",
            message: "bad input",
            correlation_id: "cid",
            timestamp: "2026-01-01T00:00:00Z",
            details,
        }
        .to_json()
    }

    #[test]
    fn the_envelope_has_the_documented_shape() {
        let details = json!({ "field": "text" });
        assert_eq!(
            body(Some(&details)),
            json!({
                "success": false,
                "error": {
                    "type": "VALIDATION_ERROR",
                    "code": "VAL_001",
                    "message": "bad input",
                    "correlationId": "cid",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "details": { "field": "text" },
                }
            })
        );
    }

    #[test]
    fn absent_details_leave_no_key_behind() {
        let out = body(None);
        assert_eq!(out["error"].get("details"), None, "{out}");
        assert_eq!(out["error"]["code"], "VAL_001");
    }
}
