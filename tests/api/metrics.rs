//! GET /api/metrics: the bearer `metrics_token`, and values that follow known posts and ticks
//! (the scheduler's tick run through the probe against xsim, as in the scheduler tests).

use crate::helpers::{
    assert_error_envelope, insert_workspace, now_ms, seed_account, Setup, TestApp,
};
use serde_json::json;
use std::collections::HashMap;
use xsim::{Fault, FaultKind, Profile};

const TOKEN: &str = "metrics-token-0123456789abcdef";

async fn scrape(app: &TestApp, auth: Option<&str>) -> crate::helpers::Resp {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    app.request(reqwest::Method::GET, "/api/metrics", &headers, None)
        .await
}

/// `name{labels}` → value, for every sample line; `# HELP`/`# TYPE` lines are checked to come
/// before their samples.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut typed = std::collections::HashSet::new();
    let mut out = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap();
            let kind = it.next().unwrap();
            assert!(["gauge", "counter"].contains(&kind), "{line}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample is `series value`");
        let family = series.split('{').next().unwrap();
        assert!(typed.contains(family), "{family} sampled before its TYPE");
        out.insert(series.to_string(), value.parse().expect("a number"));
    }
    out
}

fn value(m: &HashMap<String, f64>, series: &str) -> f64 {
    *m.get(series)
        .unwrap_or_else(|| panic!("{series} missing from {m:?}"))
}

#[tokio::test]
async fn metrics_need_the_metrics_token_and_an_unset_token_refuses_everyone() {
    // Arrange
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let guarded = Setup::app().var("metrics_token", TOKEN).spawn().await;
    let unset = Setup::app().spawn().await;

    // Act
    let none = scrape(&guarded, None).await;
    let wrong = scrape(&guarded, Some("Bearer metrics-token-0123456789abcdeF")).await;
    let not_bearer = scrape(&guarded, Some(TOKEN)).await;
    let empty = scrape(&unset, Some("Bearer ")).await;
    let right = scrape(&guarded, Some(&format!("Bearer {TOKEN}"))).await;

    // Assert
    for (resp, case) in [
        (&none, "no token"),
        (&wrong, "wrong token"),
        (&not_bearer, "not a bearer"),
        (&empty, "unset token"),
    ] {
        let err = assert_error_envelope(resp, 401, "AUTHENTICATION_ERROR");
        assert_eq!(err["code"], "AUTH_006", "{case}");
        assert!(!resp.text.contains("xmp_posts"), "{case}: no metrics leak");
    }
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(
        right.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let m = parse(&right.text);
    assert_eq!(value(&m, "xmp_posts{status=\"scheduled\"}"), 0.0);
    // No tick yet (0), or the app's own cron trigger ticked during the test (every 10 s).
    let last = value(&m, "xmp_scheduler_last_success_timestamp_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        last == 0.0 || (started - 1.0..=now + 1.0).contains(&last),
        "last success {last}, test ran {started}..{now}"
    );
}

#[tokio::test]
async fn metrics_follow_known_posts_failures_deferrals_and_ticks() {
    // Arrange: one account; two posts due 3 s ago that publish, one X refuses (403), one X
    // answers 429 for (deferred), one in the future; then a tick at a known instant.
    let (sim, app) = Setup::probe()
        .var("metrics_token", TOKEN)
        .with_sim(Profile::Unlimited)
        .await;
    let db = app.db.client().await;
    let ws = insert_workspace(&app, "metrics").await;
    let account = seed_account(
        &app,
        &sim,
        &ws,
        xsim::DEFAULT_USER_ID,
        now_ms() + 2 * 3_600_000,
    )
    .await;
    let start = now_ms();
    let post = |text: &'static str, due_ms: i64| insert_due_post(&db, &ws, &account, text, due_ms);
    // Claimed oldest first: the refusal and the 429 meet the first two calls to X.
    post("refused by X", start - 5_000).await;
    post("rate limited by X", start - 4_000).await;
    post("published one", start - 3_000).await;
    post("published two", start - 3_000).await;
    post("later", start + 3_600_000).await;
    for status in [403, 429] {
        sim.state().add_fault(Fault {
            method: Some("POST".into()),
            path: "/2/tweets".into(),
            count: 1,
            status,
            delay_ms: 0,
            kind: FaultKind::Status,
            skip: 0,
        });
    }

    // Act
    let tick = app
        .post_json("/probe/scheduler/tick", &json!({ "now_ms": start }))
        .await;
    post("waiting since ten minutes", now_ms() - 600_000).await;
    let resp = scrape(&app, Some(&format!("Bearer {TOKEN}"))).await;

    // Assert
    assert_eq!(tick.status, 200, "{}", tick.text);
    let tick_body = tick.json();
    let report = &tick_body["data"];
    assert_eq!(
        (&report["published"], &report["failed"], &report["deferred"]),
        (&json!(2), &json!(1), &json!(1)),
        "{report}"
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    metrics_after_the_tick_started_at(&parse(&resp.text), start);
}

/// A scheduled post due at `due_ms` (Unix ms).
async fn insert_due_post(
    db: &tokio_postgres::Client,
    ws: &str,
    account: &str,
    text: &str,
    due_ms: i64,
) {
    let id = uuid::Uuid::new_v4().to_string();
    db.execute(
        "INSERT INTO posts (id, workspace_id, account_id, content, thread_id,
           thread_position, status, scheduled_at, normalized_text_hash)
         VALUES ($1::text::uuid, $2::text::uuid, $3::text::uuid, $4, $1::text::uuid, 0,
           'scheduled', timestamptz 'epoch' + $5::int8 * interval '1 millisecond',
           repeat('a', 64))",
        &[&id, &ws, &account, &text, &due_ms],
    )
    .await
    .unwrap();
}

/// The series after the tick of `metrics_follow_known_posts_failures_deferrals_and_ticks`,
/// which started at `start`.
fn metrics_after_the_tick_started_at(m: &HashMap<String, f64>, start: i64) {
    let cases = [
        ("xmp_posts{status=\"published\"}", 2.0),
        ("xmp_posts{status=\"failed\"}", 1.0),
        ("xmp_posts{status=\"scheduled\"}", 3.0),
        ("xmp_posts{status=\"draft\"}", 0.0),
        ("xmp_posts_due", 1.0),
        ("xmp_posts_published_last_hour", 2.0),
        ("xmp_publish_attempts_total", 4.0),
        ("xmp_publish_failures_total{x_error=\"forbidden\"}", 1.0),
        ("xmp_publish_deferrals_total{cause=\"rate_limited\"}", 1.0),
        ("xmp_accounts{status=\"active\"}", 1.0),
        ("xmp_accounts{status=\"needs_reauth\"}", 0.0),
        ("xmp_scheduler_ticks_last_hour{outcome=\"ok\"}", 1.0),
        ("xmp_scheduler_ticks_last_hour{outcome=\"error\"}", 0.0),
    ];
    for (series, expected) in cases {
        assert_eq!(value(m, series), expected, "{series}");
    }
    let oldest = value(m, "xmp_posts_oldest_due_age_seconds");
    assert!((600.0..700.0).contains(&oldest), "oldest due age {oldest}");
    // The tick's clock starts at `start` and runs on: both posts were published 3 s after
    // their time plus the moments the tick took to reach them.
    let p50 = value(m, "xmp_publish_lag_seconds{quantile=\"0.5\"}");
    let p99 = value(m, "xmp_publish_lag_seconds{quantile=\"0.99\"}");
    assert!(
        (3.0..10.0).contains(&p50) && (p50..10.0).contains(&p99),
        "{p50} {p99}"
    );
    let last_ok = value(m, "xmp_scheduler_last_success_timestamp_seconds");
    assert!(last_ok >= start as f64 / 1000.0, "{last_ok} {start}");
    assert!(value(m, "xmp_scheduler_tick_duration_seconds{quantile=\"1\"}") >= 0.0);
}

#[tokio::test]
async fn a_failed_tick_counts_as_an_error_and_not_as_a_success() {
    // Arrange: the row a tick that failed writes (outcome error, its error code).
    let app = Setup::probe().var("metrics_token", TOKEN).spawn().await;
    let db = app.db.client().await;
    db.execute(
        "INSERT INTO job_runs (job, owner, started_at, finished_at, outcome, error_code)
         VALUES ('scheduler_tick', 'tick-x', now() - interval '20 seconds',
                 now() - interval '19 seconds', 'error', 'DB_001')",
        &[],
    )
    .await
    .unwrap();

    // Act
    let resp = scrape(&app, Some(&format!("Bearer {TOKEN}"))).await;

    // Assert
    let m = parse(&resp.text);
    assert_eq!(
        value(&m, "xmp_scheduler_ticks_last_hour{outcome=\"error\"}"),
        1.0
    );
    assert_eq!(
        value(&m, "xmp_scheduler_last_success_timestamp_seconds"),
        0.0
    );
    assert!(value(&m, "xmp_scheduler_last_run_timestamp_seconds") > 0.0);
}
