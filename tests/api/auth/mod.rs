//! Identity: registration, login, tokens (JWT negatives, rotation, reuse, logout), password
//! change, profile, login throttling and the API rate limit.

mod limits;
mod profile;
mod register;
mod tokens;

use crate::helpers::TestApp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

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
