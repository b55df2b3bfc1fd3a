//! Likes and reposts: POST/DELETE /2/users/:id/likes, POST/DELETE /2/users/:id/retweets.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use serde::Deserialize;
use serde_json::json;

use crate::ctx::{parse_id, Ctx};
use crate::problem::{ok, ApiError, ApiResult};
use crate::ratelimit::{self, Ep};
use crate::state::{Inner, SimState};
use crate::tweets::respond;

const LIKE_SCOPES: &[&str] = &["tweet.read", "users.read", "like.write"];
const REPOST_SCOPES: &[&str] = &["tweet.read", "users.read", "tweet.write"];

#[derive(Clone, Copy)]
enum Kind {
    Like,
    Repost,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetReq {
    tweet_id: String,
}

fn set(inner: &mut Inner, kind: Kind, user: u64, post_id: u64, on: bool) -> Result<(), ApiError> {
    let exists = inner.posts.get(&post_id).is_some_and(|p| !p.deleted);
    if on && !exists {
        return Err(ApiError::not_found("tweet", &post_id.to_string()));
    }
    let set = match kind {
        Kind::Like => &mut inner.likes,
        Kind::Repost => &mut inner.retweets,
    };
    let changed = if on {
        set.insert((user, post_id))
    } else {
        set.remove(&(user, post_id))
    };
    if let (true, Some(p)) = (changed, inner.posts.get_mut(&post_id)) {
        let counter = match kind {
            Kind::Like => &mut p.likes,
            Kind::Repost => &mut p.retweets,
        };
        *counter = if on {
            *counter + 1
        } else {
            counter.saturating_sub(1)
        };
    }
    Ok(())
}

async fn handle(
    st: Arc<SimState>,
    path_id: String,
    target: Option<String>,
    req: Request,
    kind: Kind,
    on: bool,
) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    let scopes = match kind {
        Kind::Like => LIKE_SCOPES,
        Kind::Repost => REPOST_SCOPES,
    };
    let user = auth.acting_as(&path_id, scopes)?;
    let ep = match (kind, on) {
        (Kind::Like, true) => Ep::Like,
        (Kind::Like, false) => Ep::Unlike,
        (Kind::Repost, true) => Ep::Retweet,
        (Kind::Repost, false) => Ep::Unretweet,
    };
    let rl = ratelimit::check(&mut st.inner.lock(), st.clock.now(), ep, &auth)?;
    let target = match target {
        Some(t) => Ok(t),
        None => ctx.json::<TargetReq>().map(|t| t.tweet_id),
    };
    let result = target
        .and_then(|t| {
            parse_id(&t).ok_or_else(|| {
                ApiError::invalid(
                    "tweet_id",
                    &t,
                    &format!("The `tweet_id` value [{t}] is not valid"),
                )
            })
        })
        .and_then(|pid| set(&mut st.inner.lock(), kind, user, pid, on))
        .map(|()| {
            let key = match kind {
                Kind::Like => "liked",
                Kind::Repost => "retweeted",
            };
            ok(&json!({"data": {key: on}}))
        });
    respond(rl, result)
}

pub async fn like(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    handle(st, id, None, req, Kind::Like, true).await
}

pub async fn unlike(
    State(st): State<Arc<SimState>>,
    Path((id, tweet_id)): Path<(String, String)>,
    req: Request,
) -> ApiResult {
    handle(st, id, Some(tweet_id), req, Kind::Like, false).await
}

pub async fn retweet(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    handle(st, id, None, req, Kind::Repost, true).await
}

pub async fn unretweet(
    State(st): State<Arc<SimState>>,
    Path((id, tweet_id)): Path<(String, String)>,
    req: Request,
) -> ApiResult {
    handle(st, id, Some(tweet_id), req, Kind::Repost, false).await
}
