//! Identity: registration, login, tokens (JWT negatives, rotation, reuse, logout), password
//! change, profile, login throttling and the API rate limit.

use crate::helpers::{assert_error_envelope, Kv, Setup, TestApp, PASSWORD, TEST_JWT_SECRET};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

/// Signs `claims` with HS256 under `secret`, with the given header.
fn sign(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn hs256() -> Value {
    json!({ "alg": "HS256", "typ": "JWT" })
}

async fn profile_status(app: &TestApp, token: &str) -> u16 {
    app.auth_get("/api/auth/profile", token).await.status
}

async fn refresh(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.post_json("/api/auth/refresh", &json!({ "refreshToken": token }))
        .await
}

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
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = Setup::app().spawn().await;
    let mine = app.register("ann@example.com", "Ann").await;
    let other = app.login("ann@example.com", PASSWORD).await.json()["data"].clone();
    let token = mine["accessToken"].as_str().unwrap();
    let new_pw = "a brand new passphrase";

    let wrong = app
        .authed(
            Method::POST,
            "/api/auth/password",
            token,
            Some(&json!({"currentPassword": "nope nope", "newPassword": new_pw})),
            &[],
        )
        .await;
    let weak = app
        .authed(
            Method::POST,
            "/api/auth/password",
            token,
            Some(&json!({"currentPassword": PASSWORD, "newPassword": "password"})),
            &[],
        )
        .await;
    let ok = app
        .authed(
            Method::POST,
            "/api/auth/password",
            token,
            Some(&json!({"currentPassword": PASSWORD, "newPassword": new_pw})),
            &[],
        )
        .await;

    assert_error_envelope(&wrong, 401, "AUTHENTICATION_ERROR");
    assert_error_envelope(&weak, 422, "VALIDATION_ERROR");
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        profile_status(&app, token).await,
        200,
        "this session continues"
    );
    assert_eq!(
        profile_status(&app, other["accessToken"].as_str().unwrap()).await,
        401
    );
    assert_eq!(
        refresh(&app, other["refreshToken"].as_str().unwrap())
            .await
            .status,
        401
    );
    assert_eq!(app.login("ann@example.com", PASSWORD).await.status, 401);
    assert_eq!(app.login("ann@example.com", new_pw).await.status, 200);
}

#[tokio::test]
async fn the_profile_updates_name_timezone_and_default_workspace_with_checks() {
    let app = Setup::app().spawn().await;
    let ann = app.register("ann@example.com", "Ann").await;
    let bob = app.register("bob@example.com", "Bob").await;
    let token = ann["accessToken"].as_str().unwrap();
    let bobs_ws = app
        .auth_get("/api/auth/profile", bob["accessToken"].as_str().unwrap())
        .await
        .json()["data"]["defaultWorkspaceId"]
        .clone();
    let app = &app;
    let patch = |body: Value| async move {
        app.authed(Method::PATCH, "/api/auth/profile", token, Some(&body), &[])
            .await
    };

    let ok = patch(json!({"name": "Ann B", "timezone": "Europe/Paris"})).await;
    let bad_tz = patch(json!({"timezone": "Mars/Olympus"})).await;
    let foreign = patch(json!({"defaultWorkspaceId": bobs_ws})).await;

    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["data"]["name"], "Ann B");
    assert_eq!(ok.json()["data"]["timezone"], "Europe/Paris");
    assert_error_envelope(&bad_tz, 422, "VALIDATION_ERROR");
    assert_error_envelope(&foreign, 404, "NOT_FOUND");
}

#[tokio::test]
async fn concurrent_login_attempts_past_the_limit_get_429_with_retry_after() {
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("login_limit_per_email", "3")
        .spawn()
        .await;
    app.register("ann@example.com", "Ann").await;

    let attempts = (0..10).map(|i| {
        let app = &app;
        async move {
            app.login("ann@example.com", &format!("guess number {i}"))
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;

    let refused: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    let checked = results.iter().filter(|r| r.status == 401).count();
    assert_eq!(
        (checked, refused.len()),
        (3, 7),
        "exactly the quota is checked"
    );
    for r in &refused {
        assert_error_envelope(r, 429, "RATE_LIMIT_ERROR");
        let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
        // Within the next 15-minute window at the latest.
        assert!((1..=1800).contains(&secs), "Retry-After {secs}");
    }
    let correct = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(correct.status, 429, "even the right password waits");
}

#[tokio::test]
async fn login_attempts_are_limited_per_client_address_across_emails() {
    let app = Setup::app()
        .var("login_limit_per_client", "3")
        .spawn()
        .await;
    app.register("ann@example.com", "Ann").await; // takes one cell

    let a = app.login("x1@example.com", "whatever pw").await;
    let b = app.login("x2@example.com", "whatever pw").await;
    let c = app.login("x3@example.com", "whatever pw").await;

    assert_eq!((a.status, b.status), (401, 401));
    assert_error_envelope(&c, 429, "RATE_LIMIT_ERROR");
    assert!(c.header("retry-after").is_some());
}

#[tokio::test]
async fn authenticated_routes_report_rate_limit_headers_and_refuse_past_the_limit() {
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_limit", "3")
        .var("api_rate_window_seconds", "60")
        .spawn()
        .await;
    let token = app.register("ann@example.com", "Ann").await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();

    let mut remaining = vec![];
    for _ in 0..3 {
        let r = app.auth_get("/api/auth/profile", &token).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-limit"), Some("3"));
        assert!(r.header("ratelimit-reset").is_some());
        remaining.push(r.header("ratelimit-remaining").unwrap().to_string());
    }
    let over = app.auth_get("/api/workspaces", &token).await;

    assert_eq!(remaining, ["2", "1", "0"]);
    assert_error_envelope(&over, 429, "RATE_LIMIT_ERROR");
    // The three requests weigh on the next window until 20 s into it (3 × 40/60 + 1 = 3).
    let retry: i64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((21..=80).contains(&retry), "Retry-After {retry}");
    assert_eq!(over.header("ratelimit-remaining"), Some("0"));
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

#[tokio::test]
async fn a_burst_of_one_users_requests_on_redis_gets_exactly_the_quota_served() {
    // Arrange: Redis, where one user's simultaneous requests reach the same limiter key at once.
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_limit", "40")
        .var("api_rate_window_seconds", "3600")
        .spawn()
        .await;
    let user = app.register("burst@example.com", "Burst").await;
    let token = user["accessToken"].as_str().unwrap().to_string();

    // Act
    let calls = (0..48).map(|_| profile_status(&app, &token));
    let statuses = futures::future::join_all(calls).await;

    // Assert: no request fails on contention, and exactly the quota gets through.
    let served = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((served, refused), (40, 8), "{statuses:?}");
}

#[tokio::test]
async fn a_users_limiter_keeps_at_most_three_keys_however_many_windows_pass() {
    // Arrange: one-second windows, so a few seconds of requests cross several of them.
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_window_seconds", "1")
        .spawn()
        .await;
    let user = app.register("windows@example.com", "Windows").await;
    let token = user["accessToken"].as_str().unwrap().to_string();
    let mut redis = redis::Client::open(app.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let pattern = format!("{}auth:ratelimit:api:*", app.redis_prefix);

    // Act: requests spread over about four and a half windows, the keys counted after each.
    let mut statuses = Vec::new();
    let mut most_keys = 0;
    for _ in 0..15 {
        statuses.push(profile_status(&app, &token).await);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query_async(&mut redis)
            .await
            .unwrap();
        most_keys = most_keys.max(keys.len());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    // Assert: the counters of this and the previous window, and the marker.
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(
        (2..=3).contains(&most_keys),
        "at most 3 keys, saw {most_keys}"
    );
}
