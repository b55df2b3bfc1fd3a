//! The scheduler's reliability: `scheduler::tick` run through the probe component (with a
//! driven clock) against real PostgreSQL, Redis and `xsim` with fault injection, and the
//! scheduler component's HTTP tick route with its secret.

mod failures;
mod lost_responses;
mod reliability;
mod routes;

use crate::helpers::{insert_workspace, now_ms, seed_account, Setup, TestApp};
use serde_json::{json, Value};
use std::collections::HashSet;
use xsim::{Fault, FaultKind, Profile, SimHandle};

const ME: u64 = xsim::DEFAULT_USER_ID;
const OTHER: u64 = 1_700_000_000_000_000_777;

pub(crate) struct SchedTest {
    pub(crate) sim: SimHandle,
    pub(crate) app: TestApp,
    ws: String,
    pub(crate) accounts: Vec<(u64, String)>,
}

impl SchedTest {
    /// `users` X users (the default one first), each connected as an account of one workspace.
    async fn start(profile: Profile, users: usize) -> SchedTest {
        Self::start_with(profile, users, Setup::probe()).await
    }

    /// As `start`, from `setup` (e.g. another `database_url`, which the test's own queries
    /// then use too).
    pub(crate) async fn start_with(profile: Profile, users: usize, setup: Setup) -> SchedTest {
        let database_url = setup.overrides.get("database_url").cloned();
        let (sim, mut app) = setup.with_sim(profile).await;
        if let Some(url) = database_url {
            app.db.url = url;
        }
        let ws = insert_workspace(&app, "sched").await;
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
            let id = seed_account(&t.app, &t.sim, &t.ws, user, now_ms() + 2 * 3_600_000).await;
            t.accounts.push((user, id));
        }
        t
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
