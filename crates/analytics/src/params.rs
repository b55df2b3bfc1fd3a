//! The query parameters every analytics endpoint shares: `from`, `to` (RFC 3339 instants, or
//! dates `YYYY-MM-DD` read in `tz`, `to` inclusive), `tz` (IANA; default the account's zone,
//! else the user's), `accountId` (else every account of the workspace). PostgreSQL does the
//! zone math, so a date range across a DST change has its true length.

use crate::store::ms_of;
use chrono::{DateTime, Datelike, NaiveDate};
use common::db::{Db, Param};
use common::error::AppError;
use common::pagination::invalid;
use uuid::Uuid;

/// The longest range an answer may cover.
pub const MAX_RANGE_DAYS: i64 = 400;
/// Without `from`, a range covers this many days before `to` (best times: 90).
pub const DEFAULT_RANGE_DAYS: i64 = 30;
pub const DEFAULT_BEST_TIMES_DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

/// A validated range in one workspace.
#[derive(Debug, Clone)]
pub struct Range {
    pub workspace: Uuid,
    pub account: Option<Uuid>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub tz: String,
}

enum Bound {
    Instant(i64),
    Date(NaiveDate),
}

fn bound(field: &str, raw: Option<String>) -> Result<Option<Bound>, AppError> {
    let Some(raw) = raw.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
        return Ok(Some(Bound::Instant(t.timestamp_millis())));
    }
    if let Ok(d) = NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
        if (1970..=9000).contains(&d.year()) {
            return Ok(Some(Bound::Date(d)));
        }
    }
    Err(invalid(
        field,
        &format!("{field} must be an RFC 3339 date-time or a date YYYY-MM-DD"),
    ))
}

/// Builds positional parameters while a statement is written.
#[derive(Default)]
pub struct Params(pub Vec<Param>);

impl Params {
    /// Adds a parameter and answers its placeholder (`$n`).
    pub fn add(&mut self, p: Param) -> String {
        self.0.push(p);
        format!("${}", self.0.len())
    }
    /// A Unix-millisecond parameter as a `timestamptz` expression.
    pub fn at(&mut self, ms: i64) -> String {
        let n = self.add(Param::Int64(ms));
        format!("(timestamptz 'epoch' + {n}::int8 * interval '1 millisecond')")
    }
}

impl Range {
    /// Parses and checks the shared parameters; `user_tz` is the caller's own zone.
    pub fn parse(
        db: &Db,
        workspace: Uuid,
        user_tz: &str,
        q: impl Fn(&str) -> Option<String>,
        now_ms: i64,
        default_days: i64,
    ) -> Result<Range, AppError> {
        let account = match q("accountId").filter(|v| !v.is_empty()) {
            None => None,
            Some(raw) => Some(Uuid::parse_str(&raw).map_err(|_| AppError::not_found("Account"))?),
        };
        let tz_param = q("tz");
        if tz_param.as_deref() == Some("") {
            return Err(invalid("tz", "tz must name an IANA time zone"));
        }
        let from = bound("from", q("from"))?;
        let to = bound("to", q("to"))?;
        let (account_tz, tz_ok): (Option<String>, bool) = db.query_one(
            "SELECT (SELECT timezone FROM x_accounts
                     WHERE workspace_id = $1::uuid AND id = $2::uuid) AS account_tz,
                    CASE WHEN $3::text IS NULL THEN true
                         ELSE EXISTS (SELECT 1 FROM time_zone_names WHERE name = $3::text)
                    END AS tz_ok",
            &[
                workspace.into(),
                account.map_or(Param::DbNull, Param::from),
                tz_param.clone().map_or(Param::DbNull, Param::Str),
            ],
            |r| Ok((r.get("account_tz")?, r.get("tz_ok")?)),
        )?;
        if account.is_some() && account_tz.is_none() {
            return Err(AppError::not_found("Account"));
        }
        if !tz_ok {
            return Err(invalid("tz", "tz is not a known IANA time zone"));
        }
        let tz = tz_param
            .or(account_tz)
            .unwrap_or_else(|| user_tz.to_string());
        let (from_ms, to_ms) = resolve(db, &tz, from, to, now_ms, default_days)?;
        if from_ms >= to_ms {
            return Err(invalid("from", "from must be before to"));
        }
        if to_ms - from_ms > MAX_RANGE_DAYS * DAY_MS {
            return Err(invalid(
                "to",
                &format!("a range covers at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(Range {
            workspace,
            account,
            from_ms,
            to_ms,
            tz,
        })
    }

    /// ` AND {alias}.account_id = $n` when one account is asked for (spelled into the statement
    /// only then, so that every condition stays an index condition).
    pub fn account_filter(&self, p: &mut Params, column: &str) -> String {
        match self.account {
            Some(a) => format!(" AND {column} = {}::uuid", p.add(a.into())),
            None => String::new(),
        }
    }

    /// `FROM … WHERE …` of the hourly rollups as `h`: the workspace's sums over every account,
    /// or one account's.
    pub fn rollups(&self, p: &mut Params, ws: &str) -> String {
        match self.account {
            Some(a) => format!(
                "account_hourly h WHERE h.workspace_id = {ws} AND h.account_id = {}::uuid",
                p.add(a.into())
            ),
            None => format!("workspace_hourly h WHERE h.workspace_id = {ws}"),
        }
    }

    pub fn workspace_param(&self, p: &mut Params) -> String {
        format!("{}::uuid", p.add(self.workspace.into()))
    }
}

/// Dates become the local midnights of `tz` (the day after `to`, which is inclusive).
fn resolve(
    db: &Db,
    tz: &str,
    from: Option<Bound>,
    to: Option<Bound>,
    now_ms: i64,
    default_days: i64,
) -> Result<(i64, i64), AppError> {
    let date = |b: &Option<Bound>| match b {
        Some(Bound::Date(d)) => Param::Str(d.format("%Y-%m-%d").to_string()),
        _ => Param::DbNull,
    };
    let (mut from_ms, mut to_ms) = (None, None);
    if let Some(Bound::Instant(ms)) = from {
        from_ms = Some(ms);
    }
    if let Some(Bound::Instant(ms)) = to {
        to_ms = Some(ms);
    }
    if matches!(from, Some(Bound::Date(_))) || matches!(to, Some(Bound::Date(_))) {
        let (f, t): (Option<i64>, Option<i64>) = db.query_one(
            &format!(
                "SELECT {} AS f, {} AS t",
                ms_of("($1::text::date)::timestamp AT TIME ZONE $3::text"),
                ms_of("($2::text::date + 1)::timestamp AT TIME ZONE $3::text")
            ),
            &[date(&from), date(&to), Param::Str(tz.to_string())],
            |r| Ok((r.get("f")?, r.get("t")?)),
        )?;
        from_ms = from_ms.or(f);
        to_ms = to_ms.or(t);
    }
    let to_ms = to_ms.unwrap_or(now_ms);
    let from_ms = from_ms.unwrap_or(to_ms - default_days * DAY_MS);
    Ok((from_ms, to_ms))
}
