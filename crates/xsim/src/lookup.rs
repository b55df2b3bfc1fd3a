//! GET /2/tweets?ids=..., GET /2/users/:id/tweets, and rendering posts with `tweet.fields`.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::auth::Auth;
use crate::ctx::{parse_id, Ctx};
use crate::metrics::post_metrics;
use crate::problem::{not_found_entry, ok, ApiError, ApiResult, PROBLEMS};
use crate::ratelimit::{self, Ep};
use crate::state::{Post, SimState};
use crate::tweets::respond;

const READ_SCOPES: &[&str] = &["tweet.read", "users.read"];
const PRIVATE_WINDOW_MS: i64 = 30 * 86_400_000;

pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A post as X renders it, with the requested `tweet.fields`; field errors go to `errors`.
pub fn render(
    p: &Post,
    fields: &[String],
    auth: &Auth,
    now_ms: i64,
    errors: &mut Vec<Value>,
) -> Value {
    let id = p.id.to_string();
    let mut o = Map::new();
    o.insert("id".into(), json!(id));
    o.insert("text".into(), json!(p.text));
    o.insert("edit_history_tweet_ids".into(), json!([id]));
    let m = post_metrics(p, now_ms);
    let private_ok =
        auth.user_id() == Some(p.author_id) && now_ms - p.created_at_ms < PRIVATE_WINDOW_MS;
    for f in fields {
        let v = match f.as_str() {
            "created_at" => json!(iso(p.created_at_ms)),
            "author_id" => json!(p.author_id.to_string()),
            "conversation_id" => json!(p.reply_to.map(|r| r.0).unwrap_or(p.id).to_string()),
            "public_metrics" => m.public(),
            "non_public_metrics" | "organic_metrics" if !private_ok => {
                errors.push(json!({
                    "value": id, "resource_id": id, "resource_type": "tweet", "field": f,
                    "parameter": "tweet.fields", "section": "data", "title": "Field Authorization Error",
                    "detail": format!("Sorry, you are not authorized to access '{f}' on the Tweet with ids: [{id}]."),
                    "type": format!("{PROBLEMS}not-authorized-for-field"),
                }));
                continue;
            }
            "non_public_metrics" => m.non_public(),
            "organic_metrics" => m.organic(),
            "in_reply_to_user_id" => match p.reply_to {
                Some((_, uid)) => json!(uid.to_string()),
                None => continue,
            },
            "referenced_tweets" => {
                let mut refs = Vec::new();
                if let Some((pid, _)) = p.reply_to {
                    refs.push(json!({"type": "replied_to", "id": pid.to_string()}));
                }
                if let Some(q) = p.quote_of {
                    refs.push(json!({"type": "quoted", "id": q.to_string()}));
                }
                if refs.is_empty() {
                    continue;
                }
                json!(refs)
            }
            "attachments" => {
                let mut a = Map::new();
                if !p.media_ids.is_empty() {
                    let keys: Vec<String> = p.media_ids.iter().map(|m| format!("3_{m}")).collect();
                    a.insert("media_keys".into(), json!(keys));
                }
                if p.poll.is_some() {
                    a.insert("poll_ids".into(), json!([p.id.to_string()]));
                }
                if a.is_empty() {
                    continue;
                }
                Value::Object(a)
            }
            "entities" if p.entities.is_empty() => continue,
            "entities" => json!(p.entities),
            "reply_settings" => json!(p.reply_settings.as_deref().unwrap_or("everyone")),
            "lang" => json!("en"),
            "possibly_sensitive" => json!(false),
            "edit_controls" => json!({
                "edits_remaining": 5, "is_edit_eligible": p.poll.is_none(),
                "editable_until": iso(p.created_at_ms + 3_600_000),
            }),
            _ => continue,
        };
        o.insert(f.clone(), v);
    }
    Value::Object(o)
}

pub async fn lookup(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    auth.read(READ_SCOPES)?;
    let rl = ratelimit::check(&mut st.inner.lock(), st.clock.now(), Ep::LookupPosts, &auth)?;
    respond(rl, lookup_inner(&st, &ctx, &auth))
}

fn lookup_inner(
    st: &SimState,
    ctx: &Ctx,
    auth: &Auth,
) -> Result<axum::response::Response, ApiError> {
    let raw = ctx.param("ids").unwrap_or_default();
    let ids: Vec<&str> = raw.split(',').map(str::trim).collect();
    if raw.is_empty() || ids.len() > 100 {
        return Err(ApiError::invalid(
            "ids",
            &raw,
            "The `ids` query parameter value must be between 1 and 100 comma-separated post ids.",
        ));
    }
    let mut parsed = Vec::with_capacity(ids.len());
    for s in &ids {
        parsed.push(parse_id(s).ok_or_else(|| {
            ApiError::invalid(
                "ids",
                s,
                &format!("The `ids` query parameter value [{s}] is not valid"),
            )
        })?);
    }
    let fields = ctx.list("tweet.fields");
    let now_ms = st.clock.now_ms();
    let found: Vec<Option<Post>> = {
        let inner = st.inner.lock();
        parsed
            .iter()
            .map(|id| inner.posts.get(id).filter(|p| !p.deleted).cloned())
            .collect()
    };
    let mut data = Vec::new();
    let mut errors = Vec::new();
    for (s, p) in ids.iter().zip(found) {
        match p {
            Some(p) => data.push(render(&p, &fields, auth, now_ms, &mut errors)),
            None => errors.push(not_found_entry("tweet", s, "ids")),
        }
    }
    let mut body = Map::new();
    if !data.is_empty() {
        body.insert("data".into(), json!(data));
    }
    if !errors.is_empty() {
        body.insert("errors".into(), json!(errors));
    }
    Ok(ok(&Value::Object(body)))
}

fn b36(mut n: u64) -> String {
    const D: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(D[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

fn time_param(ctx: &Ctx, key: &str) -> Result<Option<i64>, ApiError> {
    match ctx.param(key) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(&v)
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| {
                ApiError::invalid(
                    key,
                    &v,
                    &format!("Invalid '{key}':'{v}'. '{key}' must be a RFC 3339 date-time."),
                )
            }),
    }
}

pub async fn user_posts(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    auth.read(READ_SCOPES)?;
    let rl = ratelimit::check(&mut st.inner.lock(), st.clock.now(), Ep::UserPosts, &auth)?;
    respond(rl, user_posts_inner(&st, &ctx, &auth, &id))
}

fn user_posts_inner(
    st: &SimState,
    ctx: &Ctx,
    auth: &Auth,
    id: &str,
) -> Result<axum::response::Response, ApiError> {
    let uid = parse_id(id)
        .ok_or_else(|| ApiError::invalid("id", id, "The `id` path value is not valid"))?;
    let max = max_results(ctx)?;
    let filter = TimelineFilter::read(ctx)?;
    let (below, above) = page_token(ctx)?;
    let fields = ctx.list("tweet.fields");
    let now_ms = st.clock.now_ms();
    let (page, more_below, more_above) = {
        let inner = st.inner.lock();
        if !inner.users.contains_key(&uid) {
            return Ok(ok(&json!({"errors": [not_found_entry("user", id, "id")]})));
        }
        let tl = inner.timeline.get(&uid).map(Vec::as_slice).unwrap_or(&[]);
        let posts = |ids: &mut dyn Iterator<Item = &u64>| -> Vec<Post> {
            ids.filter_map(|i| inner.posts.get(i))
                .filter(|p| filter.keeps(p))
                .take(max + 1)
                .cloned()
                .collect()
        };
        if let Some(a) = above {
            let mut v = posts(&mut tl.iter().filter(|i| **i > a));
            let more = v.len() > max;
            v.truncate(max);
            v.reverse();
            (v, true, more)
        } else {
            let mut v = posts(&mut tl.iter().rev().filter(|i| below.is_none_or(|b| **i < b)));
            let more = v.len() > max;
            v.truncate(max);
            (v, more, below.is_some())
        }
    };
    let mut errors = Vec::new();
    let data: Vec<Value> = page
        .iter()
        .map(|p| render(p, &fields, auth, now_ms, &mut errors))
        .collect();
    let mut body = Map::new();
    if !data.is_empty() {
        body.insert("data".into(), json!(data));
    }
    if !errors.is_empty() {
        body.insert("errors".into(), json!(errors));
    }
    body.insert(
        "meta".into(),
        Value::Object(page_meta(&page, more_below, more_above)),
    );
    Ok(ok(&Value::Object(body)))
}

/// `max_results`: 10 when absent, else 5 to 100.
fn max_results(ctx: &Ctx) -> Result<usize, ApiError> {
    let Some(v) = ctx.param("max_results") else {
        return Ok(10);
    };
    match v.parse::<usize>() {
        Ok(n) if (5..=100).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(
            "max_results",
            &v,
            &format!("The `max_results` query parameter value [{v}] is not between 5 and 100"),
        )),
    }
}

/// Which of a user's posts a timeline request keeps (`start_time`, `end_time`, `since_id`,
/// `until_id`, `exclude=replies`); deleted posts never.
struct TimelineFilter {
    start: Option<i64>,
    end: Option<i64>,
    since: Option<u64>,
    until: Option<u64>,
    no_replies: bool,
}

impl TimelineFilter {
    fn read(ctx: &Ctx) -> Result<TimelineFilter, ApiError> {
        Ok(TimelineFilter {
            start: time_param(ctx, "start_time")?,
            end: time_param(ctx, "end_time")?,
            since: ctx.param("since_id").and_then(|v| parse_id(&v)),
            until: ctx.param("until_id").and_then(|v| parse_id(&v)),
            no_replies: ctx.list("exclude").iter().any(|e| e == "replies"),
        })
    }

    fn keeps(&self, p: &Post) -> bool {
        !p.deleted
            && self.start.is_none_or(|s| p.created_at_ms >= s)
            && self.end.is_none_or(|e| p.created_at_ms <= e)
            && self.since.is_none_or(|s| p.id > s)
            && self.until.is_none_or(|u| p.id < u)
            && !(self.no_replies && p.reply_to.is_some())
    }
}

/// `pagination_token`: `n<id>` pages to older posts (below the id), `p<id>` to newer ones
/// (above it), the id in base 36.
fn page_token(ctx: &Ctx) -> Result<(Option<u64>, Option<u64>), ApiError> {
    let Some(t) = ctx.param("pagination_token") else {
        return Ok((None, None));
    };
    let n = t.get(1..).and_then(|s| u64::from_str_radix(s, 36).ok());
    match (t.as_bytes().first(), n) {
        (Some(b'n'), Some(n)) => Ok((Some(n), None)),
        (Some(b'p'), Some(n)) => Ok((None, Some(n))),
        _ => Err(ApiError::invalid(
            "pagination_token",
            &t,
            "The `pagination_token` query parameter value is not valid",
        )),
    }
}

/// A page's `meta`: its count, its newest and oldest ids and the tokens to the pages beside it.
fn page_meta(page: &[Post], more_below: bool, more_above: bool) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert("result_count".into(), json!(page.len()));
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        meta.insert("newest_id".into(), json!(first.id.to_string()));
        meta.insert("oldest_id".into(), json!(last.id.to_string()));
        if more_below {
            meta.insert("next_token".into(), json!(format!("n{}", b36(last.id))));
        }
        if more_above {
            meta.insert(
                "previous_token".into(),
                json!(format!("p{}", b36(first.id))),
            );
        }
    }
    meta
}
