//! OAuth 2.0 (PKCE, refresh rotation, expiry) and OAuth 1.0a signatures against the sim.

use serde_json::{json, Value};
use xsim::{oauth1, Profile};

use crate::common::*;

#[tokio::test]
async fn oauth2_pkce_refresh_rotation_and_code_expiry() {
    let (sim, c) = start(Profile::Standard).await;
    let (verifier, challenge) = pkce();
    let scope = "tweet.read tweet.write users.read offline.access";
    let code = authorize(&c, &sim, &challenge, scope).await;
    let exchange = |code: String, verifier: String| {
        let (c, sim) = (&c, &sim);
        async move {
            token_req(
                c,
                sim,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", "http://localhost:9999/cb"),
                    ("code_verifier", &verifier),
                ],
            )
            .await
        }
    };
    // Wrong verifier fails, and the code is single-use so it is gone afterwards.
    let (s, body) = exchange(code.clone(), "wrong-verifier".into()).await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_request");
    let (s, _) = exchange(code, verifier.clone()).await;
    assert_eq!(s, 400);

    let code = authorize(&c, &sim, &challenge, scope).await;
    let (s, tok) = exchange(code.clone(), verifier.clone()).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 7200);
    assert_eq!(tok["scope"], scope);
    let access = tok["access_token"].as_str().unwrap();
    let refresh1 = tok["refresh_token"].as_str().unwrap().to_string();
    let me: Value = c
        .get(format!("{}/2/users/me", sim.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["username"], "xmp_demo");
    // Reusing a code fails.
    assert_eq!(exchange(code, verifier.clone()).await.0, 400);

    // Refresh rotates; the old refresh token no longer works.
    let (s, tok2) = token_req(
        &c,
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let refresh2 = tok2["refresh_token"].as_str().unwrap();
    assert_ne!(refresh2, refresh1);
    let (s, err) = token_req(
        &c,
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        err,
        json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."})
    );

    // Codes expire after 30 s of sim time.
    let code = authorize(&c, &sim, &challenge, scope).await;
    advance(&c, &sim, 31).await;
    assert_eq!(exchange(code, verifier.clone()).await.0, 400);

    // Access tokens expire after 2 h.
    let new_access = tok2["access_token"].as_str().unwrap();
    advance(&c, &sim, 7_201).await;
    let r = c
        .get(format!("{}/2/users/me", sim.base_url()))
        .bearer_auth(new_access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"})
    );

    // A bad client secret is rejected.
    let r = c
        .post(format!("{}/2/oauth2/token", sim.base_url()))
        .basic_auth(xsim::DEFAULT_CLIENT_ID, Some("nope"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh2)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

#[tokio::test]
async fn oauth1_signed_requests() {
    let (sim, c) = start(Profile::Standard).await;
    let creds = sim
        .state()
        .oauth1_credentials(xsim::DEFAULT_USER_ID, None)
        .unwrap();
    let url = format!("{}/2/tweets", sim.base_url());
    let header = |url: &str, method: &str, secret: &str| {
        oauth1::authorization_header(
            method,
            url,
            &[],
            &creds.consumer_key,
            &creds.consumer_secret,
            &creds.access_token,
            secret,
            "abc123nonce",
            1_700_000_000,
        )
    };
    let r = c
        .post(&url)
        .header(
            "authorization",
            header(&url, "POST", &creds.access_token_secret),
        )
        .json(&json!({"text": "signed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = c
        .post(&url)
        .header("authorization", header(&url, "POST", "wrong-secret"))
        .json(&json!({"text": "forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["title"], "Unauthorized");
    // Query parameters are part of the signature.
    let me = format!(
        "{}/2/users/me?user.fields=public_metrics,created_at",
        sim.base_url()
    );
    let r = c
        .get(&me)
        .header(
            "authorization",
            header(&me, "GET", &creds.access_token_secret),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["data"]["public_metrics"]["followers_count"]
            .as_u64()
            .unwrap()
            > 0
    );
    let signed_without_query = header(
        &format!("{}/2/users/me", sim.base_url()),
        "GET",
        &creds.access_token_secret,
    );
    let r = c
        .get(&me)
        .header("authorization", signed_without_query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The default user's documented OAuth 1.0a credentials work too; revoking the user kills them.
    let h = oauth1::authorization_header(
        "POST",
        &url,
        &[],
        xsim::DEFAULT_CONSUMER_KEY,
        xsim::DEFAULT_CONSUMER_SECRET,
        xsim::DEFAULT_USER_ACCESS_TOKEN,
        xsim::DEFAULT_USER_ACCESS_SECRET,
        "n2",
        1,
    );
    assert_eq!(
        c.post(&url)
            .header("authorization", &h)
            .json(&json!({"text": "default creds"}))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    c.post(format!(
        "{}/__admin/tokens/revoke-user/{}",
        sim.base_url(),
        xsim::DEFAULT_USER_ID
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(
        c.post(&url)
            .header("authorization", &h)
            .json(&json!({"text": "after revoke"}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
