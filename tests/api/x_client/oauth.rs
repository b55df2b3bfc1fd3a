//! The OAuth 2.0 dance and OAuth 1.0a user context through the client.

use super::{kind, query_param, XTest, ME, REDIRECT};
use serde_json::json;
use xsim::Profile;

#[tokio::test]
async fn the_oauth2_dance_yields_tokens_that_rotate_and_a_reused_refresh_token_fails() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let start = x
        .probe("/probe/x/oauth/start", json!({ "redirect_uri": REDIRECT }))
        .await;
    let url = start["url"].as_str().unwrap();
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(
        url.contains("offline.access"),
        "scopes ask for a refresh token: {url}"
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = browser.get(url).send().await.unwrap();
    assert_eq!(consent.status().as_u16(), 302, "{:?}", consent.text().await);
    let location = consent.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        start["state"].as_str()
    );
    let code = query_param(&location, "code").expect("code");
    let exchange = json!({ "code": code, "verifier": start["verifier"], "redirect_uri": REDIRECT });

    // Act
    let first = x.probe("/probe/x/oauth/exchange", exchange.clone()).await;
    let code_again = x.probe("/probe/x/oauth/exchange", exchange).await;
    let tokens = &first["ok"];
    let me = x
        .call(json!({ "op": "me", "token": tokens["access_token"] }))
        .await;
    let rotated = x
        .probe(
            "/probe/x/oauth/refresh",
            json!({ "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    let reused = x
        .probe(
            "/probe/x/oauth/refresh",
            json!({ "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    let new_access = &rotated["ok"]["access_token"];
    let me_after_refresh = x.call(json!({ "op": "me", "token": new_access })).await;
    let revoked = x
        .probe(
            "/probe/x/oauth/revoke",
            json!({ "token": new_access, "hint": "access_token" }),
        )
        .await;
    let me_after_revoke = x.call(json!({ "op": "me", "token": new_access })).await;

    // Assert
    assert!(
        tokens["refresh_token"].is_string(),
        "exchange gives a pair: {first}"
    );
    assert_eq!(
        kind(&code_again),
        "Unauthorized",
        "codes are single-use: {code_again}"
    );
    assert_eq!(me["ok"]["username"], xsim::DEFAULT_USERNAME, "{me}");
    assert!(rotated["ok"]["refresh_token"].is_string(), "{rotated}");
    assert_ne!(rotated["ok"]["refresh_token"], tokens["refresh_token"]);
    assert_eq!(kind(&reused), "Unauthorized", "{reused}");
    assert_eq!(reused["code"], "X_REAUTH", "{reused}");
    assert_eq!(me_after_refresh["ok"]["id"], ME.to_string());
    assert_eq!(revoked["ok"], true, "{revoked}");
    assert_eq!(kind(&me_after_revoke), "Unauthorized", "{me_after_revoke}");
}

#[tokio::test]
async fn oauth1_user_context_calls_work_and_a_wrong_secret_is_rejected() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let creds = x.st().oauth1_credentials(ME, None).unwrap();
    let oauth1 = |secret: &str| {
        json!({
            "consumer_key": creds.consumer_key, "consumer_secret": creds.consumer_secret,
            "token": creds.access_token, "token_secret": secret,
        })
    };

    // Act
    let me = x
        .call(json!({ "op": "me", "oauth1": oauth1(&creds.access_token_secret) }))
        .await;
    let post = x
        .call(
            json!({ "op": "create_post", "oauth1": oauth1(&creds.access_token_secret),
                      "args": { "text": "signed with OAuth 1.0a" } }),
        )
        .await;
    let wrong = x
        .call(json!({ "op": "me", "oauth1": oauth1("not-the-secret"), "retry": false }))
        .await;

    // Assert
    assert_eq!(me["ok"]["id"], ME.to_string(), "{me}");
    assert!(post["ok"]["id"].is_string(), "{post}");
    assert_eq!(x.st().posts_of(Some(ME)).len(), 1);
    assert_eq!(kind(&wrong), "Unauthorized", "{wrong}");
}
