//! The X client (`common::x`) through the host against `xsim`: the probe component calls the
//! client on `/probe/x/...`, outbound HTTP goes through wasi:http and `allowed_outbound_hosts`,
//! budgets and breakers live in the host's key-value store (Redis), and the simulator runs in
//! this process so that tests can inject faults and read its request counters and post log.

use crate::helpers::{Kv, Setup, TestApp};
use serde_json::{json, Value};
use std::sync::Arc;
use xsim::ratelimit::{Bucket, Ep, Scope};
use xsim::{Fault, FaultKind, Profile, Sim, SimConfig, SimHandle, SimState};

const ME: u64 = xsim::DEFAULT_USER_ID;
const REDIRECT: &str = "http://127.0.0.1:3000/api/x/callback";

struct XTest {
    sim: SimHandle,
    app: TestApp,
}

impl XTest {
    async fn start(profile: Profile) -> XTest {
        let sim = Sim::start(SimConfig::ephemeral().with_profile(profile))
            .await
            .expect("start xsim");
        let app = Setup::probe()
            .var("x_api_base_url", &sim.base_url())
            .var("x_host", &sim.addr().to_string())
            .kv(Kv::Redis)
            .spawn()
            .await;
        XTest { sim, app }
    }

    fn st(&self) -> &Arc<SimState> {
        self.sim.state()
    }

    /// A fresh OAuth 2.0 access token of the default user.
    fn token(&self) -> String {
        self.st()
            .issue_user_token(ME, None, None)
            .unwrap()
            .access_token
    }

    /// `POST /probe/x/call`; answers the probe's `data` (`{"ok": ..}` or the error object).
    async fn call(&self, body: Value) -> Value {
        let resp = self.app.post_json("/probe/x/call", &body).await;
        assert_eq!(resp.status, 200, "probe call failed: {}", resp.text);
        resp.json()["data"].clone()
    }

    async fn probe(&self, path: &str, body: Value) -> Value {
        let resp = self.app.post_json(path, &body).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text);
        resp.json()["data"].clone()
    }

    async fn budget(&self, account: &str, endpoint: &str, now_ms: Option<i64>) -> Value {
        let now = now_ms.map(|ms| format!("&now_ms={ms}")).unwrap_or_default();
        let resp = self
            .app
            .get(&format!(
                "/probe/x/budget?account={account}&endpoint={endpoint}{now}"
            ))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    async fn breaker(&self, account: &str) -> Value {
        let resp = self
            .app
            .get(&format!("/probe/x/breaker?account={account}"))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    fn fault(&self, method: &str, path: &str, kind: FaultKind, status: u16, delay_ms: u64) {
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

    fn requests(&self, method: &str, path: &str) -> u64 {
        self.st().request_count(method, path)
    }
}

fn kind(answer: &Value) -> &str {
    answer["kind"].as_str().unwrap_or("<ok>")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

#[tokio::test]
async fn the_oauth2_dance_yields_tokens_that_rotate_and_a_reused_refresh_token_fails() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let start = x
        .probe("/probe/x/oauth/start", json!({ "redirect_uri": REDIRECT }))
        .await;
    let url = start["url"].as_str().unwrap();
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(
        url.contains("offline.access"),
        "scopes ask for a refresh token: {url}"
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = browser.get(url).send().await.unwrap();
    assert_eq!(consent.status().as_u16(), 302, "{:?}", consent.text().await);
    let location = consent.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        start["state"].as_str()
    );
    let code = query_param(&location, "code").expect("code");
    let exchange = json!({ "code": code, "verifier": start["verifier"], "redirect_uri": REDIRECT });

    // Act
    let first = x.probe("/probe/x/oauth/exchange", exchange.clone()).await;
    let code_again = x.probe("/probe/x/oauth/exchange", exchange).await;
    let tokens = &first["ok"];
    let me = x
        .call(json!({ "op": "me", "token": tokens["access_token"] }))
        .await;
    let rotated = x
        .probe(
            "/probe/x/oauth/refresh",
            json!({ "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    let reused = x
        .probe(
            "/probe/x/oauth/refresh",
            json!({ "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    let new_access = &rotated["ok"]["access_token"];
    let me_after_refresh = x.call(json!({ "op": "me", "token": new_access })).await;
    let revoked = x
        .probe(
            "/probe/x/oauth/revoke",
            json!({ "token": new_access, "hint": "access_token" }),
        )
        .await;
    let me_after_revoke = x.call(json!({ "op": "me", "token": new_access })).await;

    // Assert
    assert!(
        tokens["refresh_token"].is_string(),
        "exchange gives a pair: {first}"
    );
    assert_eq!(
        kind(&code_again),
        "Unauthorized",
        "codes are single-use: {code_again}"
    );
    assert_eq!(me["ok"]["username"], xsim::DEFAULT_USERNAME, "{me}");
    assert!(rotated["ok"]["refresh_token"].is_string(), "{rotated}");
    assert_ne!(rotated["ok"]["refresh_token"], tokens["refresh_token"]);
    assert_eq!(kind(&reused), "Unauthorized", "{reused}");
    assert_eq!(reused["code"], "X_REAUTH", "{reused}");
    assert_eq!(me_after_refresh["ok"]["id"], ME.to_string());
    assert_eq!(revoked["ok"], true, "{revoked}");
    assert_eq!(kind(&me_after_revoke), "Unauthorized", "{me_after_revoke}");
}

#[tokio::test]
async fn oauth1_user_context_calls_work_and_a_wrong_secret_is_rejected() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let creds = x.st().oauth1_credentials(ME, None).unwrap();
    let oauth1 = |secret: &str| {
        json!({
            "consumer_key": creds.consumer_key, "consumer_secret": creds.consumer_secret,
            "token": creds.access_token, "token_secret": secret,
        })
    };

    // Act
    let me = x
        .call(json!({ "op": "me", "oauth1": oauth1(&creds.access_token_secret) }))
        .await;
    let post = x
        .call(
            json!({ "op": "create_post", "oauth1": oauth1(&creds.access_token_secret),
                      "args": { "text": "signed with OAuth 1.0a" } }),
        )
        .await;
    let wrong = x
        .call(json!({ "op": "me", "oauth1": oauth1("not-the-secret"), "retry": false }))
        .await;

    // Assert
    assert_eq!(me["ok"]["id"], ME.to_string(), "{me}");
    assert!(post["ok"]["id"].is_string(), "{post}");
    assert_eq!(x.st().posts_of(Some(ME)).len(), 1);
    assert_eq!(kind(&wrong), "Unauthorized", "{wrong}");
}

#[tokio::test]
async fn every_x_failure_maps_to_its_typed_error() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let bob = x.st().create_user("bob", None, None).unwrap();
    let bob_token = x
        .st()
        .issue_user_token(bob.id, None, None)
        .unwrap()
        .access_token;
    let bobs_post = x
        .call(json!({ "op": "create_post", "token": bob_token, "args": { "text": "bob's" } }))
        .await;
    let bobs_post_id = bobs_post["ok"]["id"].as_str().unwrap().to_string();
    x.call(json!({ "op": "create_post", "token": token, "args": { "text": "said once" } }))
        .await;
    type Arrange = Box<dyn Fn(&XTest)>;
    let none: fn() -> Arrange = || Box::new(|_| {});
    let fault = |method: &'static str, path: &'static str, kind: FaultKind, status: u16, delay| {
        Box::new(move |x: &XTest| x.fault(method, path, kind, status, delay)) as Arrange
    };
    let usage_capped: Arrange = Box::new(|x: &XTest| {
        x.st().set_profile(Profile::Free);
        let reset_at = x.st().clock.now() + 86_400;
        x.st().inner.lock().buckets.insert(
            (Ep::CreatePost, Scope::AppMonth, xsim::DEFAULT_APP_ID),
            Bucket {
                reset_at,
                count: 500,
            },
        );
    });
    let post = |text: &str| json!({ "op": "create_post", "args": { "text": text } });
    let me = json!({ "op": "me" });
    let cases: Vec<(&str, Arrange, Value, &str, u16)> = vec![
        (
            "401: a token X does not know",
            none(),
            json!({ "op": "me", "token": "nope" }),
            "Unauthorized",
            409,
        ),
        (
            "403: duplicate text",
            none(),
            post("said once"),
            "DuplicateContent",
            409,
        ),
        (
            "403: another reason",
            none(),
            json!({ "op": "delete_post", "args": { "id": bobs_post_id } }),
            "Forbidden",
            422,
        ),
        (
            "404: no such post",
            none(),
            json!({ "op": "delete_post", "args": { "id": "1234567890123456789" } }),
            "NotFound",
            404,
        ),
        (
            "429 with reset",
            fault("GET", "/2/users/me", FaultKind::Status, 429, 0),
            me.clone(),
            "RateLimited",
            429,
        ),
        ("400: empty text", none(), post(" "), "InvalidRequest", 422),
        (
            "5xx",
            fault("GET", "/2/users/me", FaultKind::Status, 503, 0),
            me.clone(),
            "Server",
            502,
        ),
        (
            "dropped connection on a read",
            fault("GET", "/2/users/me", FaultKind::Drop, 0, 0),
            me.clone(),
            "Network",
            502,
        ),
        (
            "dropped connection on a create",
            fault("POST", "/2/tweets", FaultKind::Drop, 0, 0),
            post("dropped"),
            "UnknownOutcome",
            502,
        ),
        (
            "slower than the timeout",
            fault("GET", "/2/users/me", FaultKind::Delay, 0, 1_500),
            me.clone(),
            "Timeout",
            502,
        ),
        (
            "monthly usage cap",
            usage_capped,
            post("capped"),
            "UsageCapped",
            503,
        ),
    ];

    for (case, arrange, mut request, expected, status) in cases {
        arrange(&x);
        if request.get("token").is_none() {
            request["token"] = json!(token);
        }
        request["retry"] = json!(false);
        request["guards"] = json!(false);
        request["timeout_ms"] = json!(500);

        // Act
        let answer = x.call(request).await;

        // Assert
        assert_eq!(kind(&answer), expected, "{case}: {answer}");
        assert_eq!(answer["status"], status, "{case}: {answer}");
    }
}

#[tokio::test]
async fn rate_limit_headers_become_budgets_in_key_value() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();

    // Act
    for _ in 0..3 {
        let me = x
            .call(json!({ "op": "me", "token": token, "account": "acct-1" }))
            .await;
        assert!(me["ok"].is_object(), "{me}");
    }
    let budget = x.budget("acct-1", "me", None).await;
    let other = x.budget("acct-2", "me", None).await;

    // Assert
    assert_eq!(budget["budget"]["main"]["limit"], 75, "{budget}");
    assert_eq!(budget["budget"]["main"]["remaining"], 72, "{budget}");
    assert_eq!(budget["may_call"], true, "{budget}");
    assert!(
        other["budget"].is_null(),
        "budgets are per account: {other}"
    );
}

#[tokio::test]
async fn posting_past_the_free_limit_is_deferred_by_the_budget_and_rate_limited_by_x_once() {
    // Arrange
    let x = XTest::start(Profile::Free).await;
    let token = x.token();
    let post = |n: u32, guards: bool| {
        json!({ "op": "create_post", "token": token, "account": "free", "guards": guards,
                "args": { "text": format!("free post {n}") } })
    };
    for n in 1..=17 {
        let created = x.call(post(n, true)).await;
        assert!(created["ok"]["id"].is_string(), "post {n}: {created}");
    }

    // Act
    let budget = x.budget("free", "create_post", None).await;
    let deferred = x.call(post(18, true)).await;
    let sent_after_deferral = x.requests("POST", "/2/tweets");
    let limited = x.call(post(18, false)).await;
    let sent_after_429 = x.requests("POST", "/2/tweets");
    let reset_ms = limited["reset_at"].as_i64().unwrap_or_default() * 1000;
    let after_reset = x
        .budget("free", "create_post", Some(reset_ms + 1_000))
        .await;

    // Assert
    assert_eq!(budget["budget"]["main"]["remaining"], 0, "{budget}");
    assert_eq!(
        budget["may_call"]["until_ms"].as_i64(),
        Some(reset_ms),
        "{budget} vs {limited}"
    );
    assert_eq!(kind(&deferred), "Deferred", "{deferred}");
    assert_eq!(deferred["status"], 429, "{deferred}");
    assert_eq!(sent_after_deferral, 17, "a deferred call never reaches X");
    assert_eq!(kind(&limited), "RateLimited", "{limited}");
    assert_eq!(limited["window"], "Hours24", "{limited}");
    assert_eq!(sent_after_429, 18, "the 429 was not retried");
    assert!(
        reset_ms > now_ms() + 23 * 3_600_000,
        "reset a day ahead: {limited}"
    );
    assert_eq!(after_reset["may_call"], true, "{after_reset}");
    assert_eq!(x.st().posts_of(Some(ME)).len(), 17);
}

#[tokio::test]
async fn a_429_is_never_retried_while_a_5xx_on_a_read_is() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let cases = [
        (429, "RateLimited", 1, "a 429 is answered at once"),
        (503, "<ok>", 2, "one retry after a 503 succeeds"),
    ];

    for (status, expected, requests, case) in cases {
        x.st().inner.lock().requests.clear();
        x.fault("GET", "/2/users/me", FaultKind::Status, status, 0);

        // Act
        let answer = x
            .call(json!({ "op": "me", "token": token, "guards": false }))
            .await;

        // Assert
        assert_eq!(kind(&answer), expected, "{case}: {answer}");
        assert_eq!(x.requests("GET", "/2/users/me"), requests, "{case}");
    }
}

#[tokio::test]
async fn a_create_whose_response_is_lost_is_an_unknown_outcome_and_never_a_second_post() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let cases = [
        (
            FaultKind::LoseResponse,
            200,
            "UnknownOutcome",
            1,
            "response lost",
        ),
        (FaultKind::Status, 503, "Server", 0, "a 503 on create"),
    ];

    for (fault, status, expected, posts, case) in cases {
        x.st().inner.lock().requests.clear();
        x.fault("POST", "/2/tweets", fault, status, 0);
        let text = format!("exactly once: {case}");

        // Act
        let answer = x
            .call(json!({ "op": "create_post", "token": token, "args": { "text": text } }))
            .await;

        // Assert
        assert_eq!(kind(&answer), expected, "{case}: {answer}");
        assert_eq!(x.requests("POST", "/2/tweets"), 1, "{case}: sent once");
        let log = x
            .app
            .client
            .get(format!("{}/__admin/posts?user_id={ME}", x.sim.base_url()))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let matching = log["posts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["text"] == text)
            .count();
        assert_eq!(matching, posts, "{case}: {log}");
    }
}

#[tokio::test]
async fn the_circuit_breaker_opens_after_five_outages_and_a_successful_probe_closes_it() {
    // Arrange
    let x = Arc::new(XTest::start(Profile::Standard).await);
    let token = x.token();
    let t0 = now_ms();
    let me = |at: i64| {
        json!({ "op": "me", "token": token, "account": "acct-b", "retry": false, "now_ms": at,
                "timeout_ms": 10_000 })
    };
    for i in 0..5 {
        x.fault("GET", "/2/users/me", FaultKind::Status, 503, 0);
        let failed = x.call(me(t0 + i * 1_000)).await;
        assert_eq!(kind(&failed), "Server", "outage {i}: {failed}");
        let state = x.breaker("acct-b").await;
        let expected = if i < 4 { "closed" } else { "open" };
        assert_eq!(
            state["account"]["state"],
            expected,
            "after {} outages",
            i + 1
        );
    }
    let sent = x.requests("GET", "/2/users/me");

    // Act
    let refused = x.call(me(t0 + 10_000)).await;
    let sent_while_open = x.requests("GET", "/2/users/me");
    // After the 30 s cool-down one probe goes through; the sim holds it for a moment so that
    // the half-open state can be seen and a concurrent caller is refused.
    x.fault("GET", "/2/users/me", FaultKind::Delay, 0, 3_000);
    let probe = {
        let (x, body) = (x.clone(), me(t0 + 40_000));
        tokio::spawn(async move { x.call(body).await })
    };
    let mut half_open = x.breaker("acct-b").await;
    for _ in 0..40 {
        if half_open["account"]["state"] == "half_open" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        half_open = x.breaker("acct-b").await;
    }
    let concurrent = x.call(me(t0 + 40_500)).await;
    let probe = probe.await.unwrap();
    let closed = x.breaker("acct-b").await;
    let after = x.call(me(t0 + 41_000)).await;

    // Assert
    assert_eq!(sent, 5);
    assert_eq!(kind(&refused), "CircuitOpen", "{refused}");
    assert_eq!(refused["status"], 503, "{refused}");
    assert_eq!(
        refused["until_ms"].as_i64(),
        Some(t0 + 4_000 + 30_000),
        "{refused}"
    );
    assert_eq!(
        sent_while_open, 5,
        "an open circuit keeps calls away from X"
    );
    assert_eq!(half_open["account"]["state"], "half_open", "{half_open}");
    assert_eq!(half_open["global"]["state"], "half_open", "{half_open}");
    assert_eq!(kind(&concurrent), "CircuitOpen", "{concurrent}");
    assert_eq!(probe["ok"]["id"], ME.to_string(), "{probe}");
    assert_eq!(closed["account"]["state"], "closed", "{closed}");
    assert_eq!(closed["global"]["state"], "closed", "{closed}");
    assert_eq!(after["ok"]["id"], ME.to_string(), "{after}");
    assert_eq!(x.requests("GET", "/2/users/me"), 7);
}

#[tokio::test]
async fn calls_to_a_host_outside_allowed_outbound_hosts_fail_without_reaching_it() {
    // Arrange: the base URL is the simulator, but only another port is allowed.
    let sim = Sim::start(SimConfig::ephemeral()).await.unwrap();
    let app = Setup::probe()
        .var("x_api_base_url", &sim.base_url())
        .var("x_host", "127.0.0.1:1")
        .spawn()
        .await;
    let token = sim
        .state()
        .issue_user_token(ME, None, None)
        .unwrap()
        .access_token;
    let cases = [
        (json!({ "op": "me" }), "a read"),
        (
            json!({ "op": "create_post", "args": { "text": "never sent" } }),
            "a create: not sent, so not an unknown outcome",
        ),
    ];

    for (mut request, case) in cases {
        request["token"] = json!(token);

        // Act
        let resp = app.post_json("/probe/x/call", &request).await;

        // Assert
        let answer = resp.json()["data"].clone();
        assert_eq!(kind(&answer), "Network", "{case}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains("HttpRequestDenied")),
            "{case}: {answer}"
        );
    }
    let sent: u64 = sim.state().inner.lock().requests.values().sum();
    assert_eq!(sent, 0, "nothing reached the simulator");
}

/// A complete 1x1 PNG (signature, IHDR, IDAT, IEND).
pub const PNG_1X1: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A small fake MP4: a valid `ftyp` box followed by an `mdat` box of filler.
pub fn fake_mp4(len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypmp42");
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(b"mp42isom");
    let mdat = (len - v.len()) as u32;
    v.extend_from_slice(&mdat.to_be_bytes());
    v.extend_from_slice(b"mdat");
    v.resize(len, 0xAB);
    v
}

impl XTest {
    async fn post_id(&self, token: &str, text: &str) -> String {
        let created = self
            .call(json!({ "op": "create_post", "token": token, "args": { "text": text } }))
            .await;
        created["ok"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("create {text:?}: {created}"))
            .to_string()
    }

    async fn upload_png(&self, token: &str) -> Value {
        self.call(json!({ "op": "upload_media", "token": token,
                          "args": { "bytes": PNG_1X1.to_vec(), "category": "tweet_image" } }))
            .await
    }
}

#[tokio::test]
async fn an_uploaded_image_can_be_posted_but_five_media_ids_are_refused_by_x() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();

    // Act
    let image = x.upload_png(&token).await;
    let media_id = image["ok"]["id"].as_str().unwrap_or_default().to_string();
    let posted = x
        .call(json!({ "op": "create_post", "token": token,
                      "args": { "text": "a picture", "media_ids": [media_id] } }))
        .await;
    let mut five = Vec::new();
    for _ in 0..5 {
        five.push(x.upload_png(&token).await["ok"]["id"].clone());
    }
    let too_many = x
        .call(json!({ "op": "create_post", "token": token, "retry": false,
                      "args": { "text": "five pictures", "media_ids": five } }))
        .await;

    // Assert
    assert!(!media_id.is_empty(), "{image}");
    assert!(image["ok"]["processing_info"].is_null(), "{image}");
    assert!(posted["ok"]["id"].is_string(), "{posted}");
    let log = x.st().posts_of(Some(ME));
    assert_eq!(log.len(), 1, "only the one-image post exists: {log:?}");
    assert_eq!(log[0]["media_ids"], json!([media_id]), "{log:?}");
    assert!(five.iter().all(Value::is_string), "{five:?}");
    assert_eq!(kind(&too_many), "InvalidRequest", "{too_many}");
    assert_eq!(too_many["status"], 422, "{too_many}");
}

#[tokio::test]
async fn a_chunked_video_upload_is_finalized_waited_for_and_then_posted() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let video = fake_mp4(4_096);

    // Act
    let upload = x
        .call(json!({ "op": "upload_media_chunked", "token": token,
                      "args": { "bytes": video, "media_type": "video/mp4",
                                "category": "tweet_video", "max_wait_ms": 15_000 } }))
        .await;
    let media_id = upload["ok"]["ready"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let posted = x
        .call(json!({ "op": "create_post", "token": token,
                      "args": { "text": "a video", "media_ids": [media_id] } }))
        .await;

    // Assert
    assert!(
        matches!(
            upload["ok"]["uploaded"]["processing_info"]["state"].as_str(),
            Some("pending" | "in_progress")
        ),
        "a fresh video is still processing: {upload}"
    );
    assert_eq!(
        upload["ok"]["ready"]["processing_info"]["state"], "succeeded",
        "{upload}"
    );
    assert_eq!(x.requests("POST", "/2/media/upload/initialize"), 1);
    assert_eq!(
        x.requests("POST", &format!("/2/media/upload/{media_id}/append")),
        1
    );
    assert_eq!(
        x.requests("POST", &format!("/2/media/upload/{media_id}/finalize")),
        1
    );
    assert!(
        x.requests("GET", "/2/media/upload") >= 1,
        "STATUS was polled"
    );
    assert!(posted["ok"]["id"].is_string(), "{posted}");
    assert_eq!(x.st().posts_of(Some(ME))[0]["media_ids"], json!([media_id]));
}

#[tokio::test]
async fn a_lookup_returns_live_posts_with_metrics_and_a_partial_not_found_for_a_deleted_one() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let bob = x.st().create_user("bob", None, None).unwrap();
    let bob_token = x
        .st()
        .issue_user_token(bob.id, None, None)
        .unwrap()
        .access_token;
    let live = x.post_id(&token, "still here").await;
    let gone = x.post_id(&token, "about to go").await;
    let deleted = x
        .call(json!({ "op": "delete_post", "token": token, "args": { "id": gone } }))
        .await;
    assert_eq!(deleted["ok"], true, "{deleted}");
    let lookup = |token: &str, metrics: &str| json!({ "op": "lookup", "token": token, "args": { "ids": [live, gone], "metrics": metrics } });

    // Act
    let public = x.call(lookup(&token, "public")).await;
    let own = x.call(lookup(&token, "all")).await;
    let others = x.call(lookup(&bob_token, "all")).await;

    // Assert
    let posts = public["ok"]["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "{public}");
    assert_eq!(posts[0]["id"], live.as_str());
    assert_eq!(posts[0]["author_id"], ME.to_string());
    assert!(
        posts[0]["public_metrics"]["impression_count"].is_u64(),
        "{public}"
    );
    assert!(posts[0]["non_public_metrics"].is_null(), "{public}");
    let errors = public["ok"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{public}");
    assert_eq!(errors[0]["resource_id"], gone.as_str(), "{public}");
    assert!(
        errors[0]["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/resource-not-found")),
        "{public}"
    );

    let own_post = &own["ok"]["posts"][0];
    assert!(
        own_post["non_public_metrics"]["impression_count"].is_u64(),
        "the author sees non-public metrics: {own}"
    );
    assert!(own_post["organic_metrics"].is_object(), "{own}");
    assert_eq!(own["ok"]["errors"].as_array().unwrap().len(), 1, "{own}");

    let others_post = &others["ok"]["posts"][0];
    assert!(others_post["public_metrics"].is_object(), "{others}");
    assert!(others_post["non_public_metrics"].is_null(), "{others}");
    let field_errors: Vec<&Value> = others["ok"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "non_public_metrics")
        .collect();
    assert_eq!(field_errors.len(), 1, "{others}");
    assert!(
        field_errors[0]["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/not-authorized-for-field")),
        "{others}"
    );
}

#[tokio::test]
async fn user_posts_since_an_instant_returns_only_the_newer_posts_newest_first() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let old = x.post_id(&token, "before the cut").await;
    x.st().clock.advance_secs(120);
    let since_ms = x.st().clock.now_ms();
    let first = x.post_id(&token, "after the cut, first").await;
    x.st().clock.advance_secs(1);
    let second = x.post_id(&token, "after the cut, second").await;

    // Act
    let page = x
        .call(json!({ "op": "user_posts", "token": token,
                      "args": { "user_id": ME.to_string(), "since_ms": since_ms } }))
        .await;

    // Assert
    let ids: Vec<&str> = page["ok"]["posts"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "{page}");
    assert!(!ids.contains(&old.as_str()));
    assert!(page["ok"]["next_token"].is_null(), "{page}");
    assert!(page["ok"]["posts"][0]["created_at"].is_string(), "{page}");
}

#[tokio::test]
async fn likes_and_reposts_answer_their_flags_and_liking_a_missing_post_is_not_found() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let bob = x.st().create_user("bob", None, None).unwrap();
    let bob_token = x
        .st()
        .issue_user_token(bob.id, None, None)
        .unwrap()
        .access_token;
    let post = x.post_id(&bob_token, "like me").await;
    let pid: u64 = post.parse().unwrap();
    let act = |op: &str, post_id: &str| {
        json!({ "op": op, "token": token, "retry": false,
                "args": { "user_id": ME.to_string(), "post_id": post_id } })
    };

    // Act
    let liked = x.call(act("like", &post)).await;
    let like_recorded = x.st().inner.lock().likes.contains(&(ME, pid));
    let unliked = x.call(act("unlike", &post)).await;
    let reposted = x.call(act("repost", &post)).await;
    let repost_recorded = x.st().inner.lock().retweets.contains(&(ME, pid));
    let unreposted = x.call(act("unrepost", &post)).await;
    let missing = x.call(act("like", "1234567890123456789")).await;

    // Assert
    assert_eq!(liked["ok"], true, "{liked}");
    assert!(like_recorded);
    assert_eq!(unliked["ok"], false, "{unliked}");
    assert_eq!(reposted["ok"], true, "{reposted}");
    assert!(repost_recorded);
    assert_eq!(unreposted["ok"], false, "{unreposted}");
    let inner = x.st().inner.lock();
    assert!(!inner.likes.contains(&(ME, pid)) && !inner.retweets.contains(&(ME, pid)));
    drop(inner);
    assert_eq!(kind(&missing), "NotFound", "{missing}");
    assert_eq!(missing["status"], 404, "{missing}");
}

#[tokio::test]
async fn the_app_only_bearer_reads_posts_but_may_not_create_one() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let post = x.post_id(&x.token(), "readable by the app").await;

    // Act
    let lookup = x
        .call(
            json!({ "op": "lookup", "app_token": xsim::DEFAULT_APP_BEARER,
                      "args": { "ids": [post] } }),
        )
        .await;
    let create = x
        .call(
            json!({ "op": "create_post", "app_token": xsim::DEFAULT_APP_BEARER,
                      "retry": false, "args": { "text": "as the app" } }),
        )
        .await;

    // Assert
    assert_eq!(lookup["ok"]["posts"][0]["id"], post.as_str(), "{lookup}");
    assert_eq!(kind(&create), "Forbidden", "{create}");
    assert!(
        create["error"]
            .as_str()
            .is_some_and(|e| e.contains("Application-Only")),
        "the reason names the unsupported authentication: {create}"
    );
    assert_eq!(x.st().posts_of(Some(ME)).len(), 1);
}

#[tokio::test]
async fn concurrent_responses_leave_the_lowest_observed_remaining_in_the_budget() {
    // Arrange
    let x = Arc::new(XTest::start(Profile::Standard).await);
    let token = x.token();
    let calls = 8;
    // The simulator holds every call for a moment, so that the answers arrive together and
    // their budgets are recorded concurrently.
    x.st().add_fault(Fault {
        method: Some("GET".into()),
        path: "/2/users/me".into(),
        count: calls as u32,
        status: 0,
        delay_ms: 300,
        kind: FaultKind::Delay,
        skip: 0,
    });

    // Act
    let handles: Vec<_> = (0..calls)
        .map(|_| {
            let (x, body) = (
                x.clone(),
                json!({ "op": "me", "token": token, "account": "acct-c" }),
            );
            tokio::spawn(async move { x.call(body).await })
        })
        .collect();
    for h in handles {
        let me = h.await.unwrap();
        assert!(me["ok"].is_object(), "{me}");
    }
    let budget = x.budget("acct-c", "me", None).await;

    // Assert
    assert_eq!(x.requests("GET", "/2/users/me"), calls);
    assert_eq!(
        budget["budget"]["main"]["remaining"],
        75 - calls,
        "{budget}"
    );
}
