//! PostgreSQL stopped mid-run and while a post is at X.

use super::servers::PrivatePg;
use super::{each_route, summary};
use crate::helpers::{assert_error_envelope, now_ms, Setup, TestApp};
use crate::scheduler::SchedTest;
use serde_json::json;
use std::time::{Duration, Instant};
use xsim::{FaultKind, Profile};

#[tokio::test]
async fn postgres_stopped_mid_run_gives_503_envelopes_and_the_api_recovers_by_itself() {
    // Arrange
    let pg = PrivatePg::start_new().await;
    let app = Setup::app()
        .var("database_url", &pg.url())
        .var("database_host", &pg.host())
        .spawn()
        .await;
    let user = app.register("outage@example.com", "Outage").await;
    let token = user["accessToken"].as_str().unwrap().to_string();
    assert_eq!(app.auth_get("/api/auth/profile", &token).await.status, 200);

    // Act: the server is stopped (every session ended), requests come in, it is started again.
    pg.stop();
    let during = each_route(&app, &token).await;
    pg.start();
    let restarted = Instant::now();
    let mut first_ok = None;
    while restarted.elapsed() < Duration::from_secs(30) {
        if app.auth_get("/api/auth/profile", &token).await.status == 200 {
            first_ok = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = each_route(&app, &token).await;

    // Assert: during the outage, 503 envelopes wherever the database is needed, never a 500.
    for (what, r) in &during {
        match *what {
            "version" => assert_eq!(r.status, 200, "{what} needs no database"),
            "health" => {
                assert_eq!(r.status, 503, "{what}: {}", r.text);
                assert_eq!(
                    r.json()["data"]["checks"]["postgres"]["status"],
                    "failed",
                    "{}",
                    r.text
                );
            }
            _ => {
                assert_eq!(r.status, 503, "{what}:\n{}", summary(&during));
                assert_error_envelope(r, 503, "SERVICE_UNAVAILABLE");
                assert!(
                    !r.text.to_lowercase().contains("postgres"),
                    "no internal text: {}",
                    r.text
                );
            }
        }
    }
    assert!(
        first_ok.is_some(),
        "the API came back by itself after the restart"
    );
    for (what, r) in &after {
        assert!(
            r.status < 500,
            "{what} after recovery:\n{}",
            summary(&after)
        );
    }
}

#[tokio::test]
async fn postgres_stopped_while_a_post_is_at_x_loses_and_doubles_nothing() {
    // Arrange: five posts due now, three due in the middle of the outage; X takes a while to
    // answer the first create, and the database goes down while X holds it.
    let pg = PrivatePg::start_new().await;
    let setup = Setup::probe()
        .var("database_url", &pg.url())
        .var("database_host", &pg.host());
    let t = SchedTest::start_with(Profile::Unlimited, 1, setup).await;
    let account = t.accounts[0].1.clone();
    let t0 = now_ms();
    for i in 0..5 {
        t.post(
            &account,
            &[&format!("before the outage {i} https://example.com/{i}")],
            -1_000,
        )
        .await;
    }
    for i in 0..3 {
        t.post(
            &account,
            &[&format!("due during the outage {i} 🚀")],
            20_000,
        )
        .await;
    }
    t.fault(FaultKind::Delay, 200, 1_500, 1, 0);

    // Act
    let tick = tick_in_the_background(&t.app, t0);
    while t.sim.state().request_count("POST", "/2/tweets") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.stop();
    let interrupted = tick.await.unwrap().unwrap();
    let mut during = Vec::new();
    for i in 0..3 {
        let r = t
            .app
            .post_json(
                "/probe/scheduler/tick",
                &json!({ "now_ms": t0 + 25_000 + i * 1_000 }),
            )
            .await;
        during.push((r.status, r.text));
    }
    pg.start();
    // Later ticks, after the lease of the interrupted one ran out, until everything is out.
    let later = ticks_until_published(&t, 8, t0 + 120_000).await;

    // Assert
    assert_ne!(interrupted, 500, "the interrupted tick is no 500");
    for (status, text) in &during {
        assert_eq!(*status, 503, "{text}");
    }
    assert_eq!(
        t.statuses().await,
        [("published".to_string(), 8)],
        "{later:?}"
    );
    t.assert_exactly_once(8).await;
    let db = t.app.db.client().await;
    let reconciled: i64 = db
        .query_one(
            "SELECT count(*) FROM post_events WHERE kind = 'published' AND details->>'how' = 'reconciled'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reconciled, 1, "the post X had was found, not sent again");
}

/// The probe's tick at `now_ms`, sent without waiting for it; answers its status.
fn tick_in_the_background(
    app: &TestApp,
    now_ms: i64,
) -> tokio::task::JoinHandle<reqwest::Result<u16>> {
    let (addr, client) = (app.address.clone(), app.client.clone());
    tokio::spawn(async move {
        client
            .post(format!("{addr}/probe/scheduler/tick"))
            .json(&json!({ "now_ms": now_ms }))
            .send()
            .await
            .map(|r| r.status().as_u16())
    })
}

/// Ticks a minute apart from `from_ms` (at most 40) until `posts` posts are published; answers
/// each tick's status.
async fn ticks_until_published(t: &SchedTest, posts: i64, from_ms: i64) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..40 {
        let r = t
            .app
            .post_json(
                "/probe/scheduler/tick",
                &json!({ "now_ms": from_ms + i * 60_000 }),
            )
            .await;
        statuses.push(r.status);
        if r.status == 200 && t.statuses().await == [("published".to_string(), posts)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    statuses
}
