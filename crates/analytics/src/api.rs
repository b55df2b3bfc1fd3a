//! The analytics component's handlers, one per route: parse the shared parameters, run one
//! report, answer JSON (or CSV with a header row for `Accept: text/csv` on lists and series).

use crate::cache::{self, Key};
use crate::charts::{self, Bucket};
use crate::collect::Settings;
use crate::lists::{self, Cursor, Sort};
use crate::params::{Range, DEFAULT_BEST_TIMES_DAYS, DEFAULT_RANGE_DAYS};
use crate::report;
use crate::table::Table;
use common::error::AppError;
use common::http::{Ctx, Reply};
use common::pagination;
use identity::Caller;
use identity::Env;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// The most rows one CSV export holds (continue with the `X-Next-Cursor` header).
pub const CSV_MAX_ROWS: usize = 10_000;

fn wants_csv(ctx: &Ctx) -> bool {
    ctx.header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("text/csv"))
}

fn csv(table: &Table, name: &str) -> Reply {
    Reply::raw(200, "text/csv; charset=utf-8", table.csv()).header(
        "content-disposition",
        format!("attachment; filename=\"analytics-{name}.csv\""),
    )
}

fn range(env: &Env, ctx: &Ctx, caller: &Caller, default_days: i64) -> Result<Range, AppError> {
    Range::parse(
        &env.db,
        caller.acting_workspace()?,
        &caller.user.timezone,
        |n| ctx.query_param(n),
        env.now_ms,
        default_days,
    )
}

/// The range every report over one answers with, beside the report's own fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ranged<'a, T> {
    from: String,
    to: String,
    tz: &'a str,
    account_id: Option<Uuid>,
    #[serde(flatten)]
    report: T,
}

/// A report's answer over `r`, as the JSON text the cache stores. It goes through a
/// `serde_json::Value`, whose keys are sorted, so a stored answer keeps one byte form.
fn ranged(r: &Range, report: impl Serialize) -> Result<String, AppError> {
    let answer = Ranged {
        from: common::clock::rfc3339(r.from_ms),
        to: common::clock::rfc3339(r.to_ms),
        tz: &r.tz,
        account_id: r.account,
        report,
    };
    Ok(to_data(answer)?.to_string())
}

fn to_data(data: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(data).map_err(AppError::internal)
}

/// A page of `tweets`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TweetsPage {
    items: Vec<Value>,
    next_cursor: Option<String>,
    /// The `sort` parameter as given (`date` when absent).
    sort: String,
}

/// A chart's buckets.
#[derive(Serialize)]
struct Buckets {
    #[serde(skip_serializing_if = "Option::is_none")]
    bucket: Option<String>,
    items: Vec<Value>,
}

/// `GET /api/analytics/overview`.
pub fn overview(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let r = range(env, ctx, caller, DEFAULT_RANGE_DAYS)?;
    // A range that reaches past now has a gap that may run to now: such an answer is kept for
    // the minute it was computed in.
    let minute = if r.to_ms > env.now_ms {
        (env.now_ms / 60_000).to_string()
    } else {
        String::new()
    };
    let body = cache::answer(&env.db, &Key::range("overview", &r, &minute), || {
        report::overview(&env.db, &r, env.now_ms)
    })?;
    Ok(Reply::ok_json(body))
}

/// `GET /api/analytics/tweets`.
pub fn tweets(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let r = range(env, ctx, caller, DEFAULT_RANGE_DAYS)?;
    let sort = Sort::parse(ctx.query_param("sort"))?;
    let after = Cursor::parse(ctx.query_param("cursor"), sort)?;
    if wants_csv(ctx) {
        let (table, next) = lists::tweets(&env.db, &r, sort, after, CSV_MAX_ROWS)?;
        let reply = csv(&table, "tweets");
        return Ok(match next {
            Some(c) => reply.header("x-next-cursor", c),
            None => reply,
        });
    }
    let limit = pagination::limit(ctx.query_param("limit"))?;
    let raw_sort = ctx.query_param("sort");
    let raw_cursor = ctx.query_param("cursor").unwrap_or_default();
    let extra = format!(
        "{}\n{raw_cursor}\n{limit}",
        raw_sort.as_deref().unwrap_or("\u{0}")
    );
    let body = cache::answer(&env.db, &Key::range("tweets", &r, &extra), || {
        let (table, next) = lists::tweets(&env.db, &r, sort, after, limit)?;
        let page = TweetsPage {
            items: table.items(),
            next_cursor: next,
            sort: raw_sort.clone().unwrap_or_else(|| "date".into()),
        };
        ranged(&r, page)
    })?;
    Ok(Reply::ok_json(body))
}

/// `GET /api/analytics/tweets/:id/series`.
pub fn series(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let r = range(env, ctx, caller, DEFAULT_RANGE_DAYS)?;
    let id = ctx.param("id").unwrap_or_default();
    if wants_csv(ctx) {
        return Ok(csv(
            &lists::series(&env.db, r.workspace, id, &r.tz)?,
            "series",
        ));
    }
    // The range does not matter to a series: the key is the post and the zone.
    let key = Key::new(r.workspace, &["series", id, &r.tz]);
    let body = cache::answer(&env.db, &key, || {
        let table = lists::series(&env.db, r.workspace, id, &r.tz)?;
        Ok(json!({ "id": id, "tz": r.tz, "items": table.items() }).to_string())
    })?;
    Ok(Reply::ok_json(body))
}

/// `GET /api/analytics/engagement`.
pub fn engagement(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let bucket = Bucket::parse(ctx.query_param("bucket"))?;
    let r = range(env, ctx, caller, DEFAULT_RANGE_DAYS)?;
    if wants_csv(ctx) {
        return Ok(csv(&charts::engagement(&env.db, &r, bucket)?, "engagement"));
    }
    let raw_bucket = ctx
        .query_param("bucket")
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "day".into());
    let body = cache::answer(&env.db, &Key::range("engagement", &r, &raw_bucket), || {
        let table = charts::engagement(&env.db, &r, bucket)?;
        let buckets = Buckets {
            bucket: Some(raw_bucket.clone()),
            items: table.items(),
        };
        ranged(&r, buckets)
    })?;
    Ok(Reply::ok_json(body))
}

/// `GET /api/analytics/audience`.
pub fn audience(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let r = range(env, ctx, caller, DEFAULT_RANGE_DAYS)?;
    if wants_csv(ctx) {
        return Ok(csv(&charts::audience(&env.db, &r)?, "audience"));
    }
    let body = cache::answer(&env.db, &Key::range("audience", &r, ""), || {
        let table = charts::audience(&env.db, &r)?;
        let buckets = Buckets {
            bucket: None,
            items: table.items(),
        };
        ranged(&r, buckets)
    })?;
    Ok(Reply::ok_json(body))
}

/// `GET /api/analytics/best-times`.
pub fn best_times(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let r = range(env, ctx, caller, DEFAULT_BEST_TIMES_DAYS)?;
    if wants_csv(ctx) {
        return Ok(csv(&charts::best_times(&env.db, &r)?.table, "best-times"));
    }
    let body = cache::answer(&env.db, &Key::range("best-times", &r, ""), || {
        let best = charts::best_times(&env.db, &r)?;
        ranged(&r, best.grid())
    })?;
    Ok(Reply::ok_json(body))
}

/// `GET /api/analytics/usage`.
pub fn usage(env: &Env, ctx: &Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let budget = Settings::load().monthly_read_budget;
    let (usage, days) = report::usage(&env.db, ws, env.now_ms, budget)?;
    if wants_csv(ctx) {
        return Ok(csv(&days, "usage"));
    }
    let data = UsageAnswer {
        usage,
        days: days.items(),
    };
    Ok(Reply::ok(to_data(data)?))
}

/// `usage`'s answer: the month's reads and the workspace's reads per day.
#[derive(Serialize)]
struct UsageAnswer {
    #[serde(flatten)]
    usage: report::Usage,
    days: Vec<Value>,
}
