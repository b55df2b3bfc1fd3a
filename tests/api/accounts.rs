//! The accounts component against `xsim`: the OAuth 2.0 connect flow (and its refusals),
//! OAuth 1.0a credentials, settings, roles, workspace isolation, sealed credentials, single-flight
//! token refresh, and what revocation and transient failures do to an account.

use crate::helpers::{assert_error_envelope, Kv, Resp, Setup, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use xsim::{Fault, FaultKind, Sim, SimConfig, SimHandle, SimState};

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
        let sim = Sim::start(SimConfig::ephemeral())
            .await
            .expect("start xsim");
        sim.state()
            .inner
            .lock()
            .add_user(OTHER, "second_brand", "Second Brand", 0);
        let mut setup = Self::setup(&sim);
        for (name, value) in vars {
            setup = setup.var(name, value);
        }
        let app = setup.spawn().await;
        let owner = app.register("owner@example.com", "Owner").await;
        let token = owner["accessToken"].as_str().unwrap().to_string();
        AccountsTest { sim, app, token }
    }

    /// The shipping app pointed at `sim`, on Redis.
    pub fn setup(sim: &SimHandle) -> Setup {
        Setup::app()
            .var("x_api_base_url", &sim.base_url())
            .var("x_client_id", xsim::DEFAULT_CLIENT_ID)
            .var("x_client_secret", xsim::DEFAULT_CLIENT_SECRET)
            .var("x_request_timeout_ms", "3000")
            .kv(Kv::Redis)
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

#[tokio::test]
async fn connecting_through_x_creates_the_account_and_connecting_the_same_user_again_reconnects_it()
{
    // Arrange
    let t = AccountsTest::start().await;

    // Act
    let started = t.start_connect(&t.token).await;
    let url = started["authorizeUrl"].as_str().unwrap().to_string();
    let callback = t.consent(&url, ME).await;
    let first = t.app.get(&callback).await;
    let again = t.connect(ME).await;
    let list = t.app.auth_get("/api/accounts", &t.token).await;

    // Assert
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&url, "state").as_deref(),
        started["state"].as_str()
    );
    assert!(
        callback.starts_with("/api/accounts/oauth/callback?"),
        "{callback}"
    );
    assert_eq!(first.status, 201, "{}", first.text);
    let account = &first.json()["data"]["account"];
    assert_eq!(account["username"], xsim::DEFAULT_USERNAME);
    assert_eq!(account["xUserId"], ME.to_string());
    assert_eq!(account["authKind"], "oauth2");
    assert_eq!(account["status"], "active");
    assert!(account["tokenExpiresAt"].is_string(), "{account}");
    assert!(account.get("credentials").is_none(), "{account}");
    assert_eq!(again.status, 200, "reconnect: {}", again.text);
    assert_eq!(again.json()["data"]["created"], false);
    assert_eq!(again.json()["data"]["account"]["id"], account["id"]);
    let items = list.json()["data"]["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    let actions = t.audit_actions().await;
    assert!(
        actions.contains(&"account.connected".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"account.reconnected".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_tampered_expired_or_replayed_state_is_refused_and_creates_nothing() {
    // Arrange
    let t = AccountsTest::start().await;
    let started = t.start_connect(&t.token).await;
    let state = started["state"].as_str().unwrap().to_string();
    let callback = t
        .consent(started["authorizeUrl"].as_str().unwrap(), ME)
        .await;
    let mut tampered_state = state.clone();
    tampered_state.replace_range(0..1, if state.starts_with('a') { "b" } else { "a" });
    let tampered = callback.replace(&state, &tampered_state);

    // An expired flow: its stored expiry is moved into the past.
    let expiring = t.start_connect(&t.token).await;
    let expiring_callback = t
        .consent(expiring["authorizeUrl"].as_str().unwrap(), OTHER)
        .await;
    let moved = t
        .app
        .db
        .client()
        .await
        .execute(
            "UPDATE oauth_states SET expires_at_ms = 1000
             WHERE state_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
            &[&expiring["state"].as_str().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(moved, 1, "the flow's state is stored in PostgreSQL");

    // Act
    let with_tampered = t.app.get(&tampered).await;
    let expired = t.app.get(&expiring_callback).await;
    let genuine = t.app.get(&callback).await;
    let replayed = t.app.get(&callback).await;
    let no_state = t.app.get("/api/accounts/oauth/callback?code=abc").await;

    // Assert
    for (resp, why) in [
        (&with_tampered, "tampered"),
        (&expired, "expired"),
        (&replayed, "replayed"),
        (&no_state, "missing"),
    ] {
        let err = assert_error_envelope(resp, 400, "VALIDATION_ERROR");
        assert_eq!(err["code"], "ACCT_STATE", "{why}: {err}");
    }
    assert_eq!(
        genuine.status, 201,
        "the untouched flow still works: {}",
        genuine.text
    );
    assert_eq!(
        t.count_rows("SELECT count(*) FROM x_accounts").await,
        1,
        "only the genuine callback created an account"
    );
}

#[tokio::test]
async fn concurrent_callbacks_with_the_same_state_connect_the_account_exactly_once_on_redis() {
    // Arrange: one consented flow whose callback the browser sends eight times at once.
    let t = AccountsTest::start().await;
    let started = t.start_connect(&t.token).await;
    let callback = t
        .consent(started["authorizeUrl"].as_str().unwrap(), ME)
        .await;

    // Act
    let answers = futures::future::join_all((0..8).map(|_| t.app.get(&callback))).await;

    // Assert
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one callback takes the state: {:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for resp in answers.iter().filter(|r| r.status != 201) {
        let err = assert_error_envelope(resp, 400, "VALIDATION_ERROR");
        assert_eq!(err["code"], "ACCT_STATE", "{err}");
    }
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 1);
    assert_eq!(
        t.count_rows("SELECT count(*) FROM oauth_states").await,
        0,
        "a used state is gone"
    );
}

#[tokio::test]
async fn a_code_issued_for_another_pkce_challenge_is_refused_by_x_and_creates_nothing() {
    // Arrange
    let t = AccountsTest::start().await;
    let started = t.start_connect(&t.token).await;
    let url = started["authorizeUrl"].as_str().unwrap();
    let challenge = query_param(url, "code_challenge").unwrap();
    let forged = url.replace(&challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let callback = t.consent(&forged, ME).await;

    // Act
    let resp = t.app.get(&callback).await;

    // Assert
    let err = assert_error_envelope(&resp, 400, "VALIDATION_ERROR");
    assert_eq!(err["code"], "ACCT_CODE", "{err}");
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 0);
}

#[tokio::test]
async fn oauth1_credentials_are_checked_at_x_and_rejected_ones_get_a_clear_422() {
    // Arrange
    let t = AccountsTest::start().await;
    let creds = t.st().oauth1_credentials(OTHER, None).unwrap();
    let body = |secret: &str| {
        json!({
            "apiKey": creds.consumer_key,
            "apiSecret": creds.consumer_secret,
            "accessToken": creds.access_token,
            "accessTokenSecret": secret,
        })
    };

    // Act
    let wrong = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(&body("not-the-secret")),
        )
        .await;
    let unknown_field = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(
                &json!({ "apiKey": "k", "apiSecret": "s", "accessToken": "t",
                          "accessTokenSecret": "x", "extra": 1 }),
            ),
        )
        .await;
    let empty = t
        .call(Method::POST, "/api/accounts", &t.token, Some(&body(" ")))
        .await;
    let good = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(&body(&creds.access_token_secret)),
        )
        .await;

    // Assert
    let err = assert_error_envelope(&wrong, 422, "VALIDATION_ERROR");
    assert_eq!(err["code"], "ACCT_CREDENTIALS", "{err}");
    assert!(
        unknown_field.status == 400 || unknown_field.status == 422,
        "{}",
        unknown_field.text
    );
    assert_error_envelope(&empty, 422, "VALIDATION_ERROR");
    assert_eq!(good.status, 201, "{}", good.text);
    let account = &good.json()["data"]["account"];
    assert_eq!(account["authKind"], "oauth1");
    assert_eq!(account["username"], "second_brand");
    assert_eq!(account["tokenExpiresAt"], Value::Null);
    assert_eq!(t.count_rows("SELECT count(*) FROM x_accounts").await, 1);
}

#[tokio::test]
async fn settings_are_validated_all_together_and_applied_only_when_all_are_valid() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let path = format!("/api/accounts/{}", account["id"].as_str().unwrap());
    let patch = |body: Value| {
        let (t, path) = (&t, path.clone());
        async move { t.call(Method::PATCH, &path, &t.token, Some(&body)).await }
    };

    // Act
    let bad = patch(json!({
        "label": "Brand",
        "timezone": "Mars/Olympus_Mons",
        "postingSlots": [{ "day": "mon", "time": "25:00" }],
        "dailyPostCap": 0,
    }))
    .await;
    let after_bad = t.account(account["id"].as_str().unwrap()).await;
    let unknown = patch(json!({ "colour": "red" })).await;
    let good = patch(json!({
        "label": "  Brand  ",
        "timezone": "America/New_York",
        "postingSlots": [{ "day": "Wed", "time": "17:00" }, { "day": "mon", "time": "09:30" }],
        "paused": true,
        "dailyPostCap": 20,
    }))
    .await;
    let cleared = patch(json!({ "label": null, "dailyPostCap": null, "paused": false })).await;

    // Assert
    let err = assert_error_envelope(&bad, 422, "VALIDATION_ERROR");
    let fields: Vec<&str> = err["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["timezone", "dailyPostCap", "postingSlots"],
        "{err}"
    );
    assert_eq!(after_bad["label"], Value::Null, "nothing was written");
    assert!(
        unknown.status == 400 || unknown.status == 422,
        "{}",
        unknown.text
    );
    assert_eq!(good.status, 200, "{}", good.text);
    let data = good.json()["data"].clone();
    assert_eq!(data["label"], "Brand");
    assert_eq!(data["timezone"], "America/New_York");
    assert_eq!(
        data["postingSlots"],
        json!([{ "day": "mon", "time": "09:30" }, { "day": "wed", "time": "17:00" }])
    );
    assert_eq!(data["status"], "paused");
    assert_eq!(data["dailyPostCap"], 20);
    let data = cleared.json()["data"].clone();
    assert_eq!(data["label"], Value::Null, "{data}");
    assert_eq!(data["dailyPostCap"], Value::Null);
    assert_eq!(data["status"], "active");
}

#[tokio::test]
async fn a_settings_change_answers_the_account_as_reading_it_does_including_active() {
    // Arrange (found by the contract run: the answer to PATCH lacked `active`)
    let t = AccountsTest::start().await;
    let id = t.connected(ME).await["id"].as_str().unwrap().to_string();
    let path = format!("/api/accounts/{id}");
    t.call(Method::POST, &format!("{path}/switch"), &t.token, None)
        .await;

    // Act
    let patched = t
        .call(
            Method::PATCH,
            &path,
            &t.token,
            Some(&json!({ "label": "Brand" })),
        )
        .await;
    let read = t.account(&id).await;

    // Assert
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["data"], read);
    assert_eq!(read["active"], true);
}

#[tokio::test]
async fn an_integer_setting_may_be_written_with_a_zero_fraction_as_json_allows() {
    // Arrange (found by the contract run: `20.0` was a 422 although JSON and the document
    // do not tell it from `20`)
    let t = AccountsTest::start().await;
    let path = format!(
        "/api/accounts/{}",
        t.connected(ME).await["id"].as_str().unwrap()
    );
    let cases = [
        (json!(20.0), Some(20), "a zero fraction"),
        (json!(2e1), Some(20), "exponent notation"),
        (json!(20.5), None, "a fraction"),
        (json!("20"), None, "a string"),
    ];

    for (cap, expected, why) in cases {
        // Act
        let resp = t
            .call(
                Method::PATCH,
                &path,
                &t.token,
                Some(&json!({ "dailyPostCap": cap })),
            )
            .await;

        // Assert
        match expected {
            Some(n) => {
                assert_eq!(resp.status, 200, "{why}: {}", resp.text);
                assert_eq!(resp.json()["data"]["dailyPostCap"], n, "{why}");
            }
            None => {
                assert_error_envelope(&resp, 422, "VALIDATION_ERROR");
            }
        }
    }
}

#[tokio::test]
async fn pagination_walks_every_account_once_and_filters_by_status() {
    // Arrange
    let t = AccountsTest::start().await;
    let db = t.app.db.client().await;
    let ws = t.workspace_id().await;
    db.execute(
        "INSERT INTO x_accounts (id, workspace_id, x_user_id, username, auth_kind, credentials,
           key_id, status, created_at)
         SELECT gen_random_uuid(), $1::text::uuid, (1000 + i)::text, 'user' || i, 'oauth1',
                'sealed', 'k', CASE WHEN i % 5 = 0 THEN 'paused' ELSE 'active' END,
                now() - (i % 7) * interval '1 second'
         FROM generate_series(1, 23) i",
        &[&ws],
    )
    .await
    .unwrap();

    // Act
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let resp = t
            .app
            .auth_get(&format!("/api/accounts?limit=5{q}"), &t.token)
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let data = resp.json()["data"].clone();
        for a in data["items"].as_array().unwrap() {
            seen.push(a["username"].as_str().unwrap().to_string());
        }
        cursor = data["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    let paused = t
        .app
        .auth_get("/api/accounts?status=paused&limit=100", &t.token)
        .await;
    let paused_first = t
        .app
        .auth_get("/api/accounts?status=paused&limit=2", &t.token)
        .await
        .json()["data"]
        .clone();
    let paused_second = t
        .app
        .auth_get(
            &format!(
                "/api/accounts?status=paused&limit=2&cursor={}",
                paused_first["nextCursor"].as_str().unwrap()
            ),
            &t.token,
        )
        .await
        .json()["data"]
        .clone();
    let newest_first: Vec<String> = db
        .query(
            "SELECT username FROM x_accounts ORDER BY created_at DESC, id DESC",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let bad = t.app.auth_get("/api/accounts?limit=1000", &t.token).await;

    // Assert
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 23, "{seen:?}");
    assert_eq!(unique.len(), 23, "no repeats");
    assert_eq!(seen, newest_first, "newest first, ties broken by id");
    assert_eq!(paused.json()["data"]["items"].as_array().unwrap().len(), 4);
    assert_eq!(paused_first["items"].as_array().unwrap().len(), 2);
    assert_eq!(paused_second["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        paused_second["nextCursor"],
        Value::Null,
        "a page that ends the list has no next cursor"
    );
    assert!(paused_second["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["status"] == "paused"));
    assert_error_envelope(&bad, 422, "VALIDATION_ERROR");
}

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

#[tokio::test]
async fn the_active_account_is_per_user_and_shown_in_the_list() {
    // Arrange
    let t = AccountsTest::start().await;
    let a = t.connected(ME).await;
    let b = t.connected(OTHER).await;
    let editor = t.member("editor@example.com", "editor").await;

    // Act
    let switched = t
        .call(
            Method::POST,
            &format!("/api/accounts/{}/switch", b["id"].as_str().unwrap()),
            &t.token,
            None,
        )
        .await;
    let owner_list = t.app.auth_get("/api/accounts", &t.token).await;
    let editor_list = t.app.auth_get("/api/accounts", &editor).await;
    let missing = t
        .call(
            Method::POST,
            &format!("/api/accounts/{}/switch", uuid::Uuid::new_v4()),
            &t.token,
            None,
        )
        .await;

    // Assert
    assert_eq!(switched.status, 200, "{}", switched.text);
    assert_eq!(owner_list.json()["data"]["activeAccountId"], b["id"]);
    assert_eq!(editor_list.json()["data"]["activeAccountId"], Value::Null);
    assert_ne!(a["id"], b["id"]);
    assert_error_envelope(&missing, 404, "NOT_FOUND");
}

#[tokio::test]
async fn a_database_dump_contains_no_token_or_secret_in_clear_text() {
    // Arrange
    let t = AccountsTest::start().await;
    t.connected(ME).await;
    let creds = t.st().oauth1_credentials(OTHER, None).unwrap();
    let resp = t
        .call(
            Method::POST,
            "/api/accounts",
            &t.token,
            Some(&json!({
                "apiKey": creds.consumer_key,
                "apiSecret": creds.consumer_secret,
                "accessToken": creds.access_token,
                "accessTokenSecret": creds.access_token_secret,
            })),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let (access, refresh) = t.live_tokens(ME);
    assert!(!access.is_empty() && !refresh.is_empty());

    // Act
    let dump = std::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", &t.app.db.url])
        .output()
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8(dump.stdout).unwrap();

    // Assert
    assert!(
        dump.contains(xsim::DEFAULT_USERNAME),
        "the dump has the accounts"
    );
    let secrets = access.iter().chain(&refresh).chain([
        &creds.consumer_secret,
        &creds.access_token,
        &creds.access_token_secret,
    ]);
    for secret in secrets {
        assert!(
            !dump.contains(secret.as_str()),
            "a secret is in the dump in clear text"
        );
    }
}

#[tokio::test]
async fn two_concurrent_refreshes_make_one_call_to_x_and_leave_one_valid_token_pair() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let path = format!("/api/accounts/{id}/refresh");
    let before = t.st().request_count("POST", "/2/oauth2/token");
    // The first refresh holds the account's lock for a while at X.
    t.fault("POST", "/2/oauth2/token", FaultKind::Delay, 200, 400);

    // Act
    let (a, b) = tokio::join!(
        t.call(Method::POST, &path, &t.token, None),
        t.call(Method::POST, &path, &t.token, None)
    );
    let calls = t.st().request_count("POST", "/2/oauth2/token") - before;
    let verified = t
        .app
        .auth_get(&format!("/api/accounts/{id}/health?verify=true"), &t.token)
        .await;
    let later = t.call(Method::POST, &path, &t.token, None).await;

    // Assert
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(b.status, 200, "{}", b.text);
    let refreshed = [&a, &b]
        .iter()
        .filter(|r| r.json()["data"]["refreshed"] == true)
        .count();
    assert_eq!(
        refreshed, 1,
        "one refresh did the work: {} / {}",
        a.text, b.text
    );
    assert_eq!(calls, 1, "one call to X's token endpoint");
    let health = verified.json()["data"].clone();
    assert_eq!(
        health["verified"]["ok"], true,
        "the stored access token works: {health}"
    );
    assert_eq!(health["status"], "active");
    assert_eq!(
        later.status, 200,
        "the stored refresh token works: {}",
        later.text
    );
    assert_eq!(later.json()["data"]["refreshed"], true);
    // Earlier access tokens stay valid until they expire, as at X; refresh tokens rotate.
    let (_, refresh) = t.live_tokens(ME);
    assert_eq!(refresh.len(), 1, "one valid refresh token at X");
}

#[tokio::test]
async fn a_token_revoked_at_x_turns_the_account_needs_reauth_but_a_transient_failure_does_not() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();

    // Act: X is down for one refresh.
    t.fault("POST", "/2/oauth2/token", FaultKind::Status, 503, 0);
    let transient = t
        .call(
            Method::POST,
            &format!("/api/accounts/{id}/refresh"),
            &t.token,
            None,
        )
        .await;
    let after_transient = t.account(id).await;
    // Then the user revokes the app at X.
    t.st().inner.lock().revoke_user(ME);
    let verified = t
        .app
        .auth_get(&format!("/api/accounts/{id}/health?verify=true"), &t.token)
        .await;
    let health = t
        .app
        .auth_get(&format!("/api/accounts/{id}/health"), &t.token)
        .await;
    let refresh_again = t
        .call(
            Method::POST,
            &format!("/api/accounts/{id}/refresh"),
            &t.token,
            None,
        )
        .await;
    let reconnected = t.connected(ME).await;

    // Assert
    assert_eq!(transient.status, 502, "{}", transient.text);
    assert!(
        !transient.text.contains("503 Service"),
        "{}",
        transient.text
    );
    assert_eq!(after_transient["status"], "active", "{after_transient}");
    assert!(
        after_transient["lastError"].is_string(),
        "{after_transient}"
    );
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.json()["data"]["verified"]["ok"], false);
    let health = health.json()["data"].clone();
    assert_eq!(health["status"], "needs_reauth", "{health}");
    assert_eq!(health["token"]["state"], "needs_reauth");
    assert!(health["lastError"].is_string());
    let failures: Vec<&str> = health["recentFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        failures,
        ["account.needs_reauth", "account.refresh_failed"],
        "{health}"
    );
    let err = assert_error_envelope(&refresh_again, 409, "CONFLICT");
    assert_eq!(err["code"], "X_REAUTH");
    assert_eq!(
        reconnected["status"], "active",
        "reconnecting reactivates it"
    );
    assert_eq!(reconnected["lastError"], Value::Null);
}

#[tokio::test]
async fn deleting_an_account_revokes_its_tokens_at_x() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    assert_eq!(t.live_tokens(ME).0.len(), 1);

    // Act
    let deleted = t
        .call(
            Method::DELETE,
            &format!("/api/accounts/{id}"),
            &t.token,
            None,
        )
        .await;
    let again = t
        .call(
            Method::DELETE,
            &format!("/api/accounts/{id}"),
            &t.token,
            None,
        )
        .await;

    // Assert
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(
        t.live_tokens(ME),
        (vec![], vec![]),
        "nothing valid left at X"
    );
    assert_error_envelope(&again, 404, "NOT_FOUND");
    assert!(t
        .audit_actions()
        .await
        .contains(&"account.deleted".to_string()));
}

#[tokio::test]
async fn the_background_pass_refreshes_tokens_expiring_within_15_minutes_and_only_those() {
    // Arrange: three seeded accounts (the probe seals their tokens as the app does).
    let sim = Sim::start(SimConfig::ephemeral())
        .await
        .expect("start xsim");
    let third: u64 = 1_700_000_000_000_000_888;
    {
        let mut inner = sim.state().inner.lock();
        inner.add_user(OTHER, "second_brand", "Second Brand", 0);
        inner.add_user(third, "third_brand", "Third Brand", 0);
    }
    let app = Setup::probe()
        .var("x_api_base_url", &sim.base_url())
        .var("x_host", &sim.addr().to_string())
        .kv(Kv::Redis)
        .spawn()
        .await;
    let db = app.db.client().await;
    let ws = uuid::Uuid::new_v4().to_string();
    db.execute(
        "INSERT INTO workspaces (id, name) VALUES ($1::text::uuid, 'seeded')",
        &[&ws],
    )
    .await
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut ids = Vec::new();
    for (user, expires_in_ms) in [(ME, 5 * 60_000), (OTHER, 2 * 3_600_000), (third, 60_000)] {
        let tokens = sim.state().issue_user_token(user, None, None).unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let resp = app
            .post_json(
                "/probe/accounts/seed",
                &json!({
                    "workspace_id": ws, "account_id": id, "x_user_id": user.to_string(),
                    "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                    "expires_ms": now + expires_in_ms,
                }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        ids.push(id);
    }
    // The third user revoked the app at X.
    sim.state().inner.lock().revoke_user(third);
    let expiry = |id: String| {
        let db = &db;
        async move {
            db.query_one(
                "SELECT (extract(epoch FROM token_expires_at) * 1000)::int8, status
                 FROM x_accounts WHERE id = $1::text::uuid",
                &[&id],
            )
            .await
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
            .unwrap()
        }
    };

    // Act
    let first = app
        .post_json(
            "/probe/accounts/refresh-expiring",
            &json!({ "now_ms": now }),
        )
        .await;
    let second = app
        .post_json(
            "/probe/accounts/refresh-expiring",
            &json!({ "now_ms": now }),
        )
        .await;

    // Assert
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.json()["data"],
        json!({ "refreshed": 1, "skipped": 0, "failed": 0, "needsReauth": 1 })
    );
    assert_eq!(
        second.json()["data"],
        json!({ "refreshed": 0, "skipped": 0, "failed": 0, "needsReauth": 0 }),
        "nothing is due any more"
    );
    let (soon, soon_status) = expiry(ids[0].clone()).await;
    assert!(soon > now + 60 * 60_000, "renewed for about two hours");
    assert_eq!(soon_status, "active");
    let (later, _) = expiry(ids[1].clone()).await;
    assert_eq!(later, now + 2 * 3_600_000, "not due, not touched");
    let (_, revoked_status) = expiry(ids[2].clone()).await;
    assert_eq!(revoked_status, "needs_reauth");
}

#[tokio::test]
async fn deleting_an_account_with_scheduled_posts_needs_force_which_cancels_them() {
    // Arrange
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let ws = t.workspace_id().await;
    let db = t.app.db.client().await;
    db.execute(
        "INSERT INTO posts (id, workspace_id, account_id, content, thread_id, status,
           scheduled_at, normalized_text_hash)
         SELECT p, $1::text::uuid, $2::text::uuid, 'post ' || i, p, s,
                now() + interval '1 hour', repeat('a', 64)
         FROM (SELECT gen_random_uuid() AS p, i,
                      CASE WHEN i <= 2 THEN 'scheduled' ELSE 'draft' END AS s
               FROM generate_series(1, 3) i) x",
        &[&ws, &id],
    )
    .await
    .unwrap();

    // Act
    let refused = t
        .call(
            Method::DELETE,
            &format!("/api/accounts/{id}"),
            &t.token,
            None,
        )
        .await;
    let bad_flag = t
        .call(
            Method::DELETE,
            &format!("/api/accounts/{id}?force=yes"),
            &t.token,
            None,
        )
        .await;
    let forced = t
        .call(
            Method::DELETE,
            &format!("/api/accounts/{id}?force=true"),
            &t.token,
            None,
        )
        .await;

    // Assert
    let err = assert_error_envelope(&refused, 409, "CONFLICT");
    assert_eq!(err["code"], "ACCT_HAS_POSTS");
    assert_eq!(err["details"]["scheduledPosts"], 2);
    assert_error_envelope(&bad_flag, 422, "VALIDATION_ERROR");
    assert_eq!(forced.status, 204, "{}", forced.text);
    let statuses: Vec<(String, bool)> = db
        .query(
            "SELECT status, account_id IS NULL FROM posts ORDER BY content",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        statuses,
        [
            ("cancelled".to_string(), true),
            ("cancelled".to_string(), true),
            ("draft".to_string(), true)
        ],
        "pending posts cancelled, history kept"
    );
    assert_eq!(
        t.count_rows("SELECT count(*) FROM post_events WHERE kind = 'cancelled'")
            .await,
        2
    );
}

#[tokio::test]
async fn the_list_shows_every_change_at_once_and_each_item_as_the_account_itself_reads() {
    // Arrange: the first page is read.
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let before = list_first_page(&t).await;

    // Act: a settings change (text that needs escaping, slots, a cap, paused), a second
    // account, a refresh and a deletion, each read back through the list.
    let patched = t
        .call(
            Method::PATCH,
            &format!("/api/accounts/{id}"),
            &t.token,
            Some(&json!({
                "label": "Brand \"Zürich\"\t\\ 東京 🚀",
                "timezone": "Europe/Berlin",
                "postingSlots": [{ "day": "mon", "time": "09:30" }, { "day": "fri", "time": "17:05" }],
                "dailyPostCap": 12,
                "paused": true
            })),
        )
        .await;
    let after_patch = list_first_page(&t).await;
    let patched_item = mine(&after_patch, id);
    let read_after_patch = t.account(id).await;
    t.call(
        Method::PATCH,
        &format!("/api/accounts/{id}"),
        &t.token,
        Some(&json!({ "paused": false })),
    )
    .await;
    t.connected(OTHER).await;
    let after_connect = list_first_page(&t).await;
    let refreshed = t
        .call(
            Method::POST,
            &format!("/api/accounts/{id}/refresh"),
            &t.token,
            None,
        )
        .await;
    let after_refresh = list_first_page(&t).await;
    let mut read_after_refresh = Vec::new();
    for item in after_refresh.as_array().unwrap() {
        read_after_refresh.push(t.account(item["id"].as_str().unwrap()).await);
    }
    t.call(
        Method::DELETE,
        &format!("/api/accounts/{id}"),
        &t.token,
        None,
    )
    .await;
    let after_delete = list_first_page(&t).await;

    // Assert
    assert_eq!(before[0]["label"], Value::Null);
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched_item["label"], "Brand \"Zürich\"\t\\ 東京 🚀");
    assert_eq!(patched_item["status"], "paused");
    assert_eq!(patched_item["paused"], true);
    assert_eq!(patched_item, without_active(&read_after_patch));
    assert_eq!(after_connect.as_array().unwrap().len(), 2);
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_ne!(
        mine(&after_refresh, id)["lastRefreshedAt"],
        mine(&after_connect, id)["lastRefreshedAt"],
        "the refresh shows"
    );
    for (item, read) in after_refresh
        .as_array()
        .unwrap()
        .iter()
        .zip(&read_after_refresh)
    {
        assert_eq!(item, &without_active(read), "the list item is the account");
    }
    assert_eq!(after_delete.as_array().unwrap().len(), 1);
}

fn mine(items: &Value, id: &str) -> Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap()
}

fn without_active(account: &Value) -> Value {
    let mut account = account.clone();
    account.as_object_mut().unwrap().remove("active");
    account
}

async fn list_first_page(t: &AccountsTest) -> Value {
    let resp = t.app.auth_get("/api/accounts?limit=10", &t.token).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()["data"]["items"].clone()
}

#[tokio::test]
async fn with_a_connected_url_the_callback_redirects_there_on_success_and_on_failure() {
    // Arrange
    let t = AccountsTest::start_with(&[("accounts_connected_url", "https://app.example/accounts")])
        .await;
    let started = t.start_connect(&t.token).await;
    let callback = t
        .consent(started["authorizeUrl"].as_str().unwrap(), ME)
        .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let visit = |path: String| {
        let browser = browser.clone();
        let url = format!("{}{path}", t.app.address);
        async move {
            let resp = browser.get(url).send().await.unwrap();
            let status = resp.status().as_u16();
            let location = resp.headers()["location"].to_str().unwrap().to_string();
            (status, location)
        }
    };

    // Act
    let (ok_status, ok_location) = visit(callback.clone()).await;
    let (replay_status, replay_location) = visit(callback).await;

    // Assert
    let id: String = t
        .app
        .db
        .client()
        .await
        .query_one("SELECT id::text FROM x_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ok_status, 302);
    assert_eq!(
        ok_location,
        format!("https://app.example/accounts?status=connected&accountId={id}")
    );
    assert_eq!(replay_status, 302);
    assert_eq!(
        replay_location,
        "https://app.example/accounts?status=error&code=ACCT_STATE"
    );
}

#[tokio::test]
async fn credentials_sealed_with_the_previous_key_open_and_are_resealed_with_the_new_one() {
    // Arrange: an account connected under the first key.
    let t = AccountsTest::start().await;
    let id = t.connected(ME).await["id"].as_str().unwrap().to_string();
    let db = t.app.db.client().await;
    let key_id = || async {
        db.query_one(
            "SELECT key_id FROM x_accounts WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get::<_, String>(0)
    };
    let first_key = key_id().await;
    let new_key = "bmV3LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc=";
    let rotated = |previous: Option<&str>| {
        let mut setup = AccountsTest::setup(&t.sim)
            .var("database_url", &t.app.db.url)
            .var("encryption_key", new_key);
        if let Some(p) = previous {
            setup = setup.var("encryption_key_previous", p);
        }
        setup.spawn()
    };
    let verify = |app: &crate::helpers::TestApp| {
        let path = format!("/api/accounts/{id}/health?verify=true");
        let token = t.token.clone();
        let app_address = app.address.clone();
        async move {
            let resp = reqwest::Client::new()
                .get(format!("{app_address}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            body["data"]["verified"]["ok"].clone()
        }
    };

    // Act: the new key with the old one as previous, then the new key alone.
    let during = rotated(Some(crate::helpers::TEST_ENCRYPTION_KEY)).await;
    let verified_during = verify(&during).await;
    let resealed_key = key_id().await;
    let after = rotated(None).await;
    let verified_after = verify(&after).await;

    // Assert
    assert_eq!(verified_during, true, "the previous key still opens");
    assert_ne!(resealed_key, first_key, "re-sealed with the new key on use");
    assert_eq!(verified_after, true, "the old key is no longer needed");
}
