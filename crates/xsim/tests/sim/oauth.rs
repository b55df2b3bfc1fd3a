//! OAuth 2.0 (PKCE, refresh rotation, expiry) and OAuth 1.0a signatures against the sim.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use xsim::{oauth1, OAuth1Creds, Profile, SimHandle};

use crate::common::*;

const SCOPE: &str = "tweet.read tweet.write users.read offline.access";

/// The client's side of the authorization code flow with one PKCE pair.
struct CodeFlow<'a> {
    c: &'a Client,
    sim: &'a SimHandle,
    verifier: String,
    challenge: String,
}

impl CodeFlow<'_> {
    /// A fresh code from the authorize endpoint.
    async fn code(&self) -> String {
        authorize(self.c, self.sim, &self.challenge, SCOPE).await
    }

    /// The code for tokens, with `verifier`.
    async fn exchange(&self, code: &str, verifier: &str) -> (StatusCode, Value) {
        token_req(
            self.c,
            self.sim,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", "http://localhost:9999/cb"),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        token_req(
            self.c,
            self.sim,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn oauth2_pkce_refresh_rotation_and_code_expiry() {
    let (sim, c) = start(Profile::Standard).await;
    let (verifier, challenge) = pkce();
    let flow = CodeFlow {
        c: &c,
        sim: &sim,
        verifier,
        challenge,
    };
    a_wrong_verifier_fails_and_uses_up_the_code(&flow).await;
    let refresh1 = a_code_gives_x_s_token_response_once(&flow).await;
    let tok2 = refresh_rotates_and_the_old_refresh_token_no_longer_works(&flow, &refresh1).await;

    // Codes expire after 30 s of sim time.
    let code = flow.code().await;
    advance(&c, &sim, 31).await;
    assert_eq!(flow.exchange(&code, &flow.verifier).await.0, 400);

    access_tokens_expire_after_2_hours(&flow, tok2["access_token"].as_str().unwrap()).await;
    a_bad_client_secret_is_rejected(&flow, tok2["refresh_token"].as_str().unwrap()).await;
}

/// Wrong verifier fails, and the code is single-use so it is gone afterwards.
async fn a_wrong_verifier_fails_and_uses_up_the_code(flow: &CodeFlow<'_>) {
    let code = flow.code().await;
    let (s, body) = flow.exchange(&code, "wrong-verifier").await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_request");
    let (s, _) = flow.exchange(&code, &flow.verifier).await;
    assert_eq!(s, 400);
}

/// Answers the refresh token.
async fn a_code_gives_x_s_token_response_once(flow: &CodeFlow<'_>) -> String {
    let code = flow.code().await;
    let (s, tok) = flow.exchange(&code, &flow.verifier).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 7200);
    assert_eq!(tok["scope"], SCOPE);
    let access = tok["access_token"].as_str().unwrap();
    let me: Value = flow
        .c
        .get(format!("{}/2/users/me", flow.sim.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["username"], "xmp_demo");
    // Reusing a code fails.
    assert_eq!(flow.exchange(&code, &flow.verifier).await.0, 400);
    tok["refresh_token"].as_str().unwrap().to_string()
}

/// Answers the new token response.
async fn refresh_rotates_and_the_old_refresh_token_no_longer_works(
    flow: &CodeFlow<'_>,
    refresh1: &str,
) -> Value {
    let (s, tok2) = flow.refresh(refresh1).await;
    assert_eq!(s, 200);
    let refresh2 = tok2["refresh_token"].as_str().unwrap();
    assert_ne!(refresh2, refresh1);
    let (s, err) = flow.refresh(refresh1).await;
    assert_eq!(s, 400);
    assert_eq!(
        err,
        json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."})
    );
    tok2
}

async fn access_tokens_expire_after_2_hours(flow: &CodeFlow<'_>, access: &str) {
    advance(flow.c, flow.sim, 7_201).await;
    let r = flow
        .c
        .get(format!("{}/2/users/me", flow.sim.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"})
    );
}

async fn a_bad_client_secret_is_rejected(flow: &CodeFlow<'_>, refresh_token: &str) {
    let r = flow
        .c
        .post(format!("{}/2/oauth2/token", flow.sim.base_url()))
        .basic_auth(xsim::DEFAULT_CLIENT_ID, Some("nope"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

/// The OAuth 1.0a header for `method url` with the user's credentials and `secret` as the
/// token secret, with a fixed nonce and timestamp (the simulator accepts them again).
fn signed(creds: &OAuth1Creds, method: &str, url: &str, secret: &str) -> String {
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
}

#[tokio::test]
async fn oauth1_signed_requests() {
    let (sim, c) = start(Profile::Standard).await;
    let creds = sim
        .state()
        .oauth1_credentials(xsim::DEFAULT_USER_ID, None)
        .unwrap();
    let url = format!("{}/2/tweets", sim.base_url());
    a_signed_post_works_and_a_wrong_secret_is_401(&c, &creds, &url).await;
    query_parameters_are_part_of_the_signature(&c, &sim, &creds).await;
    the_default_users_credentials_work_until_the_user_is_revoked(&c, &sim, &url).await;
}

async fn a_signed_post_works_and_a_wrong_secret_is_401(c: &Client, creds: &OAuth1Creds, url: &str) {
    let r = c
        .post(url)
        .header(
            "authorization",
            signed(creds, "POST", url, &creds.access_token_secret),
        )
        .json(&json!({"text": "signed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = c
        .post(url)
        .header("authorization", signed(creds, "POST", url, "wrong-secret"))
        .json(&json!({"text": "forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["title"], "Unauthorized");
}

async fn query_parameters_are_part_of_the_signature(
    c: &Client,
    sim: &SimHandle,
    creds: &OAuth1Creds,
) {
    let me = format!(
        "{}/2/users/me?user.fields=public_metrics,created_at",
        sim.base_url()
    );
    let r = c
        .get(&me)
        .header(
            "authorization",
            signed(creds, "GET", &me, &creds.access_token_secret),
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
    let signed_without_query = signed(
        creds,
        "GET",
        &format!("{}/2/users/me", sim.base_url()),
        &creds.access_token_secret,
    );
    let r = c
        .get(&me)
        .header("authorization", signed_without_query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// The default user's documented OAuth 1.0a credentials work too; revoking the user kills them.
async fn the_default_users_credentials_work_until_the_user_is_revoked(
    c: &Client,
    sim: &SimHandle,
    url: &str,
) {
    let h = oauth1::authorization_header(
        "POST",
        url,
        &[],
        xsim::DEFAULT_CONSUMER_KEY,
        xsim::DEFAULT_CONSUMER_SECRET,
        xsim::DEFAULT_USER_ACCESS_TOKEN,
        xsim::DEFAULT_USER_ACCESS_SECRET,
        "n2",
        1,
    );
    assert_eq!(
        c.post(url)
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
        c.post(url)
            .header("authorization", &h)
            .json(&json!({"text": "after revoke"}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
