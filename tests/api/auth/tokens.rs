//! Tokens: JWT negatives, the previous secret, rotation and reuse of refresh tokens, logout, and
//! a secret too short to sign with.

use super::{claims_of, hs256, now, profile_status, refresh, sign};
use crate::helpers::{assert_error_envelope, Kv, Setup, PASSWORD, TEST_JWT_SECRET};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn invalid_access_tokens_are_refused_with_401() {
    let app = Setup::app().spawn().await;
    let data = app.register("ann@example.com", "Ann").await;
    let good = data["accessToken"].as_str().unwrap().to_string();
    let claims = claims_of(&good);
    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(with("sub", json!(uuid::Uuid::new_v4().to_string())).to_string()),
        parts[2]
    );
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        parts[1]
    );
    let cases = [
        (none, "alg none"),
        (
            sign(
                &json!({"alg": "HS512", "typ": "JWT"}),
                &claims,
                TEST_JWT_SECRET,
            ),
            "another algorithm",
        ),
        (tampered, "tampered payload"),
        (
            sign(&hs256(), &claims, "another-secret-that-is-32-bytes-long!!"),
            "wrong signature",
        ),
        (
            sign(&hs256(), &with("exp", json!(now() - 10)), TEST_JWT_SECRET),
            "expired",
        ),
        (
            sign(&hs256(), &with("nbf", json!(now() + 300)), TEST_JWT_SECRET),
            "not yet valid",
        ),
        (
            sign(&hs256(), &with("iss", json!("evil")), TEST_JWT_SECRET),
            "wrong issuer",
        ),
        (
            sign(&hs256(), &with("aud", json!("other-api")), TEST_JWT_SECRET),
            "wrong audience",
        ),
        ("not.a.jwt".to_string(), "garbage"),
        (String::new(), "empty"),
    ];
    assert_eq!(
        profile_status(&app, &sign(&hs256(), &claims, TEST_JWT_SECRET)).await,
        200,
        "control"
    );
    for (token, why) in cases {
        let resp = app.auth_get("/api/auth/profile", &token).await;
        assert_eq!(resp.status, 401, "{why}: {}", resp.text);
        assert_error_envelope(&resp, 401, "AUTHENTICATION_ERROR");
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"), "{why}");
    }
    let missing = app.get("/api/auth/profile").await;
    assert_error_envelope(&missing, 401, "AUTHENTICATION_ERROR");
}

#[tokio::test]
async fn a_token_signed_with_the_previous_secret_is_still_accepted() {
    let new_secret = "the-new-secret-after-rotation-0123456789";
    let app = Setup::app()
        .var("jwt_secret", new_secret)
        .var("jwt_secret_previous", TEST_JWT_SECRET)
        .spawn()
        .await;
    let data = app.register("ann@example.com", "Ann").await;
    let claims = claims_of(data["accessToken"].as_str().unwrap());

    let old = sign(&hs256(), &claims, TEST_JWT_SECRET);
    let new = sign(&hs256(), &claims, new_secret);
    let unknown = sign(&hs256(), &claims, "some-third-secret-nobody-configured-42");

    assert_eq!(profile_status(&app, &old).await, 200, "previous secret");
    assert_eq!(profile_status(&app, &new).await, 200, "current secret");
    assert_eq!(profile_status(&app, &unknown).await, 401, "unknown secret");
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_rotated_token_revokes_the_family() {
    let app = Setup::app().spawn().await;
    let data = app.register("ann@example.com", "Ann").await;
    let r0 = data["refreshToken"].as_str().unwrap().to_string();

    let first = refresh(&app, &r0).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let r1 = first.json()["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let a1 = first.json()["data"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(r0, r1);
    assert_eq!(profile_status(&app, &a1).await, 200);

    let reuse = refresh(&app, &r0).await;

    assert_error_envelope(&reuse, 401, "AUTHENTICATION_ERROR");
    assert_eq!(
        refresh(&app, &r1).await.status,
        401,
        "the family is revoked"
    );
    assert_eq!(
        profile_status(&app, &a1).await,
        401,
        "its access tokens too"
    );
    let db = app.db.client().await;
    let row = db
        .query_one(
            "SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reuse' AND actor_id = $1::text::uuid",
            &[&data["user"]["id"].as_str().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1, "reuse is audit-logged");
    let unknown = refresh(&app, "no-such-token").await;
    assert_error_envelope(&unknown, 401, "AUTHENTICATION_ERROR");
}

#[tokio::test]
async fn two_concurrent_refreshes_with_one_token_rotate_once_and_revoke_the_family() {
    let app = Setup::app().spawn().await;
    let data = app.register("ann@example.com", "Ann").await;
    let r0 = data["refreshToken"].as_str().unwrap();

    let (a, b) = tokio::join!(refresh(&app, r0), refresh(&app, r0));

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{} / {}", a.text, b.text);
    let winner = if a.status == 200 { &a } else { &b };
    let r1 = winner.json()["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        refresh(&app, &r1).await.status,
        401,
        "the second use was reuse"
    );
}

#[tokio::test]
async fn logout_stops_the_access_token_at_once_and_revokes_the_refresh_token() {
    let app = Setup::app().kv(Kv::Redis).spawn().await;
    let data = app.register("ann@example.com", "Ann").await;
    let access = data["accessToken"].as_str().unwrap();
    let other = app.login("ann@example.com", PASSWORD).await.json()["data"].clone();

    let resp = app
        .authed(Method::POST, "/api/auth/logout", access, None, &[])
        .await;

    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        profile_status(&app, access).await,
        401,
        "token after logout"
    );
    assert_eq!(
        refresh(&app, data["refreshToken"].as_str().unwrap())
            .await
            .status,
        401
    );
    assert_eq!(
        profile_status(&app, other["accessToken"].as_str().unwrap()).await,
        200,
        "another session is untouched"
    );
}

#[tokio::test]
async fn a_short_jwt_secret_is_a_clear_configuration_error_without_leaking_it() {
    let app = Setup::app().var("jwt_secret", "too-short").spawn().await;

    let resp = app.login("ann@example.com", PASSWORD).await;

    let error = assert_error_envelope(&resp, 500, "INTERNAL_ERROR");
    assert_eq!(error["code"], "CFG_001");
    assert!(!resp.text.contains("too-short") && !resp.text.contains("jwt_secret"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logs = app.log_lines().join("\n");
    assert!(
        logs.contains("jwt_secret must be at least 32 bytes"),
        "{logs}"
    );
    assert!(
        !logs.contains("too-short"),
        "the secret never reaches the log"
    );
}
