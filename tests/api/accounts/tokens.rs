//! Tokens: sealed at rest, refreshed once however many ask, refreshed ahead of expiry in the
//! background, what revocation and transient failures do, and key rotation.

use super::{AccountsTest, ME, OTHER};
use crate::helpers::{assert_error_envelope, insert_workspace, now_ms, seed_account, Setup};
use reqwest::Method;
use serde_json::{json, Value};
use xsim::{FaultKind, Profile};

#[tokio::test]
async fn a_database_dump_contains_no_token_or_secret_in_clear_text() {
    // Arrange
    let t = AccountsTest::start().await;
    t.connected(ME).await;
    let creds = t.st().oauth1_credentials(OTHER, None).unwrap();
    let resp = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(&json!({
                "apiKey": creds.consumer_key,
                "apiSecret": creds.consumer_secret,
                "accessToken": creds.access_token,
                "accessTokenSecret": creds.access_token_secret,
            })),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let (access, refresh) = t.live_tokens(ME);
    assert!(!access.is_empty() && !refresh.is_empty());

    // Act
    let dump = std::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", &t.app.db.url])
        .output()
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8(dump.stdout).unwrap();

    // Assert
    assert!(
        dump.contains(xsim::DEFAULT_USERNAME),
        "the dump has the accounts"
    );
    let secrets = access.iter().chain(&refresh).chain([
        &creds.consumer_secret,
        &creds.access_token,
        &creds.access_token_secret,
    ]);
    for secret in secrets {
        assert!(
            !dump.contains(secret.as_str()),
            "a secret is in the dump in clear text"
        );
    }
}

#[tokio::test]
async fn two_concurrent_refreshes_make_one_call_to_x_and_leave_one_valid_token_pair() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let path = format!("/api/accounts/{id}/refresh");
    let before = t.st().request_count("POST", "/2/oauth2/token");
    // The first refresh holds the account's lock for a while at X.
    t.fault("POST", "/2/oauth2/token", FaultKind::Delay, 200, 400);

    // Act
    let (a, b) = tokio::join!(
        t.call(Method::POST, &path, &t.token, None),
        t.call(Method::POST, &path, &t.token, None)
    );
    let calls = t.st().request_count("POST", "/2/oauth2/token") - before;
    let verified = t
        .app
        .auth_get(&format!("/api/accounts/{id}/health?verify=true"), &t.token)
        .await;
    let later = t.call(Method::POST, &path, &t.token, None).await;

    // Assert
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(b.status, 200, "{}", b.text);
    let refreshed = [&a, &b]
        .iter()
        .filter(|r| r.json()["data"]["refreshed"] == true)
        .count();
    assert_eq!(
        refreshed, 1,
        "one refresh did the work: {} / {}",
        a.text, b.text
    );
    assert_eq!(calls, 1, "one call to X's token endpoint");
    let health = verified.json()["data"].clone();
    assert_eq!(
        health["verified"]["ok"], true,
        "the stored access token works: {health}"
    );
    assert_eq!(health["status"], "active");
    assert_eq!(
        later.status, 200,
        "the stored refresh token works: {}",
        later.text
    );
    assert_eq!(later.json()["data"]["refreshed"], true);
    // Earlier access tokens stay valid until they expire, as at X; refresh tokens rotate.
    let (_, refresh) = t.live_tokens(ME);
    assert_eq!(refresh.len(), 1, "one valid refresh token at X");
}

#[tokio::test]
async fn a_token_revoked_at_x_turns_the_account_needs_reauth_but_a_transient_failure_does_not() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();

    // Act: X is down for one refresh.
    t.fault("POST", "/2/oauth2/token", FaultKind::Status, 503, 0);
    let transient = t
        .call(
            Method::POST,
            &format!("/api/accounts/{id}/refresh"),
            &t.token,
            None,
        )
        .await;
    let after_transient = t.account(id).await;
    // Then the user revokes the app at X.
    t.st().inner.lock().revoke_user(ME);
    let verified = t
        .app
        .auth_get(&format!("/api/accounts/{id}/health?verify=true"), &t.token)
        .await;
    let health = t
        .app
        .auth_get(&format!("/api/accounts/{id}/health"), &t.token)
        .await;
    let refresh_again = t
        .call(
            Method::POST,
            &format!("/api/accounts/{id}/refresh"),
            &t.token,
            None,
        )
        .await;
    let reconnected = t.connected(ME).await;

    // Assert
    assert_eq!(transient.status, 502, "{}", transient.text);
    assert!(
        !transient.text.contains("503 Service"),
        "{}",
        transient.text
    );
    assert_eq!(after_transient["status"], "active", "{after_transient}");
    assert!(
        after_transient["lastError"].is_string(),
        "{after_transient}"
    );
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.json()["data"]["verified"]["ok"], false);
    let health = health.json()["data"].clone();
    assert_eq!(health["status"], "needs_reauth", "{health}");
    assert_eq!(health["token"]["state"], "needs_reauth");
    assert!(health["lastError"].is_string());
    let failures: Vec<&str> = health["recentFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        failures,
        ["account.needs_reauth", "account.refresh_failed"],
        "{health}"
    );
    let err = assert_error_envelope(&refresh_again, 409, "CONFLICT");
    assert_eq!(err["code"], "X_REAUTH");
    assert_eq!(
        reconnected["status"], "active",
        "reconnecting reactivates it"
    );
    assert_eq!(reconnected["lastError"], Value::Null);
}

#[tokio::test]
async fn the_background_pass_refreshes_tokens_expiring_within_15_minutes_and_only_those() {
    // Arrange: three seeded accounts (the probe seals their tokens as the app does).
    let (sim, app) = Setup::probe().with_sim(Profile::Standard).await;
    let third: u64 = 1_700_000_000_000_000_888;
    {
        let mut inner = sim.state().inner.lock();
        inner.add_user(OTHER, "second_brand", "Second Brand", 0);
        inner.add_user(third, "third_brand", "Third Brand", 0);
    }
    let db = app.db.client().await;
    let ws = insert_workspace(&app, "seeded").await;
    let now = now_ms();
    let mut ids = Vec::new();
    for (user, expires_in_ms) in [(ME, 5 * 60_000), (OTHER, 2 * 3_600_000), (third, 60_000)] {
        ids.push(seed_account(&app, &sim, &ws, user, now + expires_in_ms).await);
    }
    // The third user revoked the app at X.
    sim.state().inner.lock().revoke_user(third);
    let expiry = |id: String| {
        let db = &db;
        async move {
            db.query_one(
                "SELECT (extract(epoch FROM token_expires_at) * 1000)::int8, status
                 FROM x_accounts WHERE id = $1::text::uuid",
                &[&id],
            )
            .await
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
            .unwrap()
        }
    };
    let at_now = json!({ "now_ms": now });
    let refresh_expiring = || app.post_json("/probe/accounts/refresh-expiring", &at_now);

    // Act
    let first = refresh_expiring().await;
    let second = refresh_expiring().await;

    // Assert
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.json()["data"],
        json!({ "refreshed": 1, "skipped": 0, "failed": 0, "needsReauth": 1 })
    );
    assert_eq!(
        second.json()["data"],
        json!({ "refreshed": 0, "skipped": 0, "failed": 0, "needsReauth": 0 }),
        "nothing is due any more"
    );
    let (soon, soon_status) = expiry(ids[0].clone()).await;
    assert!(soon > now + 60 * 60_000, "renewed for about two hours");
    assert_eq!(soon_status, "active");
    let (later, _) = expiry(ids[1].clone()).await;
    assert_eq!(later, now + 2 * 3_600_000, "not due, not touched");
    let (_, revoked_status) = expiry(ids[2].clone()).await;
    assert_eq!(revoked_status, "needs_reauth");
}

#[tokio::test]
async fn credentials_sealed_with_the_previous_key_open_and_are_resealed_with_the_new_one() {
    // Arrange: an account connected under the first key.
    let t = AccountsTest::start().await;
    let id = t.connected(ME).await["id"].as_str().unwrap().to_string();
    let db = t.app.db.client().await;
    let key_id = || async {
        db.query_one(
            "SELECT key_id FROM x_accounts WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get::<_, String>(0)
    };
    let first_key = key_id().await;
    let new_key = "bmV3LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc=";
    let rotated = |previous: Option<&str>| {
        let mut setup = AccountsTest::setup(&t.sim)
            .var("database_url", &t.app.db.url)
            .var("encryption_key", new_key);
        if let Some(p) = previous {
            setup = setup.var("encryption_key_previous", p);
        }
        setup.spawn()
    };
    let verify = |app: &crate::helpers::TestApp| {
        let path = format!("/api/accounts/{id}/health?verify=true");
        let token = t.token.clone();
        let app_address = app.address.clone();
        async move {
            let resp = reqwest::Client::new()
                .get(format!("{app_address}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            body["data"]["verified"]["ok"].clone()
        }
    };

    // Act: the new key with the old one as previous, then the new key alone.
    let during = rotated(Some(crate::helpers::TEST_ENCRYPTION_KEY)).await;
    let verified_during = verify(&during).await;
    let resealed_key = key_id().await;
    let after = rotated(None).await;
    let verified_after = verify(&after).await;

    // Assert
    assert_eq!(verified_during, true, "the previous key still opens");
    assert_ne!(resealed_key, first_key, "re-sealed with the new key on use");
    assert_eq!(verified_after, true, "the old key is no longer needed");
}
