//! The user's own profile and password.

use super::{profile_status, refresh};
use crate::helpers::{assert_error_envelope, Setup, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = Setup::app().spawn().await;
    let mine = app.register("ann@example.com", "Ann").await;
    let other = app.login("ann@example.com", PASSWORD).await.json()["data"].clone();
    let token = mine["accessToken"].as_str().unwrap();
    let new_pw = "a brand new passphrase";

    let wrong = app
        .authed(
            Method::POST,
            "/api/auth/password",
            token,
            Some(&json!({"currentPassword": "nope nope", "newPassword": new_pw})),
            &[],
        )
        .await;
    let weak = app
        .authed(
            Method::POST,
            "/api/auth/password",
            token,
            Some(&json!({"currentPassword": PASSWORD, "newPassword": "password"})),
            &[],
        )
        .await;
    let ok = app
        .authed(
            Method::POST,
            "/api/auth/password",
            token,
            Some(&json!({"currentPassword": PASSWORD, "newPassword": new_pw})),
            &[],
        )
        .await;

    assert_error_envelope(&wrong, 401, "AUTHENTICATION_ERROR");
    assert_error_envelope(&weak, 422, "VALIDATION_ERROR");
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        profile_status(&app, token).await,
        200,
        "this session continues"
    );
    assert_eq!(
        profile_status(&app, other["accessToken"].as_str().unwrap()).await,
        401
    );
    assert_eq!(
        refresh(&app, other["refreshToken"].as_str().unwrap())
            .await
            .status,
        401
    );
    assert_eq!(app.login("ann@example.com", PASSWORD).await.status, 401);
    assert_eq!(app.login("ann@example.com", new_pw).await.status, 200);
}

#[tokio::test]
async fn the_profile_updates_name_timezone_and_default_workspace_with_checks() {
    let app = Setup::app().spawn().await;
    let ann = app.register("ann@example.com", "Ann").await;
    let bob = app.register("bob@example.com", "Bob").await;
    let token = ann["accessToken"].as_str().unwrap();
    let bobs_ws = app
        .auth_get("/api/auth/profile", bob["accessToken"].as_str().unwrap())
        .await
        .json()["data"]["defaultWorkspaceId"]
        .clone();
    let app = &app;
    let patch = |body: Value| async move {
        app.authed(Method::PATCH, "/api/auth/profile", token, Some(&body), &[])
            .await
    };

    let ok = patch(json!({"name": "Ann B", "timezone": "Europe/Paris"})).await;
    let bad_tz = patch(json!({"timezone": "Mars/Olympus"})).await;
    let foreign = patch(json!({"defaultWorkspaceId": bobs_ws})).await;

    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["data"]["name"], "Ann B");
    assert_eq!(ok.json()["data"]["timezone"], "Europe/Paris");
    assert_error_envelope(&bad_tz, 422, "VALIDATION_ERROR");
    assert_error_envelope(&foreign, 404, "NOT_FOUND");
}
