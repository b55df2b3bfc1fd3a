//! Outages of what the platform stands on, for real: a private PostgreSQL server stopped and
//! started (`pg_ctl stop -m fast` / `start`), a private Redis server shut down and started again
//! on the same port, and X answering slowly or with 5xx storms (xsim faults). The shared servers
//! of the other tests are never touched.

mod postgres;
mod redis;
mod servers;
mod x;

use crate::helpers::{Resp, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// One request of each kind a client makes, with what it is.
async fn each_route(app: &TestApp, token: &str) -> Vec<(&'static str, Resp)> {
    let auth = format!("Bearer {token}");
    let json = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let bearer = [("authorization", auth.as_str())];
    let login = json!({ "email": "outage@example.com", "password": PASSWORD });
    let register = json!({ "email": format!("{}@example.com", uuid::Uuid::new_v4().simple()),
                            "password": PASSWORD, "name": "New" });
    let draft = json!({ "content": "written during an outage" });
    let mut out = Vec::new();
    let body = |v: &Value| Some(v.to_string().into_bytes());
    let ct = [("content-type", "application/json")];
    out.push(("health", app.get("/api/health").await));
    out.push(("version", app.get("/api/version").await));
    out.push((
        "login",
        app.request(Method::POST, "/api/auth/login", &ct, body(&login))
            .await,
    ));
    out.push((
        "register",
        app.request(Method::POST, "/api/auth/register", &ct, body(&register))
            .await,
    ));
    out.push((
        "profile",
        app.request(Method::GET, "/api/auth/profile", &bearer, None)
            .await,
    ));
    out.push((
        "accounts",
        app.request(Method::GET, "/api/accounts", &bearer, None)
            .await,
    ));
    out.push((
        "posts",
        app.request(Method::GET, "/api/tweets", &bearer, None).await,
    ));
    out.push((
        "create draft",
        app.request(Method::POST, "/api/tweets", &json, body(&draft))
            .await,
    ));
    out
}

fn summary(answers: &[(&str, Resp)]) -> String {
    answers
        .iter()
        .map(|(what, r)| {
            format!(
                "{what}: {} {}",
                r.status,
                r.text.chars().take(160).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
