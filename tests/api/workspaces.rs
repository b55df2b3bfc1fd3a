//! Workspaces, members and roles: the role × route matrix, tenancy (404 for another
//! workspace), membership changes taking effect on the next request, the last-owner rule.

use crate::helpers::{assert_error_envelope, Resp, Setup, TestApp};
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
