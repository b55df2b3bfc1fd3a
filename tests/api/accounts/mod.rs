//! The accounts component against `xsim`: the OAuth 2.0 connect flow (and its refusals),
//! OAuth 1.0a credentials, settings, roles, workspace isolation, sealed credentials, single-flight
//! token refresh, and what revocation and transient failures do to an account.

mod access;
mod connect;
mod delete;
mod list;
mod settings;
mod tokens;

use crate::helpers::{Resp, Setup, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use xsim::{Fault, FaultKind, Profile, SimHandle, SimState};

const ME: u64 = xsim::DEFAULT_USER_ID;
const OTHER: u64 = 1_700_000_000_000_000_777;

pub struct AccountsTest {
    pub sim: SimHandle,
    pub app: TestApp,
    /// The owner of the first workspace.
    pub token: String,
}

impl AccountsTest {
    pub async fn start() -> AccountsTest {
        Self::start_with(&[]).await
    }

    /// With extra Spin variables (and the simulator's address for them).
    pub async fn start_with(vars: &[(&str, &str)]) -> AccountsTest {
        let mut setup = Self::app_setup();
        for (name, value) in vars {
            setup = setup.var(name, value);
        }
        let (sim, app) = setup.with_sim(Profile::Standard).await;
        sim.state()
            .inner
            .lock()
            .add_user(OTHER, "second_brand", "Second Brand", 0);
        let owner = app.register("owner@example.com", "Owner").await;
        let token = owner["accessToken"].as_str().unwrap().to_string();
        AccountsTest { sim, app, token }
    }

    /// The shipping app pointed at `sim`, on Redis.
    pub fn setup(sim: &SimHandle) -> Setup {
        Self::app_setup().x_at(sim)
    }

    /// The shipping app as X's registered client, with a short timeout for calls to X.
    fn app_setup() -> Setup {
        Setup::app()
            .var("x_client_id", xsim::DEFAULT_CLIENT_ID)
            .var("x_client_secret", xsim::DEFAULT_CLIENT_SECRET)
            .var("x_request_timeout_ms", "3000")
    }

    pub fn st(&self) -> &Arc<SimState> {
        self.sim.state()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Resp {
        self.app.authed(method, path, token, body, &[]).await
    }

    /// `method /api/accounts/{id}{rest}` as the owner.
    pub async fn on_account(
        &self,
        method: Method,
        id: &str,
        rest: &str,
        body: Option<&Value>,
    ) -> Resp {
        self.call(
            method,
            &format!("/api/accounts/{id}{rest}"),
            &self.token,
            body,
        )
        .await
    }

    /// `POST /api/accounts/connect` as `token`; answers `data`.
    pub async fn start_connect(&self, token: &str) -> Value {
        let resp = self
            .call(Method::POST, "/api/accounts/connect", token, None)
            .await;
        assert_eq!(
            resp.status,
            200,
            "connect: {}\n{}",
            resp.text,
            self.app
                .log_lines()
                .iter()
                .filter(|l| l.contains("\"error\""))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        resp.json()["data"].clone()
    }

    /// The user consents at X (`xsim`): answers the callback path and query X redirects to.
    pub async fn consent(&self, authorize_url: &str, user: u64) -> String {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = browser
            .get(format!("{authorize_url}&user_id={user}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            302,
            "consent: {:?}",
            resp.text().await
        );
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let path = location
            .strip_prefix(&self.app.address)
            .unwrap_or_else(|| panic!("X redirects back to the app: {location}"));
        path.to_string()
    }

    /// The whole flow for `user`; answers the callback response.
    pub async fn connect(&self, user: u64) -> Resp {
        let started = self.start_connect(&self.token).await;
        let callback = self
            .consent(started["authorizeUrl"].as_str().unwrap(), user)
            .await;
        self.app.get(&callback).await
    }

    /// Connects `user` and answers the account.
    pub async fn connected(&self, user: u64) -> Value {
        let resp = self.connect(user).await;
        assert!(
            resp.status == 201 || resp.status == 200,
            "callback: {}",
            resp.text
        );
        resp.json()["data"]["account"].clone()
    }

    pub async fn account(&self, id: &str) -> Value {
        let resp = self
            .app
            .auth_get(&format!("/api/accounts/{id}"), &self.token)
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    /// `DELETE /api/accounts/{id}{query}` as the owner.
    pub async fn delete_account(&self, id: &str, query: &str) -> Resp {
        let path = format!("/api/accounts/{id}{query}");
        self.call(Method::DELETE, &path, &self.token, None).await
    }

    pub async fn count_rows(&self, sql: &str) -> i64 {
        let db = self.app.db.client().await;
        db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0)
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        let db = self.app.db.client().await;
        db.query("SELECT action FROM audit_log ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect()
    }

    /// A second user with `role` in the owner's workspace; answers their token.
    pub async fn member(&self, email: &str, role: &str) -> String {
        let user = self.app.register(email, role).await;
        let ws = self.workspace_id().await;
        let resp = self
            .call(
                Method::POST,
                &format!("/api/workspaces/{ws}/members"),
                &self.token,
                Some(&json!({ "email": email, "role": role })),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        // Make the shared workspace the member's default, so requests act in it.
        let token = user["accessToken"].as_str().unwrap().to_string();
        let resp = self
            .app
            .authed(
                Method::PATCH,
                "/api/auth/profile",
                &token,
                Some(&json!({ "defaultWorkspaceId": ws })),
                &[],
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        token
    }

    pub async fn workspace_id(&self) -> String {
        let resp = self.app.auth_get("/api/workspaces", &self.token).await;
        resp.json()["data"]["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn fault(&self, method: &str, path: &str, kind: FaultKind, status: u16, delay_ms: u64) {
        self.st().add_fault(Fault {
            method: Some(method.into()),
            path: path.into(),
            count: 1,
            status,
            delay_ms,
            kind,
            skip: 0,
        });
    }

    /// Every token `xsim` issued that is still valid for `user` (access and refresh).
    pub fn live_tokens(&self, user: u64) -> (Vec<String>, Vec<String>) {
        let inner = self.st().inner.lock();
        let access = inner
            .access
            .iter()
            .filter(|(_, t)| t.user_id == user)
            .map(|(k, _)| k.clone())
            .collect();
        let refresh = inner
            .refresh
            .iter()
            .filter(|(_, t)| t.user_id == user)
            .map(|(k, _)| k.clone())
            .collect();
        (access, refresh)
    }
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}
