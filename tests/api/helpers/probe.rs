//! Rows the probe fixture seeds for tests that run the app's passes through it.

use super::TestApp;
use serde_json::json;
use xsim::SimHandle;

/// A workspace without members (the passes need none); answers its id.
pub async fn insert_workspace(app: &TestApp, name: &str) -> String {
    let ws = uuid::Uuid::new_v4().to_string();
    app.db
        .client()
        .await
        .execute(
            "INSERT INTO workspaces (id, name) VALUES ($1::text::uuid, $2)",
            &[&ws, &name],
        )
        .await
        .unwrap();
    ws
}

/// An account of `ws` for X user `user` with fresh tokens from `sim`, which the probe seals as
/// the app does, expiring at `expires_ms`; answers its id.
pub async fn seed_account(
    probe: &TestApp,
    sim: &SimHandle,
    ws: &str,
    user: u64,
    expires_ms: i64,
) -> String {
    let tokens = sim.state().issue_user_token(user, None, None).unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let resp = probe
        .post_json(
            "/probe/accounts/seed",
            &json!({
                "workspace_id": ws, "account_id": id, "x_user_id": user.to_string(),
                "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                "expires_ms": expires_ms,
            }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    id
}
