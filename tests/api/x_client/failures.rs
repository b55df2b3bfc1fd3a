//! X failing: every failure's typed error, retries, lost responses, the circuit breaker, and
//! hosts outside `allowed_outbound_hosts`.

use super::{kind, XTest, ME};
use crate::helpers::{now_ms, start_sim, Setup};
use serde_json::{json, Value};
use std::sync::Arc;
use xsim::ratelimit::{Bucket, Ep, Scope};
use xsim::{FaultKind, Profile};

/// What a case does to the simulator before its call.
type Arrange = Box<dyn Fn(&XTest)>;

/// A failure case: what it is, its arrangement, the probe call, the expected error kind and
/// the status the app answers for it.
type FailureCase = (&'static str, Arrange, Value, &'static str, u16);

fn nothing() -> Arrange {
    Box::new(|_| {})
}

fn fault(
    method: &'static str,
    path: &'static str,
    kind: FaultKind,
    status: u16,
    delay: u64,
) -> Arrange {
    Box::new(move |x: &XTest| x.fault(method, path, kind, status, delay))
}

fn post(text: &str) -> Value {
    json!({ "op": "create_post", "args": { "text": text } })
}

/// X answers, and refuses: the call's own fault.
fn refusals(bobs_post_id: &str) -> Vec<FailureCase> {
    vec![
        (
            "401: a token X does not know",
            nothing(),
            json!({ "op": "me", "token": "nope" }),
            "Unauthorized",
            409,
        ),
        (
            "403: duplicate text",
            nothing(),
            post("said once"),
            "DuplicateContent",
            409,
        ),
        (
            "403: another reason",
            nothing(),
            json!({ "op": "delete_post", "args": { "id": bobs_post_id } }),
            "Forbidden",
            422,
        ),
        (
            "404: no such post",
            nothing(),
            json!({ "op": "delete_post", "args": { "id": "1234567890123456789" } }),
            "NotFound",
            404,
        ),
        (
            "400: empty text",
            nothing(),
            post(" "),
            "InvalidRequest",
            422,
        ),
    ]
}

/// X is limited, failing, unreachable or slow.
fn outages() -> Vec<FailureCase> {
    let me = json!({ "op": "me" });
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
    vec![
        (
            "429 with reset",
            fault("GET", "/2/users/me", FaultKind::Status, 429, 0),
            me.clone(),
            "RateLimited",
            429,
        ),
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
    ]
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
    // The usage cap stays on once set: it comes last.
    let cases = refusals(&bobs_post_id).into_iter().chain(outages());

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
    let sim = start_sim(Profile::Standard).await;
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
