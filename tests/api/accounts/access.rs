//! Workspace isolation and roles on the accounts routes.

use super::{AccountsTest, ME};
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn another_workspaces_account_is_not_found_on_every_route() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let stranger = t.app.register("stranger@example.com", "Stranger").await;
    let token = stranger["accessToken"].as_str().unwrap();
    let routes = [
        (Method::GET, format!("/api/accounts/{id}"), None),
        (
            Method::PATCH,
            format!("/api/accounts/{id}"),
            Some(json!({ "label": "mine" })),
        ),
        (Method::DELETE, format!("/api/accounts/{id}"), None),
        (Method::POST, format!("/api/accounts/{id}/switch"), None),
        (Method::GET, format!("/api/accounts/{id}/health"), None),
        (Method::POST, format!("/api/accounts/{id}/refresh"), None),
    ];

    // Act / Assert
    for (method, path, body) in routes {
        let resp = t.call(method.clone(), &path, token, body.as_ref()).await;
        assert_error_envelope(&resp, 404, "NOT_FOUND");
        assert!(
            !resp.text.contains(xsim::DEFAULT_USERNAME),
            "{method} {path}: {}",
            resp.text
        );
    }
    let list = t.app.auth_get("/api/accounts", token).await;
    assert_eq!(list.json()["data"]["items"], json!([]));
    let after = t.account(id).await;
    assert_eq!(after["label"], Value::Null, "the stranger changed nothing");
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 1);
}

#[tokio::test]
async fn viewers_and_editors_read_accounts_but_cannot_connect_change_or_delete_them() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let editor = t.member("editor@example.com", "editor").await;
    let viewer = t.member("viewer@example.com", "viewer").await;
    let admin = t.member("admin@example.com", "admin").await;

    for (token, role) in [(&editor, "editor"), (&viewer, "viewer")] {
        // Act
        let read = t.app.auth_get("/api/accounts", token).await;
        let one = t.app.auth_get(&format!("/api/accounts/{id}"), token).await;
        let health = t
            .app
            .auth_get(&format!("/api/accounts/{id}/health"), token)
            .await;
        let switch = t
            .call(
                Method::POST,
                &format!("/api/accounts/{id}/switch"),
                token,
                None,
            )
            .await;
        let denied = [
            t.call(Method::POST, "/api/accounts/connect", token, None)
                .await,
            t.call(
                Method::POST,
                "/api/accounts",
                token,
                Some(
                    &json!({ "apiKey": "a", "apiSecret": "b", "accessToken": "c",
                              "accessTokenSecret": "d" }),
                ),
            )
            .await,
            t.call(
                Method::PATCH,
                &format!("/api/accounts/{id}"),
                token,
                Some(&json!({ "label": "x" })),
            )
            .await,
            t.call(Method::DELETE, &format!("/api/accounts/{id}"), token, None)
                .await,
            t.call(
                Method::POST,
                &format!("/api/accounts/{id}/refresh"),
                token,
                None,
            )
            .await,
        ];

        // Assert
        assert_eq!(read.status, 200, "{role} lists: {}", read.text);
        assert_eq!(one.status, 200, "{role} reads: {}", one.text);
        assert_eq!(health.status, 200, "{role} health: {}", health.text);
        assert_eq!(switch.status, 200, "{role} switches: {}", switch.text);
        for resp in &denied {
            assert_error_envelope(resp, 403, "AUTHORIZATION_ERROR");
        }
    }
    let by_admin = t
        .call(
            Method::PATCH,
            &format!("/api/accounts/{id}"),
            &admin,
            Some(&json!({ "label": "by admin" })),
        )
        .await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.text);
    assert_eq!(t.account(id).await["label"], "by admin");
}
