//! The permission table decides every route for every role.

use super::*;
use crate::helpers::{assert_error_envelope, Setup, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// (method, path, body, minimum role or None for any signed-in user, success status)
type RouteCase = (Method, String, Option<Value>, Option<&'static str>, u16);

#[tokio::test]
async fn the_permission_table_decides_every_route_for_every_role() {
    let app = Setup::app().spawn().await;
    let owner = user(&app, "owner").await;
    let ws = create_workspace(&app, &owner, "Team").await;
    let mut members = vec![];
    for role in ["admin", "editor", "viewer"] {
        let u = user(&app, role).await;
        add(&app, &owner, &ws, &u, role).await;
        members.push((role, u));
    }
    members.insert(0, ("owner", owner));
    // One fresh user per role to add, and one member per role to remove, so that every
    // allowed attempt acts on its own target.
    let target = user(&app, "target").await;
    add(&app, &members[0].1, &ws, &target, "viewer").await;
    let rank = |r: &str| {
        ["viewer", "editor", "admin", "owner"]
            .iter()
            .position(|x| *x == r)
            .unwrap()
    };

    for (role, who) in &members {
        let newcomer = user(&app, &format!("new-{role}")).await;
        let victim = user(&app, &format!("victim-{role}")).await;
        add(&app, &members[0].1, &ws, &victim, "viewer").await;
        let hdr = [("x-workspace-id", ws.as_str())];
        let routes = route_table(&ws, &newcomer, &target, &victim);
        for (method, path, body, min, ok) in routes {
            let resp = app
                .authed(method.clone(), &path, &who.token, body.as_ref(), &hdr)
                .await;
            let allowed = min.is_none_or(|m| rank(role) >= rank(m));
            if allowed {
                assert_eq!(resp.status, ok, "{role} {method} {path}: {}", resp.text);
            } else {
                assert_error_envelope(&resp, 403, "AUTHORIZATION_ERROR");
            }
        }
    }
    destructive_and_session_routes_last(&app, &ws, &members).await;
}

/// Every route but the destructive and session ones, for one member: `newcomer` is added,
/// `target`'s role changed and `victim` removed by whoever may.
fn route_table(ws: &str, newcomer: &User, target: &User, victim: &User) -> Vec<RouteCase> {
    vec![
        (Method::GET, "/api/auth/profile".into(), None, None, 200),
        (
            Method::PATCH,
            "/api/auth/profile".into(),
            Some(json!({"timezone": "UTC"})),
            None,
            200,
        ),
        (Method::GET, "/api/workspaces".into(), None, None, 200),
        (
            Method::POST,
            "/api/workspaces".into(),
            Some(json!({"name": "Mine"})),
            None,
            201,
        ),
        (
            Method::GET,
            format!("/api/workspaces/{ws}"),
            None,
            Some("viewer"),
            200,
        ),
        (
            Method::PATCH,
            format!("/api/workspaces/{ws}"),
            Some(json!({"name": "Team"})),
            Some("owner"),
            200,
        ),
        (
            Method::GET,
            format!("/api/workspaces/{ws}/members"),
            None,
            Some("viewer"),
            200,
        ),
        (
            Method::POST,
            format!("/api/workspaces/{ws}/members"),
            Some(json!({"email": newcomer.email, "role": "viewer"})),
            Some("admin"),
            201,
        ),
        (
            Method::PATCH,
            format!("/api/workspaces/{ws}/members/{}", target.id),
            Some(json!({"role": "editor"})),
            Some("admin"),
            200,
        ),
        (
            Method::DELETE,
            format!("/api/workspaces/{ws}/members/{}", victim.id),
            None,
            Some("admin"),
            204,
        ),
        (Method::GET, "/api/audit".into(), None, Some("admin"), 200),
    ]
}

/// The destructive and session routes last, once per role.
async fn destructive_and_session_routes_last(app: &TestApp, ws: &str, members: &[(&str, User)]) {
    for (role, who) in members.iter().rev() {
        let resp = call(
            app,
            who,
            Method::DELETE,
            &format!("/api/workspaces/{ws}"),
            None,
        )
        .await;
        if *role == "owner" {
            assert_eq!(resp.status, 204, "owner deletes: {}", resp.text);
        } else {
            assert_error_envelope(&resp, 403, "AUTHORIZATION_ERROR");
        }
        let pw = call(
            app,
            who,
            Method::POST,
            "/api/auth/password",
            Some(
                json!({"currentPassword": "not mine at all", "newPassword": "another good phrase"}),
            ),
        )
        .await;
        assert_eq!(
            pw.status, 401,
            "{role}: any user may try, the current password decides"
        );
        let out = call(app, who, Method::POST, "/api/auth/logout", None).await;
        assert_eq!(out.status, 200, "{role} logs out: {}", out.text);
    }
}
