//! Tenancy: another workspace's ids are 404, and `X-Workspace-Id` chooses the workspace.

use super::*;
use crate::helpers::{assert_error_envelope, Resp, Setup};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn another_workspaces_ids_are_404_never_403() {
    let app = Setup::app().spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let anns = create_workspace(&app, &ann, "Ann's").await;
    let bobs = create_workspace(&app, &bob, "Bob's").await;
    add(&app, &bob, &bobs, &ann, "viewer").await;
    let cases = [
        (Method::GET, format!("/api/workspaces/{anns}"), None),
        (
            Method::PATCH,
            format!("/api/workspaces/{anns}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/api/workspaces/{anns}"), None),
        (Method::GET, format!("/api/workspaces/{anns}/members"), None),
        (
            Method::POST,
            format!("/api/workspaces/{anns}/members"),
            Some(json!({"email": "bob@example.com", "role": "owner"})),
        ),
        (
            Method::PATCH,
            format!("/api/workspaces/{anns}/members/{}", ann.id),
            Some(json!({"role": "viewer"})),
        ),
        (
            Method::DELETE,
            format!("/api/workspaces/{anns}/members/{}", ann.id),
            None,
        ),
        (Method::GET, "/api/workspaces/not-a-uuid".to_string(), None),
        (
            Method::GET,
            format!("/api/workspaces/{}", uuid::Uuid::new_v4()),
            None,
        ),
    ];

    for (method, path, body) in cases {
        let resp = call(&app, &bob, method.clone(), &path, body).await;
        assert_error_envelope(&resp, 404, "NOT_FOUND");
    }
    let audit = app
        .authed(
            Method::GET,
            "/api/audit",
            &bob.token,
            None,
            &[("x-workspace-id", &anns)],
        )
        .await;
    assert_error_envelope(&audit, 404, "NOT_FOUND");
    // A member id from another workspace inside one's own workspace is 404 too.
    let resp = call(
        &app,
        &bob,
        Method::DELETE,
        &format!("/api/workspaces/{bobs}/members/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_error_envelope(&resp, 404, "NOT_FOUND");
}

#[tokio::test]
async fn x_workspace_id_selects_the_workspace_and_defaults_to_the_users_own() {
    let app = Setup::app().spawn().await;
    let owner = user(&app, "owner").await;
    let ann = user(&app, "ann").await;
    let team = create_workspace(&app, &owner, "Team").await;
    add(&app, &owner, &team, &ann, "admin").await;

    let own = call(&app, &ann, Method::GET, "/api/audit", None).await;
    let selected = app
        .authed(
            Method::GET,
            "/api/audit",
            &ann.token,
            None,
            &[("x-workspace-id", &team)],
        )
        .await;
    let garbage = app
        .authed(
            Method::GET,
            "/api/audit",
            &ann.token,
            None,
            &[("x-workspace-id", "zzz")],
        )
        .await;

    let actions = |r: &Resp| -> Vec<String> {
        r.json()["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["action"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(own.status, 200, "{}", own.text);
    assert!(
        actions(&own).contains(&"auth.register".to_string()),
        "{:?}",
        actions(&own)
    );
    assert!(
        actions(&selected).contains(&"member.added".to_string()),
        "{:?}",
        actions(&selected)
    );
    assert!(!actions(&selected).contains(&"auth.register".to_string()));
    assert_error_envelope(&garbage, 404, "NOT_FOUND");
}
