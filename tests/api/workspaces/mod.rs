//! Workspaces, members and roles: the role × route matrix, tenancy (404 for another
//! workspace), membership changes taking effect on the next request, the last-owner rule.

mod isolation;
mod members;
mod permissions;

use crate::helpers::{Resp, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

struct User {
    id: String,
    email: String,
    token: String,
}

async fn user(app: &TestApp, name: &str) -> User {
    let email = format!("{name}@example.com");
    let data = app.register(&email, name).await;
    User {
        id: data["user"]["id"].as_str().unwrap().to_string(),
        email,
        token: data["accessToken"].as_str().unwrap().to_string(),
    }
}

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Resp {
    app.authed(method, path, &who.token, body.as_ref(), &[])
        .await
}

async fn create_workspace(app: &TestApp, owner: &User, name: &str) -> String {
    let resp = call(
        app,
        owner,
        Method::POST,
        "/api/workspaces",
        Some(json!({ "name": name })),
    )
    .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.json()["data"]["role"], "owner");
    resp.json()["data"]["id"].as_str().unwrap().to_string()
}

async fn add(app: &TestApp, by: &User, ws: &str, who: &User, role: &str) {
    let resp = call(
        app,
        by,
        Method::POST,
        &format!("/api/workspaces/{ws}/members"),
        Some(json!({ "email": who.email, "role": role })),
    )
    .await;
    assert_eq!(
        resp.status, 201,
        "add {} as {role}: {}",
        who.email, resp.text
    );
}
