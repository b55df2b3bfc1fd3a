//! Analytics end to end: the scheduler's tick (through the probe, on a driven clock) collects
//! from `xsim` (frozen clock, so its metrics are exact), and the analytics component answers
//! from the same database. Expected values come from the simulator's own metric functions.

use crate::helpers::{assert_error_envelope, Kv, Resp, Setup, TestApp};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use xsim::metrics::{post_metrics, PostMetrics};
use xsim::{Fault, FaultKind, Sim, SimConfig, SimHandle};

const ME: u64 = xsim::DEFAULT_USER_ID;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Engagements by the one formula, from what the simulator serves (clicks when `private`).
fn engagements(m: &PostMetrics, private: bool) -> i64 {
    let public = m.likes + m.retweets + m.quotes + m.replies + m.bookmarks;
    let clicks = if private {
        m.url_link_clicks + m.user_profile_clicks
    } else {
        0
    };
    (public + clicks) as i64
}

struct AnalyticsTest {
    sim: SimHandle,
    /// The shipping app (auth and analytics components).
    app: TestApp,
    /// The probe fixture on the same database: the scheduler's tick on a driven clock.
    probe: TestApp,
    token: String,
    ws: String,
    account: String,
}

impl AnalyticsTest {
    /// A workspace with one account (X user `ME`, time zone `tz`); the simulator frozen at
    /// `start_ms`.
    async fn start(tz: &str, start_ms: i64, vars: &[(&str, &str)]) -> AnalyticsTest {
        let sim = Sim::start(SimConfig::ephemeral())
            .await
            .expect("start xsim");
        sim.state().clock.freeze_at_ms(start_ms);
        // The app's own cron trigger would collect on the real clock between the test's ticks.
        let mut setup = Setup::app()
            .without_cron()
            .var("x_api_base_url", &sim.base_url())
            .kv(Kv::Redis);
        for (k, v) in vars {
            setup = setup.var(k, v);
        }
        let app = setup.spawn().await;
        let mut probe_setup = Setup::probe()
            .var("database_url", &app.db.url)
            .var("x_api_base_url", &sim.base_url())
            .var("x_host", &sim.addr().to_string())
            .kv(Kv::Redis);
        for (k, v) in vars {
            probe_setup = probe_setup.var(k, v);
        }
        let probe = probe_setup.spawn().await;
        let owner = app.register("owner@example.com", "Owner").await;
        let token = owner["accessToken"].as_str().unwrap().to_string();
        let list = app.auth_get("/api/workspaces", &token).await;
        let ws = list.json()["data"]["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut t = AnalyticsTest {
            sim,
            app,
            probe,
            token,
            ws,
            account: String::new(),
        };
        t.account = t.seed_account(&t.ws.clone(), start_ms).await;
        t.sql(
            "UPDATE x_accounts SET timezone = $1 WHERE id = $2::text::uuid",
            &[&tz, &t.account],
        )
        .await;
        t
    }

    async fn seed_account(&self, ws: &str, now_ms: i64) -> String {
        let tokens = self.sim.state().issue_user_token(ME, None, None).unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let resp = self
            .probe
            .post_json(
                "/probe/accounts/seed",
                &json!({
                    "workspace_id": ws, "account_id": id, "x_user_id": ME.to_string(),
                    "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                    "expires_ms": now_ms + 2 * HOUR,
                }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        id
    }

    async fn sql(&self, statement: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) {
        self.app
            .db
            .client()
            .await
            .execute(statement, params)
            .await
            .unwrap();
    }

    async fn count(&self, statement: &str) -> i64 {
        self.app
            .db
            .client()
            .await
            .query_one(statement, &[])
            .await
            .unwrap()
            .get(0)
    }

    /// A post made on X outside the platform.
    fn seed_post(&self, text: &str, created_ms: i64) -> u64 {
        self.sim
            .state()
            .inner
            .lock()
            .seed_post(ME, text, created_ms)
    }

    fn metrics(&self, id: u64, at_ms: i64) -> PostMetrics {
        let post = self.sim.state().inner.lock().posts[&id].clone();
        post_metrics(&post, at_ms)
    }

    /// Freezes the simulator at `now_ms` and runs one tick there.
    async fn tick(&self, now_ms: i64) -> Value {
        self.tick_with(json!({ "now_ms": now_ms })).await
    }

    async fn tick_with(&self, body: Value) -> Value {
        self.sim
            .state()
            .clock
            .freeze_at_ms(body["now_ms"].as_i64().unwrap());
        let resp = self.probe.post_json("/probe/scheduler/tick", &body).await;
        assert_eq!(resp.status, 200, "tick: {}", resp.text);
        let report = resp.json()["data"].clone();
        let logs: Vec<String> = self
            .probe
            .log_lines()
            .into_iter()
            .filter(|l| l.contains("analytics"))
            .collect();
        assert!(
            report["analytics"]["error"].is_null(),
            "{report}\n{}",
            logs.join("\n")
        );
        report
    }

    async fn get_as(&self, path: &str, token: &str) -> Resp {
        self.app.auth_get(path, token).await
    }

    async fn data(&self, path: &str) -> Value {
        let resp = self.get_as(path, &self.token).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text);
        resp.json()["data"].clone()
    }

    async fn csv(&self, path: &str) -> Resp {
        let resp = self
            .app
            .authed(
                reqwest::Method::GET,
                path,
                &self.token,
                None,
                &[("accept", "text/csv")],
            )
            .await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text);
        assert!(
            resp.header("content-type")
                .is_some_and(|c| c.starts_with("text/csv")),
            "{:?}",
            resp.headers
        );
        resp
    }

    fn x_reads(&self) -> u64 {
        let inner = self.sim.state().inner.lock();
        inner
            .requests
            .iter()
            .filter(|(k, _)| k.starts_with("GET /2/tweets") || k.starts_with("GET /2/users/"))
            .map(|(_, n)| *n)
            .sum()
    }
}

fn item<'a>(items: &'a Value, key: &str, value: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i[key] == value)
        .unwrap_or_else(|| panic!("no item with {key} = {value} in {items}"))
}

#[tokio::test]
async fn known_simulator_metrics_give_exact_totals_deltas_series_and_csv_rows() {
    // Arrange: three posts made on X: two hours, three days and forty days old.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let fresh = t.seed_post("Fresh post https://example.com/a", t0 - 2 * HOUR);
    let days3 = t.seed_post("Three days old", t0 - 3 * DAY);
    let old = t.seed_post("Forty days old", t0 - 40 * DAY);

    // Act: a tick imports and captures all three; an hour later only the fresh one is due.
    let first = t.tick(t0).await;
    let t1 = t0 + HOUR;
    let second = t.tick(t1).await;

    // Assert: what each tick did.
    assert_eq!(first["analytics"]["imported"], 3, "{first}");
    assert_eq!(first["analytics"]["snapshots"], 3, "{first}");
    assert_eq!(first["analytics"]["accountSnapshots"], 1, "{first}");
    assert_eq!(second["analytics"]["snapshots"], 1, "{second}");
    let (f0, f1) = (t.metrics(fresh, t0), t.metrics(fresh, t1));
    let (d0, o0) = (t.metrics(days3, t0), t.metrics(old, t0));

    // The series of the fresh post: both captures, exactly as the simulator served them.
    let series = t
        .data(&format!("/api/analytics/tweets/{fresh}/series"))
        .await;
    let items = series["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{series}");
    for (i, m) in [(0, f0), (1, f1)] {
        assert_eq!(items[i]["impressions"], m.impressions, "{series}");
        assert_eq!(items[i]["likes"], m.likes);
        assert_eq!(items[i]["reposts"], m.retweets);
        assert_eq!(items[i]["urlClicks"], m.url_link_clicks);
        assert_eq!(items[i]["profileClicks"], m.user_profile_clicks);
        assert_eq!(items[i]["engagements"], engagements(&m, true));
    }
    assert_eq!(items[0]["ageMinutes"], 120);
    assert_eq!(items[1]["ageMinutes"], 180);

    // The forty-day-old post: X no longer serves its non-public metrics, so they are NULL.
    let old_series = t.data(&format!("/api/analytics/tweets/{old}/series")).await;
    let o = &old_series["items"][0];
    assert_eq!(o["impressions"], o0.impressions, "{old_series}");
    assert!(
        o["urlClicks"].is_null() && o["profileClicks"].is_null(),
        "{o}"
    );
    assert_eq!(o["engagements"], engagements(&o0, false));

    // Totals over everything: the sum of each post's latest counts, previous period empty.
    let range = format!("from={}&to={}", iso(t0 - 50 * DAY), iso(t1 + HOUR));
    let overview = t.data(&format!("/api/analytics/overview?{range}")).await;
    let imp = (f1.impressions + d0.impressions + o0.impressions) as i64;
    let eng = engagements(&f1, true) + engagements(&d0, true) + engagements(&o0, false);
    assert_eq!(
        overview["totals"]["impressions"]["value"], imp,
        "{overview}"
    );
    assert_eq!(
        overview["totals"]["engagements"]["value"], eng,
        "{overview}"
    );
    assert_eq!(overview["totals"]["impressions"]["previous"], 0);
    let rate = overview["engagementRate"]["value"].as_f64().unwrap();
    assert!((rate - eng as f64 / imp as f64).abs() < 1e-9, "{overview}");
    assert_eq!(overview["postsPublished"]["value"], 3);
    assert_eq!(overview["postsPublished"]["imported"], 3);
    assert!(overview["lastSyncedAt"].is_string(), "{overview}");

    // Deltas by hour: the first capture counts at the post's hour, the second at its own.
    let hours = t
        .data(&format!(
            "/api/analytics/engagement?bucket=hour&from={}&to={}",
            iso(t0 - 3 * HOUR - 10 * 60_000),
            iso(t1 + 50 * 60_000)
        ))
        .await;
    let items = &hours["items"];
    assert_eq!(items.as_array().unwrap().len(), 5, "{hours}");
    let at_publish = item(items, "start", "2026-06-10T10:00:00.000Z");
    assert_eq!(at_publish["impressions"], f0.impressions, "{hours}");
    assert_eq!(at_publish["engagements"], engagements(&f0, true));
    let at_second = item(items, "start", "2026-06-10T13:00:00.000Z");
    assert_eq!(at_second["impressions"], f1.impressions - f0.impressions);
    assert_eq!(
        at_second["engagements"],
        engagements(&f1, true) - engagements(&f0, true)
    );
    assert_eq!(
        item(items, "start", "2026-06-10T11:00:00.000Z")["impressions"],
        0
    );

    // The list, by impressions, and its CSV with a header row.
    let list = t
        .data(&format!("/api/analytics/tweets?sort=impressions&{range}"))
        .await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let mut expected = [
        (fresh, f1.impressions),
        (days3, d0.impressions),
        (old, o0.impressions),
    ];
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let expected_ids: Vec<String> = expected.iter().map(|(i, _)| i.to_string()).collect();
    assert_eq!(ids, expected_ids, "{list}");
    let csv = t
        .csv(&format!("/api/analytics/tweets?sort=impressions&{range}"))
        .await;
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{}", csv.text);
    assert!(lines[0].starts_with("id,postId,accountId,imported,text,publishedAt"));
    let fresh_row = lines
        .iter()
        .find(|l| l.starts_with(&fresh.to_string()))
        .unwrap();
    assert!(
        fresh_row.contains(&format!(",{},", f1.impressions)),
        "{fresh_row}"
    );
    let series_csv = t
        .csv(&format!("/api/analytics/tweets/{fresh}/series"))
        .await;
    assert_eq!(
        series_csv
            .text
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .count(),
        3
    );
}

#[tokio::test]
async fn re_running_a_capture_changes_nothing() {
    // Arrange: one capture stored; then its schedule is put back as if the tick had crashed
    // after storing and before moving on.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let post = t.seed_post("Captured twice?", t0 - 2 * HOUR);
    t.tick(t0).await;
    let before = t
        .data("/api/analytics/overview?from=2026-06-01&to=2026-06-11")
        .await;
    let snapshots = t.count("SELECT count(*) FROM post_snapshots").await;
    t.sql(
        "UPDATE analytics_posts ap SET next_capture_at = s.slot_at, claim_slot = NULL
         FROM post_snapshots s WHERE s.post = ap.id AND ap.x_post_id = $1",
        &[&post.to_string()],
    )
    .await;

    // Act: the same capture runs again (the simulator's numbers have moved on meanwhile).
    let again = t.tick(t0 + 5 * 60_000).await;

    // Assert
    assert_eq!(again["analytics"]["snapshots"], 0, "{again}");
    assert_eq!(
        t.count("SELECT count(*) FROM post_snapshots").await,
        snapshots
    );
    let after = t
        .data("/api/analytics/overview?from=2026-06-01&to=2026-06-11")
        .await;
    assert_eq!(before["totals"], after["totals"]);
}

#[tokio::test]
async fn a_stored_report_is_served_only_while_the_workspaces_analytics_are_unchanged() {
    // Arrange: one post captured; the reports read once, so each answer is stored.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let post = t.seed_post("Cached?", t0 - 2 * HOUR);
    t.tick(t0).await;
    let range = format!("from={}&to={}", iso(t0 - 3 * DAY), iso(t0 + 2 * HOUR));
    let reports = [
        format!("/api/analytics/overview?{range}"),
        format!("/api/analytics/tweets?{range}&sort=impressions"),
        format!("/api/analytics/engagement?{range}&bucket=hour"),
        format!("/api/analytics/audience?{range}"),
        format!("/api/analytics/best-times?{range}"),
        format!("/api/analytics/tweets/{post}/series"),
    ];
    let mut first = Vec::new();
    for path in &reports {
        first.push(t.data(path).await);
    }
    let stored = "SELECT count(*) FROM analytics_report_cache";
    assert_eq!(t.count(stored).await, reports.len() as i64);
    // Mark every stored answer, so that an answer from the cache is recognisable.
    let mark = "UPDATE analytics_report_cache SET body = '{\"fromCache\":true}'";
    t.sql(mark, &[]).await;

    // Act 1: the same requests again, nothing collected meanwhile.
    let mut again = Vec::new();
    for path in &reports {
        again.push(t.data(path).await);
    }

    // Assert 1: every one came from the cache.
    for (path, a) in reports.iter().zip(&again) {
        assert_eq!(a, &json!({ "fromCache": true }), "{path}");
    }

    // Act 2: an hour later a tick captures the post again (the simulator's counts moved on).
    let t1 = t0 + HOUR;
    let tick = t.tick(t1).await;
    assert_eq!(tick["analytics"]["snapshots"], 1, "{tick}");
    let overview = t.data(&reports[0]).await;
    let tweets = t.data(&reports[1]).await;
    let series = t.data(&reports[5]).await;

    // Assert 2: recomputed from the new data, not the marked answers.
    let m1 = t.metrics(post, t1);
    assert_eq!(
        overview["totals"]["impressions"]["value"], m1.impressions,
        "{overview}"
    );
    assert_eq!(
        tweets["items"][0]["impressions"], m1.impressions,
        "{tweets}"
    );
    assert_eq!(series["items"].as_array().unwrap().len(), 2, "{series}");
    assert_ne!(series["items"], first[5]["items"]);

    // Act 3: the answers are marked again and the account is removed.
    t.sql(mark, &[]).await;
    let removed = t
        .app
        .authed(
            reqwest::Method::DELETE,
            &format!("/api/accounts/{}", t.account),
            &t.token,
            None,
            &[],
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let overview = t.data(&reports[0]).await;

    // Assert 3: the workspace has no analytics left, and the answer says so.
    assert_eq!(overview["totals"]["impressions"]["value"], 0, "{overview}");
    assert_eq!(overview["postsPublished"]["value"], 0, "{overview}");
}

#[tokio::test]
async fn posts_published_are_counted_exactly_when_the_range_cuts_through_hours() {
    // Arrange: six posts made on X, imported by one tick; whole hours are summed from the
    // rollups' counts, the partial hours at the ends from the posts themselves.
    let t0 = ms("2026-06-10T14:00:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    for at in ["10:05", "10:20", "10:50", "11:30", "13:10", "13:40"] {
        t.seed_post(&format!("At {at}"), ms(&format!("2026-06-10T{at}:00Z")));
    }
    let report = t.tick(t0).await;
    assert_eq!(report["analytics"]["imported"], 6, "{report}");
    let tr = &t;
    let published = |from: &'static str, to: &'static str| async move {
        let o = tr
            .data(&format!(
                "/api/analytics/overview?from=2026-06-10T{from}:00Z&to=2026-06-10T{to}:00Z"
            ))
            .await;
        let n = |k: &str| o["postsPublished"][k].as_i64().unwrap();
        (n("value"), n("previous"), n("imported"))
    };

    // Act
    let across = published("10:15", "13:20").await;
    let inside_one_hour = published("10:10", "10:55").await;
    let on_the_hours = published("10:00", "14:00").await;
    let at_an_edge = published("10:20", "13:10").await;

    // Assert: (this period, the previous one of equal length, imported in this period).
    assert_eq!(
        across,
        (4, 1, 4),
        "10:20, 10:50, 11:30, 13:10; before: 10:05"
    );
    assert_eq!(inside_one_hour, (2, 1, 2), "10:20, 10:50; before: 10:05");
    assert_eq!(on_the_hours, (6, 0, 6));
    assert_eq!(at_an_edge, (3, 1, 3), "from inclusive, to exclusive");
}

#[tokio::test]
async fn another_workspace_sees_none_of_the_data() {
    // Arrange
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let post = t.seed_post("Ours", t0 - 2 * HOUR);
    t.tick(t0).await;
    let other = t.app.register("other@example.com", "Other").await;
    let other_token = other["accessToken"].as_str().unwrap();
    let range = "from=2026-06-01&to=2026-06-11";

    // Act
    let overview = t
        .get_as(&format!("/api/analytics/overview?{range}"), other_token)
        .await;
    let tweets = t
        .get_as(&format!("/api/analytics/tweets?{range}"), other_token)
        .await;
    let series = t
        .get_as(&format!("/api/analytics/tweets/{post}/series"), other_token)
        .await;
    let account = t
        .get_as(
            &format!("/api/analytics/engagement?{range}&accountId={}", t.account),
            other_token,
        )
        .await;

    // Assert
    assert_eq!(overview.status, 200, "{}", overview.text);
    assert_eq!(overview.json()["data"]["totals"]["impressions"]["value"], 0);
    assert_eq!(overview.json()["data"]["postsPublished"]["value"], 0);
    assert_eq!(tweets.json()["data"]["items"], json!([]));
    assert_error_envelope(&series, 404, "NOT_FOUND");
    assert_error_envelope(&account, 404, "NOT_FOUND");
    let ours = t.data(&format!("/api/analytics/tweets?{range}")).await;
    assert_eq!(ours["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_parameters_get_the_error_envelope_never_a_500() {
    // Arrange
    let t = AnalyticsTest::start("UTC", ms("2026-06-10T12:10:00Z"), &[]).await;
    let cases = [
        (
            "/api/analytics/overview?from=2026-06-10&to=2026-06-01",
            422,
            "from after to",
        ),
        (
            "/api/analytics/overview?from=2026-06-10T00:00:00Z&to=2026-06-10T00:00:00Z",
            422,
            "empty range",
        ),
        (
            "/api/analytics/engagement?tz=Mars/Olympus_Mons",
            422,
            "unknown zone",
        ),
        ("/api/analytics/engagement?tz=", 422, "empty zone"),
        (
            "/api/analytics/engagement?bucket=minute",
            422,
            "unknown bucket",
        ),
        (
            "/api/analytics/audience?from=2025-01-01&to=2026-06-01",
            422,
            "over 400 days",
        ),
        ("/api/analytics/tweets?from=yesterday", 422, "not a date"),
        ("/api/analytics/tweets?from=0000-01-01", 422, "year zero"),
        ("/api/analytics/tweets?sort=likes", 422, "unknown sort"),
        ("/api/analytics/tweets?cursor=%%%", 422, "garbage cursor"),
        ("/api/analytics/tweets?limit=1000", 422, "limit too large"),
        (
            "/api/analytics/best-times?accountId=nope",
            404,
            "malformed account",
        ),
        (
            "/api/analytics/overview?accountId=6f1c1a52-4c8e-4a55-9d6f-0d1f2a3b4c5d",
            404,
            "unknown account",
        ),
        ("/api/analytics/tweets/abc/series", 404, "malformed post id"),
        ("/api/analytics/tweets/123/series", 404, "unknown post"),
    ];

    for (path, status, why) in cases {
        // Act
        let resp = t.get_as(path, &t.token).await;

        // Assert
        assert_eq!(resp.status, status, "{why}: {path}: {}", resp.text);
        let kind = if status == 404 {
            "NOT_FOUND"
        } else {
            "VALIDATION_ERROR"
        };
        assert_error_envelope(&resp, status, kind);
    }
    let anonymous = t.app.get("/api/analytics/overview").await;
    assert_error_envelope(&anonymous, 401, "AUTHENTICATION_ERROR");
}

#[tokio::test]
async fn buckets_heatmap_cells_and_days_follow_the_zone_across_dst_changes() {
    // Arrange: an account in New York. In spring 02:00-03:00 does not exist on 8 March; in
    // autumn 01:00-02:00 happens twice on 1 November.
    let spring = ms("2026-03-10T12:10:00Z");
    let t = AnalyticsTest::start("America/New_York", spring, &[]).await;
    let before_gap = t.seed_post(
        "01:30 EST, before the skipped hour",
        ms("2026-03-08T06:30:00Z"),
    );
    let after_gap = t.seed_post("03:30 EDT, right after it", ms("2026-03-08T07:30:00Z"));
    t.tick(spring).await;
    let autumn = ms("2026-11-03T12:10:00Z");
    let first_0130 = t.seed_post("01:30 EDT", ms("2026-11-01T05:30:00Z"));
    let second_0130 = t.seed_post("01:30 EST", ms("2026-11-01T06:30:00Z"));
    let saturday = t.seed_post("Saturday 10:00", ms("2026-10-31T14:00:00Z"));

    // Act: the account's zone by default (accountId), or named (tz).
    let report = t.tick(autumn).await;
    let acc = format!("accountId={}", t.account);
    let short_day = t
        .data(&format!(
            "/api/analytics/engagement?bucket=hour&from=2026-03-08&to=2026-03-08&{acc}"
        ))
        .await;
    let long_day = t
        .data(&format!(
            "/api/analytics/engagement?bucket=hour&from=2026-11-01&to=2026-11-01&{acc}"
        ))
        .await;
    let days = t
        .data("/api/analytics/engagement?bucket=day&from=2026-10-31&to=2026-11-02&tz=America/New_York")
        .await;
    let grid = t
        .data(&format!(
            "/api/analytics/best-times?from=2026-10-01&to=2026-11-03&{acc}"
        ))
        .await;
    let overview = t
        .data(&format!(
            "/api/analytics/overview?from=2026-10-01&to=2026-11-03&{acc}"
        ))
        .await;

    // Assert: the spring day has 23 hourly buckets and no 02:00.
    assert_eq!(report["analytics"]["imported"], 3, "{report}");
    let short = short_day["items"].as_array().unwrap();
    assert_eq!(short.len(), 23, "{short_day}");
    assert!(short
        .iter()
        .all(|b| !b["localStart"].as_str().unwrap().contains("T02:")));
    let m = |id, at| t.metrics(id, at);
    let at_0100 = item(&short_day["items"], "localStart", "2026-03-08T01:00-05:00");
    assert_eq!(at_0100["impressions"], m(before_gap, spring).impressions);
    let at_0300 = item(&short_day["items"], "localStart", "2026-03-08T03:00-04:00");
    assert_eq!(at_0300["impressions"], m(after_gap, spring).impressions);

    // The autumn day has 25, with 01:00 twice (two offsets), each holding its own post.
    let long = long_day["items"].as_array().unwrap();
    assert_eq!(long.len(), 25, "{long_day}");
    let edt = item(&long_day["items"], "localStart", "2026-11-01T01:00-04:00");
    let est = item(&long_day["items"], "localStart", "2026-11-01T01:00-05:00");
    assert_eq!(edt["impressions"], m(first_0130, autumn).impressions);
    assert_eq!(est["impressions"], m(second_0130, autumn).impressions);
    assert_eq!(edt["start"], "2026-11-01T05:00:00.000Z");
    assert_eq!(est["start"], "2026-11-01T06:00:00.000Z");

    // Day buckets start at local midnights; 1 November is 25 hours long.
    let starts: Vec<&str> = days["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-10-31T04:00:00.000Z",
            "2026-11-01T04:00:00.000Z",
            "2026-11-02T05:00:00.000Z"
        ]
    );
    assert_eq!(
        days["items"][1]["impressions"],
        m(first_0130, autumn).impressions + m(second_0130, autumn).impressions
    );

    // The heatmap: both 01:30 posts in Sunday 01:00, the Saturday one alone; lifts against
    // the account's median rate at a day old (here: the capture two days after publication).
    let rate = |id| {
        let x = m(id, autumn);
        engagements(&x, true) as f64 / x.impressions as f64
    };
    let mut rates = [rate(first_0130), rate(second_0130), rate(saturday)];
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = rates[1];
    let sunday_lift = (rate(first_0130) / median + rate(second_0130) / median) / 2.0;
    assert_eq!(grid["postsMeasured"], 3, "{grid}");
    assert_eq!(grid["morePostsNeeded"], 7);
    assert_eq!(grid["recommendations"], json!([]));
    assert_eq!(grid["n"][6][1], 2, "Sunday 01:00: {grid}");
    assert_eq!(grid["n"][5][10], 1, "Saturday 10:00: {grid}");
    let lift = grid["lift"][6][1].as_f64().unwrap();
    assert!((lift - sunday_lift).abs() < 1e-5, "{lift} vs {sunday_lift}");
    let saturday_lift = grid["lift"][5][10].as_f64().unwrap();
    assert!((saturday_lift - rate(saturday) / median).abs() < 1e-5);

    // Nothing was collected between March and November: the overview says so.
    let gaps = overview["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{overview}");
    assert_eq!(gaps[0]["from"], "2026-10-01T04:00:00.000Z");
    assert!(gaps[0]["to"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-03T12:10:"));
}

#[tokio::test]
async fn collection_runs_after_publishing_and_never_delays_a_due_post() {
    // Arrange: 150 posts whose first capture is due, and three scheduled posts due now.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    for i in 0..150 {
        t.seed_post(&format!("Older post {i}"), t0 - DAY - i * 60_000);
    }
    let db = t.app.db.client().await;
    for i in 0..3 {
        db.execute(
            "INSERT INTO posts (id, workspace_id, account_id, content, thread_id, status,
               scheduled_at, normalized_text_hash)
             SELECT g, $1::text::uuid, $2::text::uuid, $3, g, 'scheduled',
               timestamptz 'epoch' + $4::int8 * interval '1 millisecond', repeat('a', 64)
             FROM gen_random_uuid() g",
            &[&t.ws, &t.account, &format!("Due post {i}"), &(t0 - 60_000)],
        )
        .await
        .unwrap();
    }

    // Act
    let report = t.tick(t0).await;

    // Assert: every due post published in this tick, before any capture was taken (the new
    // posts themselves are registered for their first capture at 15 minutes).
    assert_eq!(report["published"], 3, "{report}");
    assert_eq!(report["analytics"]["imported"], 150, "{report}");
    assert_eq!(report["analytics"]["snapshots"], 150, "{report}");
    let row = db
        .query_one(
            "SELECT (SELECT max(published_at) FROM posts)
                    <= (SELECT min(captured_at) FROM post_snapshots),
                    (SELECT count(*) FROM analytics_posts WHERE imported),
                    (SELECT count(*) FROM analytics_posts WHERE NOT imported AND post_id IS NOT NULL)",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "published before captured");
    assert_eq!(row.get::<_, i64>(1), 150, "made outside the platform");
    assert_eq!(
        row.get::<_, i64>(2),
        3,
        "the platform's own posts are not imported ones"
    );
    // Lookups batch 100 ids per call: 150 posts, two calls.
    assert_eq!(t.sim.state().request_count("GET", "/2/tweets"), 2);
}

#[tokio::test]
async fn a_slow_x_stops_collection_at_the_tick_deadline_but_not_publishing() {
    // Arrange: lookups take 1.5 s; the tick has 1 s.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    t.seed_post("Captured later", t0 - DAY);
    t.tick(t0 - HOUR).await;
    t.sim.state().add_fault(Fault {
        method: Some("GET".into()),
        path: "/2/tweets".into(),
        count: 10,
        status: 200,
        delay_ms: 1_500,
        kind: FaultKind::Delay,
        skip: 0,
    });
    let db = t.app.db.client().await;
    db.execute(
        "INSERT INTO posts (id, workspace_id, account_id, content, thread_id, status,
           scheduled_at, normalized_text_hash)
         SELECT g, $1::text::uuid, $2::text::uuid, 'Due now', g, 'scheduled',
           timestamptz 'epoch' + $3::int8 * interval '1 millisecond', repeat('a', 64)
         FROM gen_random_uuid() g",
        &[&t.ws, &t.account, &(t0 - 1_000)],
    )
    .await
    .unwrap();

    // Act
    let first = t
        .tick_with(json!({ "now_ms": t0, "budget_ms": 1_000 }))
        .await;
    let second = t.tick(t0 + 60_000).await;

    // Assert: the post went out first; collection (if the tick had time left for it at all)
    // stopped at the deadline; the next tick publishes nothing twice.
    assert_eq!(first["published"], 1, "{first}");
    let collected = first["analytics"]["thinning"] != 0.0;
    assert!(
        !collected || first["analytics"]["timeSpent"] == true,
        "{first}"
    );
    assert_eq!(second["published"], 0, "{second}");
    assert_eq!(
        t.count("SELECT count(*) FROM posts WHERE status = 'published'")
            .await,
        1
    );
}

#[tokio::test]
async fn reads_are_counted_and_near_the_budget_the_cadence_thins_out_without_stopping() {
    // Arrange: now (usage reports the current month), a budget of 1,000 reads a month and
    // 999 already used this month.
    let t0 = Utc::now().timestamp_millis();
    let t = AnalyticsTest::start("UTC", t0, &[("analytics_monthly_read_budget", "1000")]).await;
    let post = t.seed_post("Thinned", t0 - 2 * HOUR);
    t.sql(
        "INSERT INTO analytics_reads (workspace_id, day, calls)
         VALUES ($1::text::uuid, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 999)",
        &[&t.ws],
    )
    .await;

    // Act
    let report = t.tick(t0).await;
    let usage = t.data("/api/analytics/usage").await;

    // Assert: collection still ran, slower: the next capture of a 2-hour-old post would be
    // at 3 hours; thinned, it is later.
    assert_eq!(report["analytics"]["snapshots"], 1, "{report}");
    let thinning = report["analytics"]["thinning"].as_f64().unwrap();
    assert!(thinning > 1.0, "{report}");
    let db = t.app.db.client().await;
    let row = db
        .query_one(
            "SELECT (extract(epoch FROM next_capture_at) * 1000)::int8,
                    date_trunc('month', now() AT TIME ZONE 'UTC')::date
                      = (now() AT TIME ZONE 'UTC')::date,
                    to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')
             FROM analytics_posts WHERE x_post_id = $1",
            &[&post.to_string()],
        )
        .await
        .unwrap();
    let next: i64 = row.get(0);
    let unthinned = t0 - 2 * HOUR + 3 * HOUR;
    assert!(next > unthinned, "{} vs {}", iso(next), iso(unthinned));
    let reads = t.x_reads() as i64;
    assert_eq!(reads, 3, "the account, its timeline and one lookup");
    assert_eq!(usage["readsUsed"], 999 + reads, "{usage}");
    let first_of_month: bool = row.get(1);
    let today = reads + if first_of_month { 999 } else { 0 };
    assert_eq!(usage["workspaceReadsToday"], today, "{usage}");
    assert_eq!(usage["budget"], 1000);
    assert_eq!(usage["month"], row.get::<_, String>(2));
    assert!(
        usage["projectedMonthReads"].as_i64().unwrap() >= 999 + reads,
        "{usage}"
    );
    let csv = t.csv("/api/analytics/usage").await;
    assert!(
        csv.text.starts_with("date,reads,objects\r\n"),
        "{}",
        csv.text
    );
    assert_eq!(
        csv.text.split("\r\n").filter(|l| !l.is_empty()).count(),
        1 + usage["days"].as_array().unwrap().len()
    );
}

impl AnalyticsTest {
    /// The account's public counters as the simulator serves them now (its clock is frozen).
    async fn x_user_metrics(&self) -> Value {
        let token = self
            .sim
            .state()
            .issue_user_token(ME, None, None)
            .unwrap()
            .access_token;
        let body: Value = reqwest::Client::new()
            .get(format!(
                "{}/2/users/{ME}?user.fields=public_metrics",
                self.sim.base_url()
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["data"]["public_metrics"].clone()
    }
}

#[tokio::test]
async fn audience_and_followers_gained_follow_the_simulators_counts_day_by_day() {
    // Arrange: a tick a day for four days; each captures the account once, at what X serves.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let mut served = Vec::new();
    for day in 0..4 {
        let report = t.tick(t0 + day * DAY).await;
        assert_eq!(report["analytics"]["accountSnapshots"], 1, "{report}");
        served.push(t.x_user_metrics().await);
    }
    let followers = |d: usize| served[d]["followers_count"].as_i64().unwrap();

    // Act
    let audience = t
        .data("/api/analytics/audience?from=2026-06-10&to=2026-06-13")
        .await;
    let overview = t
        .data("/api/analytics/overview?from=2026-06-11&to=2026-06-13")
        .await;
    let csv = t
        .csv("/api/analytics/audience?from=2026-06-10&to=2026-06-13")
        .await;

    // Assert: one row per day with X's counters; the net change is against the day before
    // (unknown on the first day, which has no day before it).
    let items = audience["items"].as_array().unwrap();
    let dates: Vec<&str> = items.iter().map(|i| i["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        ["2026-06-10", "2026-06-11", "2026-06-12", "2026-06-13"],
        "{audience}"
    );
    for (d, item) in items.iter().enumerate() {
        assert_eq!(item["followers"], served[d]["followers_count"], "{item}");
        assert_eq!(item["following"], served[d]["following_count"], "{item}");
        assert_eq!(item["listed"], served[d]["listed_count"], "{item}");
        assert_eq!(item["accounts"], 1);
    }
    assert!(items[0]["netFollowers"].is_null(), "{audience}");
    for (d, item) in items.iter().enumerate().skip(1) {
        assert_eq!(item["netFollowers"], followers(d) - followers(d - 1));
    }
    // The three days 11-13 June gained from the count before them (10 June) to the last;
    // the previous three days saw one count only, so gained nothing.
    assert_eq!(
        overview["followersGained"]["value"],
        followers(3) - followers(0),
        "{overview}"
    );
    assert_eq!(overview["followersGained"]["previous"], 0, "{overview}");
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 5, "{}", csv.text);
    assert!(
        lines[0].starts_with("date,start,followers,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].starts_with(&format!(
            "2026-06-11,2026-06-11T00:00:00.000Z,{},",
            followers(1)
        )),
        "{}",
        lines[2]
    );
}

#[tokio::test]
async fn best_times_recommend_only_from_ten_measured_posts_ranked_by_median_lift() {
    // Arrange: nine posts two to five days old at known hours (UTC account); two share
    // Monday 09:00 (8 June 2026 is a Monday).
    let t0 = ms("2026-06-11T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let at = [
        "2026-06-08T09:05:00Z",
        "2026-06-08T09:40:00Z",
        "2026-06-08T14:00:00Z",
        "2026-06-07T18:30:00Z",
        "2026-06-07T07:15:00Z",
        "2026-06-06T12:00:00Z",
        "2026-06-06T21:45:00Z",
        "2026-06-09T08:00:00Z",
        "2026-06-09T11:20:00Z",
    ];
    let mut posts: Vec<(u64, i64)> = at
        .iter()
        .enumerate()
        .map(|(i, a)| (t.seed_post(&format!("Timed post {i}"), ms(a)), t0))
        .collect();

    // Act: nine measured posts are not enough.
    t.tick(t0).await;
    let nine = t
        .data("/api/analytics/best-times?from=2026-06-01&to=2026-06-12")
        .await;

    // A tenth post, two and a half days old at the next day's tick (which imports it).
    let t1 = t0 + DAY;
    let tenth = t.seed_post("Timed post 9", ms("2026-06-10T00:10:00Z"));
    posts.push((tenth, t1));
    t.tick(t1).await;
    let ten = t
        .data("/api/analytics/best-times?from=2026-06-01&to=2026-06-12")
        .await;

    // Assert: with nine, the cells but no recommendation, and how many more are needed.
    assert_eq!(nine["postsMeasured"], 9, "{nine}");
    assert_eq!(nine["morePostsNeeded"], 1);
    assert_eq!(nine["recommendations"], json!([]));
    assert_eq!(nine["n"][0][9], 2, "Monday 09:00: {nine}");

    // With ten: each post's rate at its first capture a day old or more, against the median.
    assert_eq!(ten["postsMeasured"], 10, "{ten}");
    assert_eq!(ten["morePostsNeeded"], 0);
    let rate = |&(id, captured): &(u64, i64)| {
        let m = t.metrics(id, captured);
        engagements(&m, true) as f64 / m.impressions as f64
    };
    let mut rates: Vec<f64> = posts.iter().map(rate).collect();
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = (rates[4] + rates[5]) / 2.0;
    let published = |i: usize| match at.get(i) {
        Some(a) => ms(a),
        None => ms("2026-06-10T00:10:00Z"),
    };
    // (day of week 1-7, hour) → lifts of the posts published then.
    let mut cells: std::collections::BTreeMap<(i64, i64), Vec<f64>> = Default::default();
    for (i, p) in posts.iter().enumerate() {
        let when = DateTime::<Utc>::from_timestamp_millis(published(i)).unwrap();
        use chrono::{Datelike, Timelike};
        let key = (
            i64::from(when.weekday().number_from_monday()),
            i64::from(when.hour()),
        );
        cells.entry(key).or_default().push(rate(p) / median);
    }
    let mut expected: Vec<(i64, i64, usize, f64)> = cells
        .iter()
        .map(|(&(d, h), lifts)| {
            let mut l = lifts.clone();
            l.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let mid = if l.len() % 2 == 1 {
                l[l.len() / 2]
            } else {
                (l[l.len() / 2 - 1] + l[l.len() / 2]) / 2.0
            };
            (d, h, l.len(), mid)
        })
        .collect();
    for &(d, h, n, lift) in &expected {
        let (di, hi) = ((d - 1) as usize, h as usize);
        assert_eq!(ten["n"][di][hi], n, "n at {d}/{h}: {ten}");
        let got = ten["lift"][di][hi].as_f64().unwrap();
        assert!(
            (got - lift).abs() < 1e-5,
            "lift at {d}/{h}: {got} vs {lift}"
        );
    }
    // Recommended: cells with more than one post first, then by median lift; three of them.
    expected.sort_by(|a, b| {
        (b.2 > 1)
            .cmp(&(a.2 > 1))
            .then(b.3.partial_cmp(&a.3).unwrap())
    });
    let recommended: Vec<(i64, i64, i64)> = ten["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["dayOfWeek"].as_i64().unwrap(),
                r["hour"].as_i64().unwrap(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(i64, i64, i64)> = expected
        .iter()
        .take(3)
        .map(|&(d, h, n, _)| (d, h, n as i64))
        .collect();
    assert_eq!(recommended, want, "{ten}");
    assert_eq!(
        recommended[0],
        (1, 9, 2),
        "the only cell with two posts leads"
    );
}

#[tokio::test]
async fn the_posts_list_pages_by_cursor_in_every_sort_without_gaps_or_repeats() {
    // Arrange: seven posts of different ages, captured once.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let posts: Vec<u64> = (0..7)
        .map(|i| t.seed_post(&format!("Listed post {i}"), t0 - (i + 1) * 7 * HOUR))
        .collect();
    t.tick(t0).await;
    let range = "from=2026-06-01&to=2026-06-11";
    let m = |id: u64| t.metrics(id, t0);

    for (sort, key) in [
        ("date", None),
        ("impressions", Some(0)),
        ("engagementRate", Some(1)),
    ] {
        // Act: pages of three, following nextCursor.
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/analytics/tweets?sort={sort}&limit=3&{range}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = t.data(&path).await;
            pages += 1;
            for item in page["items"].as_array().unwrap() {
                seen.push(item["id"].as_str().unwrap().to_string());
            }
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 10, "{sort}: the cursor does not advance");
        }

        // Assert: every post once, in the sort's order (greatest first, newest for date).
        let mut expected = posts.clone();
        match key {
            None => {} // seeded newest first
            Some(0) => expected.sort_by_key(|&id| std::cmp::Reverse(m(id).impressions)),
            Some(_) => expected.sort_by(|&a, &b| {
                let r = |id| {
                    let x = m(id);
                    engagements(&x, true) as f64 / x.impressions as f64
                };
                r(b).partial_cmp(&r(a)).unwrap()
            }),
        }
        let expected: Vec<String> = expected.iter().map(u64::to_string).collect();
        assert_eq!(seen, expected, "{sort}");
        assert_eq!(pages, 3, "{sort}: 3 + 3 + 1");
    }

    // A cursor of one sort is refused by another, with the envelope.
    let first = t
        .data(&format!("/api/analytics/tweets?sort=date&limit=3&{range}"))
        .await;
    let cursor = first["nextCursor"].as_str().unwrap();
    let resp = t
        .get_as(
            &format!("/api/analytics/tweets?sort=impressions&limit=3&cursor={cursor}&{range}"),
            &t.token,
        )
        .await;
    assert_error_envelope(&resp, 422, "VALIDATION_ERROR");
}
