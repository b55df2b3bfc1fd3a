//! Membership: adding members by email, removal and demotion taking effect at once, the
//! last-owner rule.

use super::*;
use crate::helpers::{assert_error_envelope, Setup};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_removed_or_demoted_member_is_refused_on_their_next_request() {
    let app = Setup::app().spawn().await;
    let owner = user(&app, "owner").await;
    let eve = user(&app, "eve").await;
    let dan = user(&app, "dan").await;
    let ws = create_workspace(&app, &owner, "Team").await;
    add(&app, &owner, &ws, &eve, "editor").await;
    add(&app, &owner, &ws, &dan, "admin").await;
    assert_eq!(
        call(
            &app,
            &eve,
            Method::GET,
            &format!("/api/workspaces/{ws}"),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        call(
            &app,
            &dan,
            Method::GET,
            &format!("/api/workspaces/{ws}/members"),
            None
        )
        .await
        .status,
        200
    );

    let removed = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/api/workspaces/{ws}/members/{}", eve.id),
        None,
    )
    .await;
    let demoted = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/workspaces/{ws}/members/{}", dan.id),
        Some(json!({"role": "viewer"})),
    )
    .await;

    assert_eq!(
        (removed.status, demoted.status),
        (204, 200),
        "{} {}",
        removed.text,
        demoted.text
    );
    let resp = call(
        &app,
        &eve,
        Method::GET,
        &format!("/api/workspaces/{ws}"),
        None,
    )
    .await;
    assert_error_envelope(&resp, 404, "NOT_FOUND");
    let resp = app
        .authed(
            Method::GET,
            "/api/audit",
            &dan.token,
            None,
            &[("x-workspace-id", &ws)],
        )
        .await;
    assert_error_envelope(&resp, 403, "AUTHORIZATION_ERROR");
}

#[tokio::test]
async fn the_last_owner_can_neither_leave_nor_be_demoted() {
    let app = Setup::app().spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let ws = create_workspace(&app, &ann, "Team").await;
    let me = format!("/api/workspaces/{ws}/members/{}", ann.id);

    let leave = call(&app, &ann, Method::DELETE, &me, None).await;
    let demote = call(
        &app,
        &ann,
        Method::PATCH,
        &me,
        Some(json!({"role": "admin"})),
    )
    .await;

    assert_error_envelope(&leave, 409, "CONFLICT");
    assert_error_envelope(&demote, 409, "CONFLICT");

    // Two owners demoting each other at once: exactly one succeeds. The other is refused as
    // the last owner (409), or, when its guard already saw its own demotion, as no longer an
    // owner (403).
    add(&app, &ann, &ws, &bob, "owner").await;
    let theirs = format!("/api/workspaces/{ws}/members/{}", bob.id);
    let body = json!({"role": "admin"});
    let (a, b) = tokio::join!(
        app.authed(Method::PATCH, &theirs, &ann.token, Some(&body), &[]),
        app.authed(Method::PATCH, &me, &bob.token, Some(&body), &[]),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert!(
        statuses == [200, 409] || statuses == [200, 403],
        "{statuses:?}: {} / {}",
        a.text,
        b.text
    );
    let members = call(
        &app,
        &ann,
        Method::GET,
        &format!("/api/workspaces/{ws}/members"),
        None,
    )
    .await;
    let owners = members.json()["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "owner")
        .count();
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn members_are_added_by_email_and_only_owners_grant_the_owner_role() {
    let app = Setup::app().spawn().await;
    let owner = user(&app, "owner").await;
    let admin = user(&app, "admin").await;
    let carl = user(&app, "carl").await;
    let ws = create_workspace(&app, &owner, "Team").await;
    add(&app, &owner, &ws, &admin, "admin").await;
    let path = format!("/api/workspaces/{ws}/members");
    let cases = [
        (
            &admin,
            json!({"email": "nobody@example.com", "role": "viewer"}),
            404,
            "NOT_FOUND",
            "unknown email",
        ),
        (
            &admin,
            json!({"email": carl.email, "role": "owner"}),
            403,
            "AUTHORIZATION_ERROR",
            "admin grants owner",
        ),
        (
            &admin,
            json!({"email": carl.email, "role": "king"}),
            422,
            "VALIDATION_ERROR",
            "unknown role",
        ),
        (
            &admin,
            json!({"email": carl.email}),
            422,
            "VALIDATION_ERROR",
            "missing role",
        ),
        (
            &admin,
            json!({"email": admin.email, "role": "viewer"}),
            409,
            "CONFLICT",
            "already a member",
        ),
    ];
    for (who, body, status, kind, why) in cases {
        let resp = call(&app, who, Method::POST, &path, Some(body)).await;
        assert_eq!(resp.status, status, "{why}: {}", resp.text);
        assert_error_envelope(&resp, status, kind);
    }
    let resp = call(
        &app,
        &admin,
        Method::PATCH,
        &format!("{path}/{}", owner.id),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_error_envelope(&resp, 403, "AUTHORIZATION_ERROR");
    add(&app, &admin, &ws, &carl, "editor").await;
    let list = call(&app, &carl, Method::GET, &path, None).await;
    assert_eq!(list.json()["data"]["items"].as_array().unwrap().len(), 3);
    // Anyone may leave.
    let leave = call(
        &app,
        &carl,
        Method::DELETE,
        &format!("{path}/{}", carl.id),
        None,
    )
    .await;
    assert_eq!(leave.status, 204, "{}", leave.text);
}
