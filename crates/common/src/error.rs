//! The one application error type at the HTTP boundary.
//!
//! Architecture invariant: only this module chooses HTTP status codes and error codes. Foreign
//! errors (Postgres, key-value, JSON, X) are converted here once, by meaning. Server-side errors
//! (5xx) never put their cause in the response body: the cause goes to the log, with the
//! correlation id and a 16-hex SHA-256 fingerprint so that operators can group occurrences.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt;

mod code;
pub use code::Code;

/// The error families of the API contract: each is one `error.type` of the envelope and one
/// HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request cannot be parsed (malformed JSON, bad query).
    BadRequest,
    /// 422: well-formed but semantically invalid (wrong types, failed rules).
    Validation,
    Authentication,
    Authorization,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    ExternalApi,
    ServiceUnavailable,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Validation => 422,
            ErrorKind::Authentication => 401,
            ErrorKind::Authorization => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::RateLimited => 429,
            ErrorKind::ExternalApi => 502,
            ErrorKind::ServiceUnavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The `error.type` of the envelope.
    pub fn type_name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest | ErrorKind::Validation => "VALIDATION_ERROR",
            ErrorKind::Authentication => "AUTHENTICATION_ERROR",
            ErrorKind::Authorization => "AUTHORIZATION_ERROR",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorKind::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorKind::RateLimited => "RATE_LIMIT_ERROR",
            ErrorKind::ExternalApi => "EXTERNAL_API_ERROR",
            ErrorKind::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorKind::Internal => "INTERNAL_ERROR",
        }
    }

    /// The message shown for server-side errors, which never carry their cause.
    fn generic_message(self) -> &'static str {
        match self {
            ErrorKind::ExternalApi => "An upstream service failed. Please retry later.",
            ErrorKind::ServiceUnavailable => {
                "The service is temporarily unavailable. Please retry later."
            }
            _ => "An internal error occurred.",
        }
    }

    pub fn is_server_error(self) -> bool {
        self.status() >= 500
    }
}

/// An error on its way to becoming an HTTP response. Boxed so that `Result<T, AppError>` stays
/// one pointer wide on the happy path; fields are read through `Deref`.
#[derive(Debug)]
pub struct AppError {
    inner: Box<ErrorInner>,
}

#[derive(Debug)]
pub struct ErrorInner {
    /// A stable machine-readable code from the registry ([`Code`]); it decides the family.
    pub code: Code,
    /// Shown to the client for 4xx; replaced by a generic text for 5xx.
    pub message: String,
    pub details: Option<Value>,
    /// The cause, for the log only.
    pub cause: Option<String>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    /// For 405: the allowed methods.
    pub allow: Option<String>,
    /// Extra response headers (e.g. `RateLimit-*` on a 429).
    pub headers: Vec<(String, String)>,
}

impl std::ops::Deref for AppError {
    type Target = ErrorInner;
    fn deref(&self) -> &ErrorInner {
        &self.inner
    }
}

impl std::ops::DerefMut for AppError {
    fn deref_mut(&mut self) -> &mut ErrorInner {
        &mut self.inner
    }
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AppError {
            inner: Box::new(ErrorInner {
                code,
                message: message.into(),
                details: None,
                cause: None,
                retry_after: None,
                allow: None,
                headers: Vec::new(),
            }),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// 403: authenticated, but the role does not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }

    /// 429 with `Retry-After` (whole seconds, at least 1): the API limit or login throttling.
    pub fn rate_limited(code: Code, retry_after_ms: i64) -> Self {
        let secs = ((retry_after_ms.max(1) + 999) / 1000) as u64;
        Self::new(code, "Too many requests. Please retry later.")
            .with_details(json!({ "retryAfterSeconds": secs }))
            .with_retry_after(secs)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Code::Invalid, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(Code::NoRoute, format!("No route for {path}"))
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let mut e = Self::new(Code::MethodNotAllowed, "Method not allowed on this route");
        e.allow = Some(allowed.join(", "));
        e.details = Some(json!({ "allowed": allowed }));
        e
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Code::Exists, message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            Code::BodyTooLarge,
            format!("The request body exceeds the limit of {limit} bytes"),
        )
        .with_details(json!({ "limitBytes": limit }))
    }

    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            Code::WrongContentType,
            format!("Content-Type must be {expected}"),
        )
    }

    /// 415 for an upload whose bytes are not a supported format, or are not the format its
    /// declared `Content-Type` claims (a spoofed type).
    pub fn media_rejected(message: impl Into<String>) -> Self {
        Self::new(Code::MediaRejected, message)
    }

    /// 413 for media over X's size limit for its kind (not the request-body limit).
    pub fn media_too_large(kind: &str, limit_bytes: u64) -> Self {
        Self::new(
            Code::MediaTooLarge,
            format!("{kind} files may be at most {limit_bytes} bytes"),
        )
        .with_details(json!({ "limitBytes": limit_bytes }))
    }

    /// A server-side error: the message is generic, the cause goes to the log only.
    pub fn server(code: Code, cause: impl fmt::Display) -> Self {
        Self::new(code, "").with_cause(cause)
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::server(Code::Internal, cause)
    }

    /// Configuration problems are server errors: the operator must act, the client cannot.
    pub fn config(cause: impl fmt::Display) -> Self {
        Self::server(Code::Config, cause)
    }

    /// The family of the error, decided by its code.
    pub fn kind(&self) -> ErrorKind {
        self.code.kind()
    }

    pub fn status(&self) -> u16 {
        self.kind().status()
    }

    /// A 16-hex SHA-256 fingerprint of the server-side cause, stable across occurrences.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.code.as_str().as_bytes());
        h.update(b"\0");
        h.update(self.cause.as_deref().unwrap_or(&self.message).as_bytes());
        hex::encode(h.finalize().iter().take(8).copied().collect::<Vec<u8>>())
    }

    /// The client-visible message: for 5xx always generic.
    pub fn public_message(&self) -> &str {
        if self.kind().is_server_error() || self.message.is_empty() {
            self.kind().generic_message()
        } else {
            &self.message
        }
    }

    /// The body of the error answer; its shape is shared with the host (`envelope::ErrorBody`).
    pub fn envelope(&self, correlation_id: &str, timestamp: &str) -> Value {
        // Details of server errors could describe internals; they are dropped with the cause.
        let details = self
            .details
            .as_ref()
            .filter(|_| !self.kind().is_server_error());
        envelope::ErrorBody {
            kind: self.kind().type_name(),
            code: self.code.as_str(),
            message: self.public_message(),
            correlation_id,
            timestamp,
            details,
        }
        .to_json()
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.kind().type_name(),
            self.code,
            self.message
        )?;
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<serde_json::Error> for AppError {
    /// Syntax errors are 400 with the position; well-formed JSON of the wrong shape is 422.
    fn from(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let position = json!({ "line": e.line(), "column": e.column() });
        match e.classify() {
            Category::Syntax | Category::Eof => AppError::new(
                Code::MalformedJson,
                format!("Malformed JSON at line {} column {}", e.line(), e.column()),
            )
            .with_details(position),
            Category::Data => {
                AppError::new(Code::WrongShape, strip_position(&e)).with_details(position)
            }
            Category::Io => AppError::internal(e),
        }
    }
}

/// serde_json appends " at line L column C"; the envelope carries those as details instead.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_cause_and_details() {
        let e = AppError::internal("password=hunter2 connection refused")
            .with_details(json!({"sql": "SELECT secret"}));
        let body = e.envelope("cid", "2026-01-01T00:00:00Z").to_string();
        assert!(!body.contains("hunter2"), "{body}");
        assert!(!body.contains("SELECT"), "{body}");
        assert!(body.contains("INTERNAL_ERROR"));
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn fingerprint_is_16_hex_and_stable() {
        let a = AppError::internal("boom").fingerprint();
        let b = AppError::internal("boom").fingerprint();
        let c = AppError::internal("other").fingerprint();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn malformed_json_is_400_with_position() {
        let err: AppError = serde_json::from_str::<Value>("{\"a\": ")
            .unwrap_err()
            .into();
        assert_eq!(err.status(), 400);
        assert_eq!(err.code, Code::MalformedJson);
        assert_eq!(err.details.as_ref().unwrap()["line"], 1);
    }

    #[test]
    fn wrong_types_are_422() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        let err: AppError = serde_json::from_str::<T>("{\"n\": \"x\"}")
            .unwrap_err()
            .into();
        assert_eq!(err.status(), 422);
        assert_eq!(err.code, Code::WrongShape);
        assert!(!err.message.contains("at line"));
    }
}
