//! Rate-limit budgets in the key-value store: learned from X's headers, spent before X
//! refuses, and never raised by a late response.

use super::{kind, XTest, ME};
use crate::helpers::now_ms;
use serde_json::json;
use std::sync::Arc;
use xsim::{Fault, FaultKind, Profile};

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
