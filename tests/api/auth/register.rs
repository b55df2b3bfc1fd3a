//! Registration and login, and the envelopes of bad bodies on the public routes.

use super::claims_of;
use crate::helpers::{assert_error_envelope, Setup, PASSWORD};
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn registering_returns_tokens_and_a_workspace_the_user_owns() {
    let app = Setup::app().spawn().await;

    let data = app.register("Ann@Example.com", "Ann").await;

    assert_eq!(data["user"]["email"], "ann@example.com");
    assert_eq!(data["user"]["name"], "Ann");
    assert_eq!(data["expiresIn"], 900);
    assert_eq!(data["refreshToken"].as_str().unwrap().len(), 43);
    let claims = claims_of(data["accessToken"].as_str().unwrap());
    assert_eq!(claims["sub"], data["user"]["id"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    for claim in ["iss", "aud", "nbf", "jti"] {
        assert!(!claims[claim].is_null(), "claim {claim}");
    }
    let profile = app
        .auth_get("/api/auth/profile", data["accessToken"].as_str().unwrap())
        .await;
    assert_eq!(profile.status, 200, "{}", profile.text);
    let p = profile.json()["data"].clone();
    assert_eq!(p["workspaces"][0]["role"], "owner");
    assert_eq!(p["defaultWorkspaceId"], p["workspaces"][0]["id"]);
    assert_eq!(p["timezone"], "UTC");
}

#[tokio::test]
async fn registration_refuses_bad_input_and_a_taken_email() {
    let app = Setup::app().spawn().await;
    app.register("ann@example.com", "Ann").await;
    let cases = [
        (
            json!({"email": "ANN@example.com", "password": PASSWORD, "name": "A"}),
            409,
            "CONFLICT",
            "taken email, any case",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "A"}),
            422,
            "VALIDATION_ERROR",
            "bad email",
        ),
        (
            json!({"email": "b@example.com", "password": "short", "name": "B"}),
            422,
            "VALIDATION_ERROR",
            "short password",
        ),
        (
            json!({"email": "b@example.com", "password": "x".repeat(129), "name": "B"}),
            422,
            "VALIDATION_ERROR",
            "long password",
        ),
        (
            json!({"email": "b@example.com", "password": "Password123", "name": "B"}),
            422,
            "VALIDATION_ERROR",
            "common password",
        ),
        (
            json!({"email": "b@example.com", "password": PASSWORD, "name": "  "}),
            422,
            "VALIDATION_ERROR",
            "blank name",
        ),
        (
            json!({"email": "b@example.com", "password": PASSWORD}),
            422,
            "VALIDATION_ERROR",
            "missing name",
        ),
    ];
    for (body, status, kind, why) in cases {
        let resp = app.post_json("/api/auth/register", &body).await;
        assert_eq!(resp.status, status, "{why}: {}", resp.text);
        assert_error_envelope(&resp, status, kind);
        assert!(!resp.text.contains(PASSWORD), "{why}: password echoed");
    }
}

#[tokio::test]
async fn login_answers_the_same_for_a_wrong_password_and_an_unknown_email() {
    let app = Setup::app().spawn().await;
    app.register("ann@example.com", "Ann").await;

    let ok = app.login("ANN@example.com", PASSWORD).await;
    let wrong = app.login("ann@example.com", "wrong password!").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;

    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["data"]["user"]["email"], "ann@example.com");
    assert!(ok.json()["data"]["accessToken"].is_string());
    let a = assert_error_envelope(&wrong, 401, "AUTHENTICATION_ERROR");
    let b = assert_error_envelope(&unknown, 401, "AUTHENTICATION_ERROR");
    assert_eq!((&a["code"], &a["message"]), (&b["code"], &b["message"]));
}

#[tokio::test]
async fn unknown_emails_cost_as_much_time_as_known_ones() {
    let app = Setup::app().spawn().await;
    app.register("ann@example.com", "Ann").await;
    let mut known = vec![];
    let mut unknown = vec![];

    for i in 0..5 {
        let t = Instant::now();
        assert_eq!(
            app.login("ann@example.com", &format!("wrong-{i}-password"))
                .await
                .status,
            401
        );
        known.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(
            app.login(&format!("ghost{i}@example.com"), "wrong-password")
                .await
                .status,
            401
        );
        unknown.push(t.elapsed());
    }

    known.sort();
    unknown.sort();
    let (k, u) = (known[2], unknown[2]);
    assert!(
        u * 2 > k && k * 2 > u,
        "median known {k:?} vs unknown {u:?}: argon2 runs for both"
    );
}

/// (headers, body, status, error type, why)
type BodyCase<'a> = (&'a [(&'a str, &'a str)], Vec<u8>, u16, &'a str, &'a str);

#[tokio::test]
async fn malformed_wrong_and_oversized_bodies_get_their_envelopes() {
    let app = Setup::app().var("max_body_bytes", "1024").spawn().await;
    let json = [("content-type", "application/json")];
    let cases: [BodyCase; 5] = [
        (
            &json,
            b"{\"email\": ".to_vec(),
            400,
            "VALIDATION_ERROR",
            "malformed",
        ),
        (
            &json,
            b"{\"email\": 42}".to_vec(),
            422,
            "VALIDATION_ERROR",
            "wrong shape",
        ),
        (&json, Vec::new(), 400, "VALIDATION_ERROR", "empty"),
        (
            &[("content-type", "text/plain")],
            b"hi".to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "not JSON",
        ),
        (
            &json,
            vec![b' '; 4096],
            413,
            "PAYLOAD_TOO_LARGE",
            "oversized",
        ),
    ];
    for path in ["/api/auth/login", "/api/auth/register", "/api/auth/refresh"] {
        for (headers, body, status, kind, why) in &cases {
            let resp = app
                .request(Method::POST, path, headers, Some(body.clone()))
                .await;
            assert_eq!(resp.status, *status, "{path} {why}: {}", resp.text);
            assert_error_envelope(&resp, *status, kind);
        }
    }
}
