//! Typed X API errors, classified once from the status, X's problem details and the rate-limit
//! headers, and converted once into [`AppError`] by meaning.
//!
//! The conversion picks an [`ErrorKind`], never a number: status codes stay the business of
//! `common::error`.

use super::rate::{main_window, RateHeaders, RateScope, RateWindow};
use crate::error::{AppError, Code};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::fmt;

/// Everything that can go wrong talking to X.
#[derive(Debug, Clone, PartialEq)]
pub enum XError {
    /// 401, or a token endpoint refusing the grant: the account must be reconnected.
    Unauthorized {
        detail: String,
    },
    /// 403 other than duplicate content: X refused this action (suspended user, bad media,
    /// over-long text, missing scope).
    Forbidden {
        reason: String,
    },
    /// 403 "You are not allowed to create a Tweet with duplicate content." — for a create whose
    /// first attempt had an unknown outcome, evidence that the post exists.
    DuplicateContent,
    NotFound {
        detail: String,
    },
    RateLimited {
        reset_at: DateTime<Utc>,
        scope: RateScope,
        window: RateWindow,
    },
    /// The monthly usage cap of the app is reached; nothing helps until the cap resets.
    UsageCapped,
    /// 400: our request was not acceptable; `details` carries X's `errors` array.
    InvalidRequest {
        detail: String,
        details: Value,
    },
    /// The app's own credentials were refused by the token endpoint: an operator problem.
    ClientAuth {
        detail: String,
    },
    Server {
        status: u16,
    },
    /// No answer in time. For `POST /2/tweets` the client reports `UnknownOutcome` instead
    /// unless the request provably never left.
    Timeout,
    /// The request could not be sent (DNS, refused connection, host not allowed).
    Network {
        detail: String,
    },
    /// `POST /2/tweets` was (possibly) sent but no answer came back: reconcile before retrying.
    UnknownOutcome {
        detail: String,
    },
    /// A 2xx whose body we could not understand.
    Decode {
        detail: String,
    },
    /// Refused locally: the circuit breaker is open.
    CircuitOpen {
        until: DateTime<Utc>,
    },
    /// Refused locally: the rate-limit budget says wait.
    Deferred {
        until: DateTime<Utc>,
    },
}

/// The suffix of a problem `type` URI (`https://api.x.com/2/problems/usage-capped` →
/// `usage-capped`); the host part has changed over the years, the suffix has not.
pub fn problem_suffix(body: &Value) -> &str {
    body.get("type")
        .and_then(Value::as_str)
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or("")
}

const DUPLICATE_TEXT: &str = "duplicate content";

impl XError {
    /// The `RateLimited` error of a 429 with these headers: the exhausted window with the
    /// latest reset wins, because nothing succeeds before it; on a tie the broadest one (the
    /// app's), since it blocks every account. With no headers at all, one 15-minute window.
    pub fn rate_limited(rate: &RateHeaders, now: DateTime<Utc>) -> XError {
        // `max_by_key` keeps the last of equal keys: narrowest first.
        let candidates = [
            (rate.main, RateScope::User, main_window(rate.main, now)),
            (rate.user24, RateScope::User, RateWindow::Hours24),
            (rate.app24, RateScope::App, RateWindow::Hours24),
        ];
        let best = candidates
            .iter()
            .filter_map(|(w, s, win)| w.filter(|w| w.remaining == 0).map(|w| (w.reset, *s, *win)))
            .max_by_key(|(reset, ..)| *reset);
        let (reset_at, scope, window) = best.unwrap_or_else(|| {
            let reset = rate.main.map_or(now + Duration::minutes(15), |w| w.reset);
            (reset, RateScope::User, RateWindow::Min15)
        });
        XError::RateLimited {
            reset_at: reset_at.max(now),
            scope,
            window,
        }
    }

    /// Classifies a non-2xx response of the X API proper (not the OAuth token endpoint).
    pub fn from_response(status: u16, rate: &RateHeaders, body: &[u8], now: DateTime<Utc>) -> Self {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let suffix = problem_suffix(&body);
        let detail = text_of(&body);
        match status {
            400 => XError::InvalidRequest {
                detail,
                details: body.get("errors").cloned().unwrap_or(Value::Null),
            },
            401 => XError::Unauthorized { detail },
            403 if detail.to_ascii_lowercase().contains(DUPLICATE_TEXT) => XError::DuplicateContent,
            403 => XError::Forbidden { reason: detail },
            404 => XError::NotFound { detail },
            429 if suffix == "usage-capped" => XError::UsageCapped,
            429 => XError::rate_limited(rate, now),
            408 | 504 => XError::Timeout,
            _ => XError::Server { status },
        }
    }

    /// Classifies an error of `POST /2/oauth2/token` or `/revoke` (`{"error", "error_description"}`).
    pub fn from_oauth_response(status: u16, body: &[u8], now: DateTime<Utc>) -> Self {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let error = body.get("error").and_then(Value::as_str).unwrap_or("");
        let detail = body
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or(error)
            .to_string();
        match (status, error) {
            (_, "invalid_client" | "unauthorized_client") | (401, _) => {
                XError::ClientAuth { detail }
            }
            // X answers a spent, revoked or unknown code or refresh token with a 400
            // `invalid_request` (and the RFC says `invalid_grant`): the user must reconnect.
            (400, _) => XError::Unauthorized { detail },
            (429, _) => XError::rate_limited(&RateHeaders::default(), now),
            (s, _) if s >= 500 => XError::Server { status: s },
            _ => XError::InvalidRequest {
                detail,
                details: body,
            },
        }
    }

    /// Whether the failure says something about X's health, for the circuit breaker.
    /// Client-side mistakes, refusals and rate limits do not open the circuit.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            XError::Server { .. }
                | XError::Timeout
                | XError::Network { .. }
                | XError::UnknownOutcome { .. }
        )
    }

    /// Whether trying again later could succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            XError::Server { .. } | XError::Timeout | XError::Network { .. }
        )
    }

    /// A stable name for this kind of failure: the `cause` of post history events and the
    /// label of the publish metrics (GET /api/metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            XError::Unauthorized { .. } => "unauthorized",
            XError::Forbidden { .. } => "forbidden",
            XError::DuplicateContent => "duplicate_content",
            XError::NotFound { .. } => "not_found",
            XError::RateLimited { .. } => "rate_limited",
            XError::UsageCapped => "usage_capped",
            XError::InvalidRequest { .. } => "invalid_request",
            XError::ClientAuth { .. } => "client_auth",
            XError::Server { .. } => "server_error",
            XError::Timeout => "timeout",
            XError::Network { .. } => "network",
            XError::UnknownOutcome { .. } => "unknown_outcome",
            XError::Decode { .. } => "decode",
            XError::CircuitOpen { .. } => "circuit_open",
            XError::Deferred { .. } => "budget",
        }
    }

    /// The `AppError` for this failure, with `Retry-After` counted from `now`.
    pub fn to_app_error(&self, now: DateTime<Utc>) -> AppError {
        let wait = |until: &DateTime<Utc>| (*until - now).num_seconds().max(1) as u64;
        let upstream = |code: Code| AppError::server(code, format!("X API: {self}"));
        match self {
            XError::Unauthorized { .. } => {
                AppError::new(Code::XReauth, "The X account must be reconnected.")
                    .with_details(json!({ "accountStatus": "needs_reauth" }))
            }
            XError::Forbidden { reason } => {
                AppError::new(Code::XForbidden, format!("X refused the request: {reason}"))
            }
            XError::DuplicateContent => AppError::new(
                Code::XDuplicate,
                "X refused the post as a duplicate of a recent one.",
            ),
            XError::NotFound { .. } => AppError::new(Code::XNotFound, "Not found on X."),
            XError::RateLimited { reset_at, .. } => {
                AppError::new(Code::XRateLimited, "The X rate limit is reached.")
                    .with_retry_after(wait(reset_at))
            }
            XError::Deferred { until } => AppError::new(
                Code::XBudget,
                "The X rate-limit budget for this account is spent.",
            )
            .with_retry_after(wait(until)),
            XError::UsageCapped => {
                AppError::new(Code::XUsageCapped, "").with_cause("X API: monthly usage cap reached")
            }
            XError::CircuitOpen { until } => AppError::new(Code::XCircuitOpen, "")
                .with_cause("X API: circuit breaker open")
                .with_retry_after(wait(until)),
            XError::InvalidRequest { detail, details } => {
                AppError::new(Code::XInvalid, format!("X rejected the request: {detail}"))
                    .with_details(json!({ "x": details }))
            }
            XError::ClientAuth { .. } => {
                AppError::new(Code::XClientConfig, "").with_cause(format!("X API: {self}"))
            }
            XError::Server { .. } => upstream(Code::XUpstream),
            XError::Timeout => upstream(Code::XTimeout),
            XError::Network { .. } => upstream(Code::XNetwork),
            XError::UnknownOutcome { .. } => upstream(Code::XUnknownOutcome),
            XError::Decode { .. } => upstream(Code::XBadResponse),
        }
    }
}

impl From<XError> for AppError {
    /// The boundary conversion; `Retry-After` is counted from the wall clock here because a
    /// `From` cannot take `now` (logic that needs a driven clock calls `to_app_error`).
    fn from(e: XError) -> Self {
        e.to_app_error(Utc::now())
    }
}

impl fmt::Display for XError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XError::Unauthorized { detail } => write!(f, "unauthorized: {detail}"),
            XError::Forbidden { reason } => write!(f, "forbidden: {reason}"),
            XError::DuplicateContent => f.write_str("duplicate content"),
            XError::NotFound { detail } => write!(f, "not found: {detail}"),
            XError::RateLimited {
                reset_at,
                scope,
                window,
            } => write!(f, "rate limited ({scope:?}, {window:?}) until {reset_at}"),
            XError::UsageCapped => f.write_str("usage capped"),
            XError::InvalidRequest { detail, details } => {
                write!(f, "invalid request: {detail} {details}")
            }
            XError::ClientAuth { detail } => write!(f, "client credentials refused: {detail}"),
            XError::Server { status } => write!(f, "server error {status}"),
            XError::Timeout => f.write_str("timeout"),
            XError::Network { detail } => write!(f, "network: {detail}"),
            XError::UnknownOutcome { detail } => write!(f, "unknown outcome: {detail}"),
            XError::Decode { detail } => write!(f, "undecodable response: {detail}"),
            XError::CircuitOpen { until } => write!(f, "circuit open until {until}"),
            XError::Deferred { until } => write!(f, "deferred until {until}"),
        }
    }
}

impl std::error::Error for XError {}

/// The most useful human text of a problem body: `detail`, else `title`, else the first
/// `errors[].message`.
fn text_of(body: &Value) -> String {
    let first_error = body
        .get("errors")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("message").or_else(|| e.get("detail")));
    [body.get("detail"), body.get("title"), first_error]
        .into_iter()
        .flatten()
        .find_map(Value::as_str)
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
