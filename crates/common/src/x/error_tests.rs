//! The classification of X's answers into [`XError`] and its mapping into the envelope.

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

/// 4xx other than 429: what X refused, and why.
#[test]
fn refusals_map_to_their_variant() {
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
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "case: {name}");
    }
}

/// 429: which budget ran out, and until when.
#[test]
fn limits_map_to_the_window_and_scope_they_name() {
    let cases: Vec<(&str, XError, XError)> = vec![
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
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "case: {name}");
    }
}

/// 5xx: failures to retry (a 504 is a timeout).
#[test]
fn server_failures_map_to_their_variant() {
    let cases: Vec<(&str, XError, XError)> = vec![
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

/// Each error's family and code in the envelope; a 5xx envelope never carries X's text.
fn assert_app_errors(cases: Vec<(XError, ErrorKind, &str)>) {
    let now = at(1_000);
    for (x, kind, code) in cases {
        let e = x.to_app_error(now);
        assert_eq!((e.kind(), e.code.as_str()), (kind, code), "for {x:?}");
        if kind.is_server_error() {
            let body = e.envelope("cid", "t").to_string();
            assert!(!body.contains("secret=abc"), "{body}");
        }
    }
}

#[test]
fn app_errors_of_refusals_and_limits_pick_kinds_by_meaning() {
    assert_app_errors(vec![
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
            XError::InvalidRequest {
                detail: "d".into(),
                details: json!([]),
            },
            ErrorKind::Validation,
            "X_INVALID",
        ),
    ]);
    let now = at(1_000);
    let limited = XError::RateLimited {
        reset_at: at(1_060),
        scope: RateScope::App,
        window: RateWindow::Hours24,
    };
    assert_eq!(limited.to_app_error(now).retry_after, Some(60));
}

#[test]
fn app_errors_of_outages_are_server_errors_that_hide_upstream_causes() {
    assert_app_errors(vec![
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
    ]);
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
