//! The host's errors in words, for causes and log lines.
//!
//! Not `{:?}`: a derived `Debug` of the host's generated types (wasi:http's `ErrorCode` with its
//! payloads, PostgreSQL's error records, stream and key-value errors) links several kilobytes of
//! formatting code into every component for text nobody reads differently. These name the
//! error and keep the parts a person needs (PostgreSQL's code and message, a DNS rcode, an
//! internal message).

use spin_sdk::http::ErrorCode;
use spin_sdk::pg4::{PgError, QueryError};
use wasi::io::streams::StreamError;

/// A wasi:http error code: its variant's name (as `Debug` wrote it), with the payload that says
/// more where there is one.
pub fn error_code(code: &ErrorCode) -> String {
    let name = match code {
        ErrorCode::DnsTimeout => "DnsTimeout",
        ErrorCode::DnsError(p) => {
            let rcode = p.rcode.as_deref().unwrap_or("-");
            let info = p.info_code.map(|c| c.to_string()).unwrap_or_default();
            return format!("DnsError(rcode {rcode}, info {info})");
        }
        ErrorCode::DestinationNotFound => "DestinationNotFound",
        ErrorCode::DestinationUnavailable => "DestinationUnavailable",
        ErrorCode::DestinationIpProhibited => "DestinationIpProhibited",
        ErrorCode::DestinationIpUnroutable => "DestinationIpUnroutable",
        ErrorCode::ConnectionRefused => "ConnectionRefused",
        ErrorCode::ConnectionTerminated => "ConnectionTerminated",
        ErrorCode::ConnectionTimeout => "ConnectionTimeout",
        ErrorCode::ConnectionReadTimeout => "ConnectionReadTimeout",
        ErrorCode::ConnectionWriteTimeout => "ConnectionWriteTimeout",
        ErrorCode::ConnectionLimitReached => "ConnectionLimitReached",
        ErrorCode::TlsProtocolError => "TlsProtocolError",
        ErrorCode::TlsCertificateError => "TlsCertificateError",
        ErrorCode::TlsAlertReceived(p) => {
            let message = p.alert_message.as_deref().unwrap_or("");
            return format!("TlsAlertReceived({message})");
        }
        ErrorCode::HttpRequestDenied => "HttpRequestDenied",
        ErrorCode::HttpRequestLengthRequired => "HttpRequestLengthRequired",
        ErrorCode::HttpRequestBodySize(_) => "HttpRequestBodySize",
        ErrorCode::HttpRequestMethodInvalid => "HttpRequestMethodInvalid",
        ErrorCode::HttpRequestUriInvalid => "HttpRequestUriInvalid",
        ErrorCode::HttpRequestUriTooLong => "HttpRequestUriTooLong",
        ErrorCode::HttpRequestHeaderSectionSize(_) => "HttpRequestHeaderSectionSize",
        ErrorCode::HttpRequestHeaderSize(_) => "HttpRequestHeaderSize",
        ErrorCode::HttpRequestTrailerSectionSize(_) => "HttpRequestTrailerSectionSize",
        ErrorCode::HttpRequestTrailerSize(_) => "HttpRequestTrailerSize",
        ErrorCode::HttpResponseIncomplete => "HttpResponseIncomplete",
        ErrorCode::HttpResponseHeaderSectionSize(_) => "HttpResponseHeaderSectionSize",
        ErrorCode::HttpResponseHeaderSize(_) => "HttpResponseHeaderSize",
        ErrorCode::HttpResponseBodySize(_) => "HttpResponseBodySize",
        ErrorCode::HttpResponseTrailerSectionSize(_) => "HttpResponseTrailerSectionSize",
        ErrorCode::HttpResponseTrailerSize(_) => "HttpResponseTrailerSize",
        ErrorCode::HttpResponseTransferCoding(_) => "HttpResponseTransferCoding",
        ErrorCode::HttpResponseContentCoding(_) => "HttpResponseContentCoding",
        ErrorCode::HttpResponseTimeout => "HttpResponseTimeout",
        ErrorCode::HttpUpgradeFailed => "HttpUpgradeFailed",
        ErrorCode::HttpProtocolError => "HttpProtocolError",
        ErrorCode::LoopDetected => "LoopDetected",
        ErrorCode::ConfigurationError => "ConfigurationError",
        ErrorCode::InternalError(message) => {
            return format!("InternalError({})", message.as_deref().unwrap_or(""));
        }
    };
    name.to_string()
}

/// A stream error: closed, or the host's own description of the failed operation.
pub fn stream_error(e: &StreamError) -> String {
    match e {
        StreamError::Closed => "stream closed".to_string(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}

/// A PostgreSQL error: its kind, and for a database error its severity, SQLSTATE, message and
/// detail.
pub fn pg_error(e: &PgError) -> String {
    match e {
        PgError::ConnectionFailed(m) => format!("connection failed: {m}"),
        PgError::BadParameter(m) => format!("bad parameter: {m}"),
        PgError::QueryFailed(QueryError::Text(m)) => format!("query failed: {m}"),
        PgError::QueryFailed(QueryError::DbError(db)) => {
            let detail = db.detail.as_deref().unwrap_or("");
            format!("{} {}: {} {detail}", db.severity, db.code, db.message)
        }
        PgError::ValueConversionFailed(m) => format!("value conversion failed: {m}"),
        PgError::Other(m) => m.clone(),
    }
}
