//! Posts made outside any client (on x.com, or long ago), for tests and benchmarks: a post with
//! a chosen creation time gets the snowflake id X would have given it and takes its place in the
//! author's timeline.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::problem::{json_response, ApiError};
use crate::state::{Inner, Post, SimState};

/// X's snowflake epoch (ms).
const TWEPOCH_MS: i64 = 1_288_834_974_657;

impl Inner {
    /// Adds a post by `author_id` created at `created_at_ms`; answers its id.
    pub fn seed_post(&mut self, author_id: u64, text: &str, created_at_ms: i64) -> u64 {
        let base = ((created_at_ms - TWEPOCH_MS).max(1) as u64) << 22;
        let mut id = base | (self.posts.len() as u64 & 0xfff);
        while self.posts.contains_key(&id) {
            id += 1;
        }
        // As X stores every post: URLs shortened to t.co links, entities beside the text.
        let (shortened, entities) = crate::entities::shorten(text);
        self.posts.insert(
            id,
            Post {
                id,
                author_id,
                app_id: crate::DEFAULT_APP_ID,
                text: shortened,
                sent_text: text.to_string(),
                entities,
                created_at_ms,
                deleted: false,
                reply_to: None,
                quote_of: None,
                media_ids: Vec::new(),
                poll: None,
                reply_settings: None,
                likes: 0,
                retweets: 0,
                replies: 0,
                quotes: 0,
            },
        );
        let timeline = self.timeline.entry(author_id).or_default();
        let at = timeline.partition_point(|other| *other < id);
        timeline.insert(at, id);
        id
    }
}

#[derive(Deserialize)]
pub struct SeedReq {
    count: u32,
    /// Creation times are spread evenly from `oldest_ms` to `newest_ms` (default: the last
    /// 30 days of the simulator's clock).
    oldest_ms: Option<i64>,
    newest_ms: Option<i64>,
}

/// `POST /__admin/users/:id/posts` `{count, oldest_ms?, newest_ms?}`: seeds posts made outside
/// any client; answers their ids.
pub async fn seed_posts(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    Json(r): Json<SeedReq>,
) -> Result<Response, ApiError> {
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, json!({ "error": m }));
    let user: u64 = id.parse().map_err(|_| bad("user id must be numeric"))?;
    if r.count == 0 || r.count > 100_000 {
        return Err(bad("count must be 1..100000"));
    }
    let now = st.clock.now_ms();
    let newest = r.newest_ms.unwrap_or(now);
    let oldest = r.oldest_ms.unwrap_or(newest - 30 * 86_400_000);
    let mut inner = st.inner.lock();
    if !inner.users.contains_key(&user) {
        return Err(bad("unknown user"));
    }
    let step = (newest - oldest) / i64::from(r.count.max(2) - 1);
    let ids: Vec<String> = (0..i64::from(r.count))
        .map(|i| {
            let at = oldest + i * step;
            inner
                .seed_post(user, &format!("Seeded post {i} of {user}"), at)
                .to_string()
        })
        .collect();
    Ok(json_response(StatusCode::CREATED, &json!({ "ids": ids })))
}

#[cfg(test)]
mod tests {
    use crate::state::Inner;

    #[test]
    fn seeded_posts_keep_the_timeline_in_id_order_and_carry_their_time() {
        let mut inner = Inner::default();
        let late = inner.seed_post(7, "late", 1_800_000_000_000);
        let early = inner.seed_post(7, "early", 1_700_000_000_000);
        assert!(early < late);
        assert_eq!(inner.timeline[&7], vec![early, late]);
        assert_eq!((early >> 22) as i64 + super::TWEPOCH_MS, 1_700_000_000_000);
    }
}
