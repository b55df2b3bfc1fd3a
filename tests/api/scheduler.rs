//! The scheduler's reliability: `scheduler::tick` run through the probe component (with a
//! driven clock) against real PostgreSQL, Redis and `xsim` with fault injection, and the
//! scheduler component's HTTP tick route with its secret.

use crate::helpers::{assert_error_envelope, Kv, Setup, TestApp};
use serde_json::{json, Value};
use std::collections::HashSet;
use xsim::{Fault, FaultKind, Profile, Sim, SimConfig, SimHandle};

const ME: u64 = xsim::DEFAULT_USER_ID;
const OTHER: u64 = 1_700_000_000_000_000_777;

pub(crate) struct SchedTest {
    pub(crate) sim: SimHandle,
    pub(crate) app: TestApp,
    ws: String,
    pub(crate) accounts: Vec<(u64, String)>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

impl SchedTest {
    /// `users` X users (the default one first), each connected as an account of one workspace.
    async fn start(profile: Profile, users: usize) -> SchedTest {
        Self::start_with(profile, users, Setup::probe()).await
    }

    /// As `start`, from `setup` (e.g. another `database_url`, which the test's own queries
    /// then use too).
    pub(crate) async fn start_with(profile: Profile, users: usize, setup: Setup) -> SchedTest {
        let sim = Sim::start(SimConfig::ephemeral().with_profile(profile))
            .await
            .expect("start xsim");
        let database_url = setup.overrides.get("database_url").cloned();
        let mut app = setup
            .var("x_api_base_url", &sim.base_url())
            .var("x_host", &sim.addr().to_string())
            .kv(Kv::Redis)
            .spawn()
            .await;
        if let Some(url) = database_url {
            app.db.url = url;
        }
        let ws = uuid::Uuid::new_v4().to_string();
        app.db
            .client()
            .await
            .execute(
                "INSERT INTO workspaces (id, name) VALUES ($1::text::uuid, 'sched')",
                &[&ws],
            )
            .await
            .unwrap();
        let mut t = SchedTest {
            sim,
            app,
            ws,
            accounts: Vec::new(),
        };
        for i in 0..users {
            let user = if i == 0 { ME } else { OTHER + i as u64 };
            if i > 0 {
                t.sim
                    .state()
                    .inner
                    .lock()
                    .add_user(user, &format!("brand_{i}"), "Brand", 0);
            }
            let id = t.seed_account(user).await;
            t.accounts.push((user, id));
        }
        t
    }

    async fn seed_account(&self, user: u64) -> String {
        let tokens = self.sim.state().issue_user_token(user, None, None).unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let resp = self
            .app
            .post_json(
                "/probe/accounts/seed",
                &json!({
                    "workspace_id": self.ws, "account_id": id, "x_user_id": user.to_string(),
                    "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                    "expires_ms": now_ms() + 2 * 3_600_000,
                }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        id
    }

    /// A scheduled post (with further thread parts) due `due_in_ms` from now.
    pub(crate) async fn post(&self, account: &str, parts: &[&str], due_in_ms: i64) -> String {
        let db = self.app.db.client().await;
        let head = uuid::Uuid::new_v4().to_string();
        for (i, text) in parts.iter().enumerate() {
            let id = if i == 0 {
                head.clone()
            } else {
                uuid::Uuid::new_v4().to_string()
            };
            db.execute(
                "INSERT INTO posts (id, workspace_id, account_id, content, thread_id,
                   thread_position, status, scheduled_at, normalized_text_hash)
                 VALUES ($1::text::uuid, $2::text::uuid, $3::text::uuid, $4, $5::text::uuid,
                   $6, 'scheduled', now() + $7::int8 * interval '1 millisecond', repeat('a', 64))",
                &[
                    &id,
                    &self.ws,
                    &account,
                    text,
                    &head,
                    &(i as i32),
                    &due_in_ms,
                ],
            )
            .await
            .unwrap();
        }
        head
    }

    pub(crate) async fn tick(&self, body: Value) -> Value {
        let resp = self.app.post_json("/probe/scheduler/tick", &body).await;
        if resp.status != 200 {
            let logs: Vec<String> = self
                .app
                .log_lines()
                .into_iter()
                .filter(|l| l.contains("error") || l.contains("panicked"))
                .collect();
            panic!("tick: {}\n{}", resp.text, logs.join("\n"));
        }
        resp.json()["data"].clone()
    }

    pub(crate) async fn tick_at(&self, now_ms: i64) -> Value {
        self.tick(json!({ "now_ms": now_ms })).await
    }

    pub(crate) async fn status_of(
        &self,
        head: &str,
    ) -> (String, Option<String>, i32, Option<String>) {
        let db = self.app.db.client().await;
        let r = db
            .query_one(
                "SELECT status, x_post_id, attempts, last_error FROM posts WHERE id = $1::text::uuid",
                &[&head],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2), r.get(3))
    }

    pub(crate) async fn statuses(&self) -> Vec<(String, i64)> {
        let db = self.app.db.client().await;
        db.query(
            "SELECT status, count(*) FROM posts WHERE thread_position = 0 GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    }

    /// X's post log of a user: texts of posts that exist (not deleted).
    fn x_texts(&self, user: u64) -> Vec<String> {
        self.sim
            .state()
            .posts_of(Some(user))
            .iter()
            .filter(|p| p["deleted"] != true)
            .map(|p| p["text"].as_str().unwrap().to_string())
            .collect()
    }

    pub(crate) fn fault(&self, kind: FaultKind, status: u16, delay_ms: u64, count: u32, skip: u32) {
        self.sim.state().add_fault(Fault {
            method: Some("POST".into()),
            path: "/2/tweets".into(),
            count,
            status,
            delay_ms,
            kind,
            skip,
        });
    }

    /// Every published post in the database has exactly one X post, and X has nothing else.
    pub(crate) async fn assert_exactly_once(&self, expected: usize) {
        let db = self.app.db.client().await;
        let rows = db
            .query(
                "SELECT x_post_id FROM posts WHERE x_post_id IS NOT NULL",
                &[],
            )
            .await
            .unwrap();
        let ours: HashSet<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
        assert_eq!(ours.len(), rows.len(), "no X id twice");
        let at_x: Vec<String> = self
            .accounts
            .iter()
            .flat_map(|(user, _)| self.sim.state().posts_of(Some(*user)))
            .filter(|p| p["deleted"] != true)
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        let at_x_set: HashSet<String> = at_x.iter().cloned().collect();
        assert_eq!(at_x.len(), expected, "posts at X");
        assert_eq!(at_x_set, ours, "X's log and the database agree");
    }
}

#[tokio::test]
async fn a_created_post_whose_response_is_lost_is_found_by_reconciliation_not_sent_twice() {
    // Arrange
    let t = SchedTest::start(Profile::Standard, 1).await;
    let head = t.post(&t.accounts[0].1, &["Lost in transit"], -1_000).await;
    t.fault(FaultKind::LoseResponse, 200, 0, 1, 0);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["reconciled"], 1, "{report}");
    let (status, x_id, attempts, _) = t.status_of(&head).await;
    assert_eq!(status, "published");
    assert!(x_id.is_some());
    assert_eq!(attempts, 1);
    assert_eq!(t.x_texts(ME), ["Lost in transit"]);
    assert_eq!(t.sim.state().request_count("POST", "/2/tweets"), 1);
    t.assert_exactly_once(1).await;
}

#[tokio::test]
async fn a_post_with_urls_mentions_emoji_and_cjk_whose_response_is_lost_is_recognised_once() {
    // Arrange: X answers this text with both URLs as t.co links; a post that differs only in
    // its URL is already on the timeline and must not be taken for it.
    let t = SchedTest::start(Profile::Standard, 1).await;
    let text =
        "Launch 🚀 日本語のお知らせ https://example.com/p/2?ref=x and docs.example.org/guide, \
                thanks @xmp_demo #RustLang 🎉";
    let decoy = text.replace("/p/2?", "/p/1?");
    let first = t.post(&t.accounts[0].1, &[&decoy], -2_000).await;
    t.tick_at(now_ms()).await;
    let head = t.post(&t.accounts[0].1, &[text], -1_000).await;
    t.fault(FaultKind::LoseResponse, 200, 0, 1, 0);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["reconciled"], 1, "{report}");
    let (status, x_id, attempts, error) = t.status_of(&head).await;
    assert_eq!((status.as_str(), attempts), ("published", 1), "{error:?}");
    assert_ne!(x_id, t.status_of(&first).await.1, "not the decoy");
    let log = t.sim.state().posts_of(Some(ME));
    let at_x = log.iter().find(|p| p["id"] == json!(x_id)).unwrap();
    assert_eq!(at_x["sent_text"], text);
    let shown = at_x["text"].as_str().unwrap();
    assert!(
        shown.matches("https://t.co/").count() == 2 && !shown.contains("example"),
        "X rewrote the URLs: {shown}"
    );
    assert_eq!(t.sim.state().request_count("POST", "/2/tweets"), 2);
    t.assert_exactly_once(2).await;
}

#[tokio::test]
async fn a_thread_with_urls_whose_part_answer_is_lost_resumes_after_the_part_x_has() {
    // Arrange: the second part's create succeeds at X but its answer is lost, then X fails.
    let t = SchedTest::start(Profile::Standard, 1).await;
    let parts = [
        "1/3 🧵 read https://example.com/a first",
        "2/3 then www.example.org/b — 続きは",
        "3/3 and https://example.net/c?x=1 #done",
    ];
    let head = t.post(&t.accounts[0].1, &parts, -1_000).await;
    t.fault(FaultKind::LoseResponse, 200, 0, 1, 1);
    t.fault(FaultKind::Status, 503, 0, 5, 0);

    // Act
    let start = now_ms();
    t.tick_at(start).await;
    t.sim.state().inner.lock().faults.clear();
    let report = t.tick_at(start + 10 * 60_000).await;

    // Assert
    let (status, _, _, error) = t.status_of(&head).await;
    assert_eq!(status, "published", "{error:?} {report}");
    let sent: Vec<String> = t
        .sim
        .state()
        .posts_of(Some(ME))
        .iter()
        .map(|p| p["sent_text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, parts, "each part once, in order");
    t.assert_exactly_once(3).await;
}

#[tokio::test]
async fn a_tick_that_dies_mid_batch_leaves_leases_that_later_ticks_finish_exactly_once() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    for i in 0..6 {
        t.post(&t.accounts[0].1, &[&format!("batch post {i}")], -1_000)
            .await;
    }

    // Act: the tick traps after publishing two posts of its claimed batch.
    let dead = t
        .app
        .post_json(
            "/probe/scheduler/tick",
            &json!({ "now_ms": now_ms(), "trap_at_clock_read": 7, "lease_ms": 30_000 }),
        )
        .await;
    let before_expiry = t.tick_at(now_ms()).await;
    let after_expiry = t.tick_at(now_ms() + 31_000).await;

    // Assert
    assert_eq!(dead.status, 500, "{}", dead.text);
    assert_eq!(
        before_expiry["claimed"], 0,
        "leases still held: {before_expiry}"
    );
    assert_eq!(after_expiry["recovered"], 4, "{after_expiry}");
    assert_eq!(t.statuses().await, [("published".to_string(), 6)]);
    t.assert_exactly_once(6).await;
}

#[tokio::test]
async fn concurrent_ticks_never_publish_a_post_twice() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 3).await;
    for i in 0..45 {
        let account = &t.accounts[i % 3].1;
        t.post(account, &[&format!("concurrent {i}")], -1_000).await;
    }

    // Act
    let now = now_ms();
    let (a, b, c) = tokio::join!(t.tick_at(now), t.tick_at(now), t.tick_at(now));

    // Assert
    let claimed: i64 = [&a, &b, &c]
        .iter()
        .map(|r| r["claimed"].as_i64().unwrap())
        .sum();
    assert_eq!(claimed, 45, "{a} {b} {c}");
    assert_eq!(t.statuses().await, [("published".to_string(), 45)]);
    t.assert_exactly_once(45).await;
}

#[tokio::test]
async fn a_spent_budget_defers_the_post_to_the_reset_without_burning_an_attempt() {
    // Arrange: X's free tier allows 17 posts a day per user.
    let t = SchedTest::start(Profile::Free, 1).await;
    let mut heads = Vec::new();
    for i in 0..18 {
        heads.push(
            t.post(&t.accounts[0].1, &[&format!("free tier {i}")], -1_000)
                .await,
        );
    }

    // Act
    let first = t.tick_at(now_ms()).await;
    let deferred: Vec<_> = {
        let mut v = Vec::new();
        for h in &heads {
            v.push(t.status_of(h).await);
        }
        v
    };
    let waiting = deferred
        .iter()
        .find(|(s, ..)| s == "scheduled")
        .cloned()
        .expect("one post waits");
    let db = t.app.db.client().await;
    let next: i64 = db
        .query_one(
            "SELECT (extract(epoch FROM next_attempt_at) * 1000)::int8 FROM posts
             WHERE status = 'scheduled' AND thread_position = 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // A day passes (at X too): a tick a minute before the reset claims nothing, one after it
    // publishes.
    t.sim.state().clock.advance_secs(24 * 3600 + 60);
    let too_early = t.tick_at(next - 60_000).await;
    let after_reset = t.tick_at(next + 1_000).await;

    // Assert
    assert_eq!(first["published"], 17, "{first}");
    assert_eq!(first["deferred"], 1, "{first}");
    assert_eq!(first["failed"], 0);
    assert_eq!(waiting.2, 0, "no attempt burned: {waiting:?}");
    assert!(
        next > now_ms() + 23 * 3_600_000,
        "deferred to X's 24-hour reset"
    );
    assert_eq!(too_early["claimed"], 0, "{too_early}");
    assert_eq!(after_reset["published"], 1, "{after_reset}");
    assert_eq!(t.statuses().await, [("published".to_string(), 18)]);
    t.assert_exactly_once(18).await;
}

#[tokio::test]
async fn an_account_revoked_at_x_fails_its_posts_with_the_reauth_reason_and_others_publish() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 2).await;
    let mut revoked = Vec::new();
    for i in 0..3 {
        revoked.push(
            t.post(&t.accounts[0].1, &[&format!("revoked {i}")], -1_000)
                .await,
        );
        t.post(&t.accounts[1].1, &[&format!("fine {i}")], -1_000)
            .await;
    }
    t.sim.state().inner.lock().revoke_user(ME);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["published"], 3, "{report}");
    assert_eq!(report["failed"], 3, "{report}");
    for head in &revoked {
        let (status, _, _, error) = t.status_of(head).await;
        assert_eq!(status, "failed");
        assert!(error.unwrap().contains("reconnected"));
    }
    let db = t.app.db.client().await;
    let account_status: String = db
        .query_one(
            "SELECT status FROM x_accounts WHERE id = $1::text::uuid",
            &[&t.accounts[0].1],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(account_status, "needs_reauth");
    assert_eq!(t.x_texts(ME), Vec::<String>::new());
    assert_eq!(t.x_texts(t.accounts[1].0).len(), 3);
}

#[tokio::test]
async fn losing_every_database_connection_mid_run_loses_and_doubles_nothing() {
    // Arrange: X answers slowly so that the run is in flight when the connections die.
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    for i in 0..10 {
        t.post(
            &t.accounts[0].1,
            &[&format!("through a restart {i}")],
            -1_000,
        )
        .await;
    }
    t.fault(FaultKind::Delay, 200, 150, 100, 0);
    let db_name = t.app.db.name.clone();

    // Act: PostgreSQL drops every connection of the database (as a restart does) mid-run.
    let killer = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let admin = crate::helpers::admin().await;
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&db_name],
            )
            .await
            .unwrap();
    };
    let body = json!({ "now_ms": now_ms(), "lease_ms": 20_000 });
    let (interrupted, ()) = tokio::join!(t.app.post_json("/probe/scheduler/tick", &body), killer);
    let mut later = Vec::new();
    for _ in 0..3 {
        // A pooled connection the restart killed can still be handed out once, before its
        // closing is noticed: that tick answers 503 and the next one carries on, as the cron
        // trigger's next tick would.
        let body = json!({ "now_ms": now_ms() + 21_000 });
        let first = t.app.post_json("/probe/scheduler/tick", &body).await;
        if first.status == 503 {
            later.push(t.tick(body).await);
        } else {
            later.push(first.json()["data"].clone());
        }
    }

    // Assert
    assert_eq!(
        interrupted.status, 503,
        "the run was cut: {}",
        interrupted.text
    );
    assert_eq!(
        t.statuses().await,
        [("published".to_string(), 10)],
        "{later:?}"
    );
    t.assert_exactly_once(10).await;
}

#[tokio::test]
async fn a_thread_that_fails_at_part_three_resumes_at_part_three() {
    // Arrange
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    let head = t
        .post(
            &t.accounts[0].1,
            &["part one", "part two", "part three", "part four"],
            -1_000,
        )
        .await;
    // X fails the third create with a 503.
    t.fault(FaultKind::Status, 503, 0, 1, 2);

    // Act
    let first = t.tick_at(now_ms()).await;
    let after_first = t.status_of(&head).await;
    let db = t.app.db.client().await;
    let next: i64 = db
        .query_one(
            "SELECT (extract(epoch FROM next_attempt_at) * 1000)::int8 FROM posts WHERE id = $1::text::uuid",
            &[&head],
        )
        .await
        .unwrap()
        .get(0);
    let second = t.tick_at(next + 1).await;

    // Assert
    assert_eq!(first["retrying"], 1, "{first}");
    assert_eq!(after_first.0, "scheduled");
    assert_eq!(second["published"], 1, "{second}");
    let texts = t.x_texts(ME);
    assert_eq!(texts, ["part one", "part two", "part three", "part four"]);
    // Each part replies to the one before it.
    let log = t.sim.state().posts_of(Some(ME));
    for pair in log.windows(2) {
        assert_eq!(
            pair[1]["in_reply_to_tweet_id"]
                .as_str()
                .or(pair[1]["reply_to"].as_str()),
            pair[0]["id"].as_str(),
            "{log:?}"
        );
    }
    assert_eq!(
        t.sim.state().request_count("POST", "/2/tweets"),
        5,
        "3 + the failed one + 1"
    );
    let (status, _, attempts, _) = t.status_of(&head).await;
    assert_eq!(status, "published");
    assert_eq!(attempts, 5, "one attempt per create call");
    t.assert_exactly_once(4).await;
}

#[tokio::test]
async fn the_http_tick_needs_the_scheduler_secret() {
    // Arrange
    let app = Setup::app()
        .var("scheduler_secret", "tick-secret-0123456789")
        .spawn()
        .await;
    let call = |auth: Option<&'static str>| {
        let app = &app;
        async move {
            let mut headers = vec![];
            if let Some(a) = auth {
                headers.push(("authorization", a));
            }
            app.request(
                reqwest::Method::POST,
                "/internal/scheduler/tick",
                &headers,
                None,
            )
            .await
        }
    };

    // Act
    let none = call(None).await;
    let wrong = call(Some("Bearer nope")).await;
    let right = call(Some("Bearer tick-secret-0123456789")).await;

    // Assert
    assert_error_envelope(&none, 401, "AUTHENTICATION_ERROR");
    assert_error_envelope(&wrong, 401, "AUTHENTICATION_ERROR");
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(right.json()["data"]["claimed"], 0);
}

#[tokio::test]
async fn due_engagements_run_in_the_tick_and_future_ones_wait() {
    // Arrange: another user's post, a like due now and a repost due in an hour.
    let t = SchedTest::start(Profile::Standard, 2).await;
    let author = t.accounts[1].0;
    let token = t.sim.state().issue_user_token(author, None, None).unwrap();
    let created: Value = reqwest::Client::new()
        .post(format!("{}/2/tweets", t.sim.base_url()))
        .bearer_auth(&token.access_token)
        .json(&json!({ "text": "like me" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x_id = created["data"]["id"].as_str().unwrap().to_string();
    let db = t.app.db.client().await;
    for (action, due_in_ms) in [("like", -1_000_i64), ("repost", 3_600_000)] {
        db.execute(
            "INSERT INTO engagements (id, workspace_id, account_id, action, x_post_id, scheduled_at)
             VALUES (gen_random_uuid(), $1::text::uuid, $2::text::uuid, $3, $4,
                     now() + $5::int8 * interval '1 millisecond')",
            &[&t.ws, &t.accounts[0].1, &action, &x_id, &due_in_ms],
        )
        .await
        .unwrap();
    }

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["engagements"]["done"], 1, "{report}");
    let statuses: Vec<(String, String)> = db
        .query(
            "SELECT action, status FROM engagements ORDER BY action",
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
            ("like".to_string(), "done".to_string()),
            ("repost".to_string(), "scheduled".to_string())
        ]
    );
    let liked = t
        .sim
        .state()
        .inner
        .lock()
        .likes
        .contains(&(ME, x_id.parse::<u64>().unwrap()));
    assert!(liked, "the like reached X");
}

#[tokio::test]
async fn a_refusal_fails_at_once_and_an_outage_fails_only_after_the_bounded_retries() {
    // Arrange: X refuses one post (403) and is down (503) for everything after it.
    let t = SchedTest::start(Profile::Unlimited, 1).await;
    let refused = t.post(&t.accounts[0].1, &["refused by X"], -2_000).await;
    t.fault(FaultKind::Status, 403, 0, 1, 0);
    let first = t.tick_at(now_ms()).await;
    let down = t.post(&t.accounts[0].1, &["X is down"], -1_000).await;
    t.fault(FaultKind::Status, 503, 0, 100, 0);

    // Act: tick at each retry time until the post settles.
    let db = t.app.db.client().await;
    let mut ticks = 0;
    loop {
        let due: Option<i64> = db
            .query_one(
                "SELECT (extract(epoch FROM coalesce(next_attempt_at, scheduled_at)) * 1000)::int8
                 FROM posts WHERE id = $1::text::uuid AND status = 'scheduled'",
                &[&down],
            )
            .await
            .ok()
            .map(|r| r.get(0));
        let Some(due) = due else { break };
        t.tick_at(due.max(now_ms()) + 1).await;
        ticks += 1;
        assert!(ticks <= 10, "the retries are bounded");
    }

    // Assert
    assert_eq!(first["failed"], 1, "{first}");
    let (status, _, attempts, error) = t.status_of(&refused).await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.unwrap().contains("X refused the post"));
    let (status, _, attempts, error) = t.status_of(&down).await;
    assert_eq!(status, "failed");
    assert_eq!(attempts, 5, "five attempts in all");
    assert!(
        error.unwrap().contains("5 attempts"),
        "a reason a person can act on"
    );
    assert_eq!(ticks, 5);
    assert!(t.x_texts(ME).is_empty());
}
