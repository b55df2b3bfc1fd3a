//! The tweets component: composing drafts, scheduled posts and threads, validation at the
//! edges, the queue, the duplicate rule, idempotency keys, edits with history, cancellation,
//! roles and workspace isolation.

mod at_x;
mod compose;
mod queue;
mod reads;
mod rules;

use crate::accounts::AccountsTest;
use crate::helpers::Resp;
use reqwest::Method;
use serde_json::{json, Value};

const ME: u64 = xsim::DEFAULT_USER_ID;

struct PostsTest {
    t: AccountsTest,
    account: String,
}

fn in_hours(h: i64) -> String {
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs((h * 3600) as u64);
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    chrono_like(secs)
}

/// RFC 3339 UTC from Unix seconds, without a date library.
fn chrono_like(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl PostsTest {
    async fn start() -> PostsTest {
        let t = AccountsTest::start().await;
        let account = t.connected(ME).await["id"].as_str().unwrap().to_string();
        PostsTest { t, account }
    }

    async fn post(&self, body: &Value) -> Resp {
        self.t
            .call(Method::POST, "/api/tweets", &self.t.token, Some(body))
            .await
    }

    /// `POST /api/tweets` as the owner, with extra headers.
    async fn post_with(&self, body: &Value, headers: &[(&str, &str)]) -> Resp {
        self.t
            .app
            .authed(
                Method::POST,
                "/api/tweets",
                &self.t.token,
                Some(body),
                headers,
            )
            .await
    }

    async fn created(&self, body: &Value) -> Value {
        let resp = self.post(body).await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.json()["data"].clone()
    }

    async fn get(&self, id: &str) -> Resp {
        self.t
            .app
            .auth_get(&format!("/api/tweets/{id}"), &self.t.token)
            .await
    }

    async fn validate(&self, body: &Value) -> Value {
        let resp = self
            .t
            .call(
                Method::POST,
                "/api/tweets/validate",
                &self.t.token,
                Some(body),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    async fn posts_count(&self) -> i64 {
        self.t.count_rows("SELECT count(*) FROM posts").await
    }

    /// `method /api/tweets/{id}{rest}` as the owner.
    async fn on_post(&self, method: Method, id: &str, rest: &str, body: Option<&Value>) -> Resp {
        self.t
            .call(
                method,
                &format!("/api/tweets/{id}{rest}"),
                &self.t.token,
                body,
            )
            .await
    }

    /// `POST /api/engagements` as the owner: `action` on X post `post_id` by the account, now
    /// or at `scheduled_at`.
    async fn engage(&self, action: &str, post_id: &str, scheduled_at: Option<String>) -> Resp {
        let mut body = json!({ "accountId": self.account, "action": action, "postId": post_id });
        if let Some(at) = scheduled_at {
            body["scheduledAt"] = json!(at);
        }
        self.t
            .call(Method::POST, "/api/engagements", &self.t.token, Some(&body))
            .await
    }

    /// A post made at X directly (not through the platform) with `access_token`; answers
    /// its id.
    async fn post_at_x(&self, access_token: &str, text: &str) -> String {
        let created: Value = reqwest::Client::new()
            .post(format!("{}/2/tweets", self.t.sim.base_url()))
            .bearer_auth(access_token)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["data"]["id"].as_str().unwrap().to_string()
    }
}

fn history_kinds(post: &Value) -> Vec<String> {
    post["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}
