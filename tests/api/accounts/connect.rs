//! The OAuth 2.0 connect flow and its refusals, OAuth 1.0a credentials, and where the
//! callback sends the browser.

use super::{query_param, AccountsTest, ME, OTHER};
use crate::helpers::{assert_error_envelope, Resp};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn connecting_through_x_creates_the_account_and_connecting_the_same_user_again_reconnects_it()
{
    // Arrange
    let t = AccountsTest::start().await;

    // Act
    let started = t.start_connect(&t.token).await;
    let url = started["authorizeUrl"].as_str().unwrap().to_string();
    let callback = t.consent(&url, ME).await;
    let first = t.app.get(&callback).await;
    let again = t.connect(ME).await;
    let list = t.app.auth_get("/api/accounts", &t.token).await;

    // Assert
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&url, "state").as_deref(),
        started["state"].as_str()
    );
    assert!(
        callback.starts_with("/api/accounts/oauth/callback?"),
        "{callback}"
    );
    assert_eq!(first.status, 201, "{}", first.text);
    let account = &first.json()["data"]["account"];
    assert_eq!(account["username"], xsim::DEFAULT_USERNAME);
    assert_eq!(account["xUserId"], ME.to_string());
    assert_eq!(account["authKind"], "oauth2");
    assert_eq!(account["status"], "active");
    assert!(account["tokenExpiresAt"].is_string(), "{account}");
    assert!(account.get("credentials").is_none(), "{account}");
    assert_eq!(again.status, 200, "reconnect: {}", again.text);
    assert_eq!(again.json()["data"]["created"], false);
    assert_eq!(again.json()["data"]["account"]["id"], account["id"]);
    let items = list.json()["data"]["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    let actions = t.audit_actions().await;
    assert!(
        actions.contains(&"account.connected".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"account.reconnected".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_tampered_expired_or_replayed_state_is_refused_and_creates_nothing() {
    // Arrange
    let t = AccountsTest::start().await;
    let started = t.start_connect(&t.token).await;
    let state = started["state"].as_str().unwrap().to_string();
    let callback = t
        .consent(started["authorizeUrl"].as_str().unwrap(), ME)
        .await;
    let mut tampered_state = state.clone();
    tampered_state.replace_range(0..1, if state.starts_with('a') { "b" } else { "a" });
    let tampered = callback.replace(&state, &tampered_state);

    // An expired flow: its stored expiry is moved into the past.
    let expiring = t.start_connect(&t.token).await;
    let expiring_callback = t
        .consent(expiring["authorizeUrl"].as_str().unwrap(), OTHER)
        .await;
    let moved = t
        .app
        .db
        .client()
        .await
        .execute(
            "UPDATE oauth_states SET expires_at_ms = 1000
             WHERE state_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
            &[&expiring["state"].as_str().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(moved, 1, "the flow's state is stored in PostgreSQL");

    // Act
    let with_tampered = t.app.get(&tampered).await;
    let expired = t.app.get(&expiring_callback).await;
    let genuine = t.app.get(&callback).await;
    let replayed = t.app.get(&callback).await;
    let no_state = t.app.get("/api/accounts/oauth/callback?code=abc").await;

    // Assert
    for (resp, why) in [
        (&with_tampered, "tampered"),
        (&expired, "expired"),
        (&replayed, "replayed"),
        (&no_state, "missing"),
    ] {
        let err = assert_error_envelope(resp, 400, "VALIDATION_ERROR");
        assert_eq!(err["code"], "ACCT_STATE", "{why}: {err}");
    }
    assert_eq!(
        genuine.status, 201,
        "the untouched flow still works: {}",
        genuine.text
    );
    assert_eq!(
        t.count_rows("SELECT count(*) FROM x_accounts").await,
        1,
        "only the genuine callback created an account"
    );
}

#[tokio::test]
async fn concurrent_callbacks_with_the_same_state_connect_the_account_exactly_once_on_redis() {
    // Arrange: one consented flow whose callback the browser sends eight times at once.
    let t = AccountsTest::start().await;
    let started = t.start_connect(&t.token).await;
    let callback = t
        .consent(started["authorizeUrl"].as_str().unwrap(), ME)
        .await;

    // Act
    let answers = futures::future::join_all((0..8).map(|_| t.app.get(&callback))).await;

    // Assert
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one callback takes the state: {:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for resp in answers.iter().filter(|r| r.status != 201) {
        let err = assert_error_envelope(resp, 400, "VALIDATION_ERROR");
        assert_eq!(err["code"], "ACCT_STATE", "{err}");
    }
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 1);
    assert_eq!(
        t.count_rows("SELECT count(*) FROM oauth_states").await,
        0,
        "a used state is gone"
    );
}

#[tokio::test]
async fn a_code_issued_for_another_pkce_challenge_is_refused_by_x_and_creates_nothing() {
    // Arrange
    let t = AccountsTest::start().await;
    let started = t.start_connect(&t.token).await;
    let url = started["authorizeUrl"].as_str().unwrap();
    let challenge = query_param(url, "code_challenge").unwrap();
    let forged = url.replace(&challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let callback = t.consent(&forged, ME).await;

    // Act
    let resp = t.app.get(&callback).await;

    // Assert
    let err = assert_error_envelope(&resp, 400, "VALIDATION_ERROR");
    assert_eq!(err["code"], "ACCT_CODE", "{err}");
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 0);
}

#[tokio::test]
async fn oauth1_credentials_are_checked_at_x_and_rejected_ones_get_a_clear_422() {
    // Arrange
    let t = AccountsTest::start().await;
    let creds = t.st().oauth1_credentials(OTHER, None).unwrap();
    let body = |secret: &str| {
        json!({
            "apiKey": creds.consumer_key,
            "apiSecret": creds.consumer_secret,
            "accessToken": creds.access_token,
            "accessTokenSecret": secret,
        })
    };

    // Act
    let wrong = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(&body("not-the-secret")),
        )
        .await;
    let unknown_field = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(
                &json!({ "apiKey": "k", "apiSecret": "s", "accessToken": "t",
                          "accessTokenSecret": "x", "extra": 1 }),
            ),
        )
        .await;
    let empty = t
        .call(Method::POST, "/api/accounts", &t.token, Some(&body(" ")))
        .await;
    let good = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(&body(&creds.access_token_secret)),
        )
        .await;

    // Assert
    let err = assert_error_envelope(&wrong, 422, "VALIDATION_ERROR");
    assert_eq!(err["code"], "ACCT_CREDENTIALS", "{err}");
    assert!(
        unknown_field.status == 400 || unknown_field.status == 422,
        "{}",
        unknown_field.text
    );
    assert_error_envelope(&empty, 422, "VALIDATION_ERROR");
    assert_eq!(good.status, 201, "{}", good.text);
    let account = &good.json()["data"]["account"];
    assert_eq!(account["authKind"], "oauth1");
    assert_eq!(account["username"], "second_brand");
    assert_eq!(account["tokenExpiresAt"], Value::Null);
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 1);
}

#[tokio::test]
async fn with_a_connected_url_the_callback_redirects_there_on_success_and_on_failure() {
    // Arrange
    let t = AccountsTest::start_with(&[("accounts_connected_url", "https://app.example/accounts")])
        .await;
    let started = t.start_connect(&t.token).await;
    let callback = t
        .consent(started["authorizeUrl"].as_str().unwrap(), ME)
        .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let visit = |path: String| {
        let browser = browser.clone();
        let url = format!("{}{path}", t.app.address);
        async move {
            let resp = browser.get(url).send().await.unwrap();
            let status = resp.status().as_u16();
            let location = resp.headers()["location"].to_str().unwrap().to_string();
            (status, location)
        }
    };

    // Act
    let (ok_status, ok_location) = visit(callback.clone()).await;
    let (replay_status, replay_location) = visit(callback).await;

    // Assert
    let id: String = t
        .app
        .db
        .client()
        .await
        .query_one("SELECT id::text FROM x_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ok_status, 302);
    assert_eq!(
        ok_location,
        format!("https://app.example/accounts?status=connected&accountId={id}")
    );
    assert_eq!(replay_status, 302);
    assert_eq!(
        replay_location,
        "https://app.example/accounts?status=error&code=ACCT_STATE"
    );
}
