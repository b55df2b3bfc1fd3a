//! Analytics end to end: the scheduler's tick (through the probe, on a driven clock) collects
//! from `xsim` (frozen clock, so its metrics are exact), and the analytics component answers
//! from the same database. Expected values come from the simulator's own metric functions.

mod collection;
mod exact;
mod rankings;
mod reports;
mod zones;

use crate::helpers::{seed_account, Resp, Setup, TestApp};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use xsim::metrics::{post_metrics, PostMetrics};
use xsim::{Profile, SimHandle};

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
        // The app's own cron trigger would collect on the real clock between the test's ticks.
        let mut setup = Setup::app().without_cron();
        for (k, v) in vars {
            setup = setup.var(k, v);
        }
        let (sim, app) = setup.with_sim(Profile::Standard).await;
        sim.state().clock.freeze_at_ms(start_ms);
        let mut probe_setup = Setup::probe().var("database_url", &app.db.url);
        for (k, v) in vars {
            probe_setup = probe_setup.var(k, v);
        }
        let probe = probe_setup.x_at(&sim).spawn().await;
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
        t.account = seed_account(&t.probe, &t.sim, &t.ws, ME, start_ms + 2 * HOUR).await;
        t.sql(
            "UPDATE x_accounts SET timezone = $1 WHERE id = $2::text::uuid",
            &[&tz, &t.account],
        )
        .await;
        t
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

fn item<'a>(items: &'a Value, key: &str, value: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i[key] == value)
        .unwrap_or_else(|| panic!("no item with {key} = {value} in {items}"))
}
