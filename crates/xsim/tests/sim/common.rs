//! Helpers shared by the integration tests.
#![allow(dead_code)]

use base64::Engine;
use reqwest::{redirect, Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use xsim::{Profile, Sim, SimConfig, SimHandle};

pub async fn start(profile: Profile) -> (SimHandle, Client) {
    let sim = Sim::start(SimConfig::ephemeral().with_profile(profile))
        .await
        .unwrap();
    let client = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    (sim, client)
}

pub fn user_token(sim: &SimHandle) -> String {
    sim.state()
        .issue_user_token(xsim::DEFAULT_USER_ID, None, None)
        .unwrap()
        .access_token
}

pub async fn post_text(c: &Client, sim: &SimHandle, token: &str, text: &str) -> reqwest::Response {
    c.post(format!("{}/2/tweets", sim.base_url()))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

pub async fn advance(c: &Client, sim: &SimHandle, secs: i64) {
    let r = c
        .post(format!("{}/__admin/clock", sim.base_url()))
        .json(&json!({"advance_secs": secs}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

pub fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-entropy".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub async fn authorize(c: &Client, sim: &SimHandle, challenge: &str, scope: &str) -> String {
    let r = c
        .get(format!("{}/i/oauth2/authorize", sim.base_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", xsim::DEFAULT_CLIENT_ID),
            ("redirect_uri", "http://localhost:9999/cb"),
            ("scope", scope),
            ("state", "st4te"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.starts_with("http://localhost:9999/cb?state=st4te&code="),
        "{loc}"
    );
    loc.split("code=").nth(1).unwrap().to_string()
}

pub async fn token_req(c: &Client, sim: &SimHandle, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = c
        .post(format!("{}/2/oauth2/token", sim.base_url()))
        .basic_auth(xsim::DEFAULT_CLIENT_ID, Some(xsim::DEFAULT_CLIENT_SECRET))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// `method` on the simulator's `path` with a bearer token, to add a query or a body to.
pub fn bearer(
    c: &Client,
    sim: &SimHandle,
    method: Method,
    path: &str,
    token: &str,
) -> RequestBuilder {
    c.request(method, format!("{}{path}", sim.base_url()))
        .bearer_auth(token)
}

/// Sends `req`; answers the response.
pub async fn send(req: RequestBuilder) -> reqwest::Response {
    req.send().await.unwrap()
}

/// Sends `req`; answers its JSON body.
pub async fn send_json(req: RequestBuilder) -> Value {
    req.send().await.unwrap().json().await.unwrap()
}
