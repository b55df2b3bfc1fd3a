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
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    fn classify(status: u16, body: Value, headers: &[(&str, &str)]) -> XError {
        let rate = RateHeaders::parse(headers.iter().map(|(k, v)| (*k, *v)));
        XError::from_response(status, &rate, body.to_string().as_bytes(), at(1_000))
    }

    fn problem(status: u16, suffix: &str, detail: &str) -> Value {
        json!({"title": "t", "detail": detail, "status": status,
               "type": format!("https://api.twitter.com/2/problems/{suffix}")})
    }

    #[test]
    fn every_status_and_problem_maps_to_its_variant() {
        let cases: Vec<(&str, XError, XError)> = vec![
            (
                "401 needs re-auth",
                classify(
                    401,
                    json!({"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}),
                    &[],
                ),
                XError::Unauthorized {
                    detail: "Unauthorized".into(),
                },
            ),
            (
                "403 duplicate text",
                classify(
                    403,
                    json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "status": 403}),
                    &[],
                ),
                XError::DuplicateContent,
            ),
            (
                "403 other reason",
                classify(
                    403,
                    json!({"detail": "You are not permitted to perform this action.", "type": "about:blank"}),
                    &[],
                ),
                XError::Forbidden {
                    reason: "You are not permitted to perform this action.".into(),
                },
            ),
            (
                "403 typed problem",
                classify(
                    403,
                    problem(403, "not-authorized-for-resource", "You are not authorized"),
                    &[],
                ),
                XError::Forbidden {
                    reason: "You are not authorized".into(),
                },
            ),
            (
                "404",
                classify(
                    404,
                    problem(
                        404,
                        "resource-not-found",
                        "Could not find tweet with id: [1].",
                    ),
                    &[],
                ),
                XError::NotFound {
                    detail: "Could not find tweet with id: [1].".into(),
                },
            ),
            (
                "429 usage capped",
                classify(
                    429,
                    problem(
                        429,
                        "usage-capped",
                        "Usage cap exceeded: Monthly product cap",
                    ),
                    &[],
                ),
                XError::UsageCapped,
            ),
            (
                "429 user 15 min",
                classify(
                    429,
                    json!({"title": "Too Many Requests"}),
                    &[
                        ("x-rate-limit-limit", "100"),
                        ("x-rate-limit-remaining", "0"),
                        ("x-rate-limit-reset", "1900"),
                    ],
                ),
                XError::RateLimited {
                    reset_at: at(1_900),
                    scope: RateScope::User,
                    window: RateWindow::Min15,
                },
            ),
            (
                "429 user 24 h",
                classify(
                    429,
                    json!({}),
                    &[
                        ("x-rate-limit-remaining", "40"),
                        ("x-rate-limit-reset", "1900"),
                        ("x-user-limit-24hour-remaining", "0"),
                        ("x-user-limit-24hour-reset", "86000"),
                    ],
                ),
                XError::RateLimited {
                    reset_at: at(86_000),
                    scope: RateScope::User,
                    window: RateWindow::Hours24,
                },
            ),
            (
                "429 app 24 h",
                classify(
                    429,
                    json!({}),
                    &[
                        ("x-rate-limit-remaining", "40"),
                        ("x-rate-limit-reset", "1900"),
                        ("x-app-limit-24hour-remaining", "0"),
                        ("x-app-limit-24hour-reset", "50000"),
                    ],
                ),
                XError::RateLimited {
                    reset_at: at(50_000),
                    scope: RateScope::App,
                    window: RateWindow::Hours24,
                },
            ),
            (
                "429 without headers waits a window",
                classify(429, json!({}), &[]),
                XError::RateLimited {
                    reset_at: at(1_900),
                    scope: RateScope::User,
                    window: RateWindow::Min15,
                },
            ),
            (
                "400 keeps X's errors",
                classify(
                    400,
                    json!({"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.x.com/2/problems/invalid-request", "errors": [{"message": "bad poll"}]}),
                    &[],
                ),
                XError::InvalidRequest {
                    detail: "One or more parameters to your request was invalid.".into(),
                    details: json!([{"message": "bad poll"}]),
                },
            ),
            (
                "500",
                classify(500, json!({}), &[]),
                XError::Server { status: 500 },
            ),
            (
                "503 non-JSON",
                XError::from_response(503, &RateHeaders::default(), b"<html>", at(0)),
                XError::Server { status: 503 },
            ),
            (
                "504 is a timeout",
                classify(504, json!({}), &[]),
                XError::Timeout,
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, want, "case: {name}");
        }
    }

    #[test]
    fn token_endpoint_errors_separate_the_user_from_the_operator() {
        let spent = br#"{"error":"invalid_request","error_description":"Value passed for the token was invalid."}"#;
        assert!(matches!(
            XError::from_oauth_response(400, spent, at(0)),
            XError::Unauthorized { .. }
        ));
        let grant = br#"{"error":"invalid_grant","error_description":"expired"}"#;
        assert!(matches!(
            XError::from_oauth_response(400, grant, at(0)),
            XError::Unauthorized { .. }
        ));
        let client = br#"{"error":"unauthorized_client","error_description":"Missing valid authorization header"}"#;
        assert!(matches!(
            XError::from_oauth_response(401, client, at(0)),
            XError::ClientAuth { .. }
        ));
        assert_eq!(
            XError::from_oauth_response(502, b"", at(0)),
            XError::Server { status: 502 }
        );
    }

    #[test]
    fn app_errors_pick_kinds_by_meaning_and_hide_upstream_causes() {
        let now = at(1_000);
        let cases: Vec<(XError, ErrorKind, &str)> = vec![
            (
                XError::Unauthorized { detail: "x".into() },
                ErrorKind::Conflict,
                "X_REAUTH",
            ),
            (
                XError::Forbidden {
                    reason: "no".into(),
                },
                ErrorKind::Validation,
                "X_FORBIDDEN",
            ),
            (XError::DuplicateContent, ErrorKind::Conflict, "X_DUPLICATE"),
            (
                XError::NotFound { detail: "x".into() },
                ErrorKind::NotFound,
                "X_NOT_FOUND",
            ),
            (
                XError::RateLimited {
                    reset_at: at(1_060),
                    scope: RateScope::User,
                    window: RateWindow::Min15,
                },
                ErrorKind::RateLimited,
                "X_RATE_LIMITED",
            ),
            (
                XError::Deferred { until: at(1_010) },
                ErrorKind::RateLimited,
                "X_BUDGET",
            ),
            (
                XError::UsageCapped,
                ErrorKind::ServiceUnavailable,
                "X_USAGE_CAPPED",
            ),
            (
                XError::CircuitOpen { until: at(1_030) },
                ErrorKind::ServiceUnavailable,
                "X_CIRCUIT_OPEN",
            ),
            (
                XError::InvalidRequest {
                    detail: "d".into(),
                    details: json!([]),
                },
                ErrorKind::Validation,
                "X_INVALID",
            ),
            (
                XError::ClientAuth {
                    detail: "secret=abc".into(),
                },
                ErrorKind::Internal,
                "CFG_X",
            ),
            (
                XError::Server { status: 503 },
                ErrorKind::ExternalApi,
                "X_UPSTREAM",
            ),
            (XError::Timeout, ErrorKind::ExternalApi, "X_TIMEOUT"),
            (
                XError::Network {
                    detail: "refused".into(),
                },
                ErrorKind::ExternalApi,
                "X_NETWORK",
            ),
            (
                XError::UnknownOutcome {
                    detail: "reset".into(),
                },
                ErrorKind::ExternalApi,
                "X_UNKNOWN_OUTCOME",
            ),
            (
                XError::Decode {
                    detail: "eof".into(),
                },
                ErrorKind::ExternalApi,
                "X_BAD_RESPONSE",
            ),
        ];
        for (x, kind, code) in cases {
            let e = x.to_app_error(now);
            assert_eq!((e.kind(), e.code.as_str()), (kind, code), "for {x:?}");
            if kind.is_server_error() {
                let body = e.envelope("cid", "t").to_string();
                assert!(!body.contains("secret=abc"), "{body}");
            }
        }
        let limited = XError::RateLimited {
            reset_at: at(1_060),
            scope: RateScope::App,
            window: RateWindow::Hours24,
        };
        assert_eq!(limited.to_app_error(now).retry_after, Some(60));
    }

    #[test]
    fn only_outages_count_for_the_breaker() {
        assert!(XError::Server { status: 500 }.is_outage());
        assert!(XError::Timeout.is_outage());
        assert!(!XError::DuplicateContent.is_outage());
        assert!(!XError::RateLimited {
            reset_at: at(0),
            scope: RateScope::User,
            window: RateWindow::Min15
        }
        .is_outage());
        assert!(!XError::UnknownOutcome {
            detail: String::new()
        }
        .is_transient());
    }
}
