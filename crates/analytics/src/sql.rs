//! SQL fragments the report queries share.

/// The engagements of a row of counters, by THE formula: likes + reposts + quotes + replies +
/// bookmarks, plus URL and profile clicks where X returned them.
pub fn engagements(p: &str) -> String {
    format!(
        "(coalesce({p}likes, 0) + coalesce({p}reposts, 0) + coalesce({p}quotes, 0)
          + coalesce({p}replies, 0) + coalesce({p}bookmarks, 0) + coalesce({p}url_clicks, 0)
          + coalesce({p}profile_clicks, 0))"
    )
}

/// A period's rate: Σ engagements ÷ Σ impressions (NULL without impressions).
pub fn rate(engagements: &str, impressions: &str) -> String {
    format!("({engagements})::float8 / nullif({impressions}, 0)")
}

/// An instant as local wall time in `tz` with its UTC offset: `2026-11-01T01:00-04:00`.
pub fn local_iso(ts: &str, tz: &str) -> String {
    format!(
        "(SELECT to_char(l, 'YYYY-MM-DD\"T\"HH24:MI')
                 || CASE WHEN o < 0 THEN '-' ELSE '+' END
                 || lpad((abs(o) / 60)::text, 2, '0') || ':' || lpad((abs(o) % 60)::text, 2, '0')
          FROM (SELECT ({ts}) AT TIME ZONE {tz} AS l,
                       (extract(epoch FROM (({ts}) AT TIME ZONE {tz}) - (({ts}) AT TIME ZONE 'UTC'))
                        / 60)::int AS o) z)"
    )
}

/// The counters summed by the rollups, in API order: (column, API name).
pub const ROLLUP_METRICS: &[(&str, &str)] = &[
    ("impressions", "impressions"),
    ("engagements", "engagements"),
    ("likes", "likes"),
    ("reposts", "reposts"),
    ("quotes", "quotes"),
    ("replies", "replies"),
    ("bookmarks", "bookmarks"),
    ("url_clicks", "urlClicks"),
    ("profile_clicks", "profileClicks"),
];

/// `sum(col)::int8 AS col, …` over the rollup metrics.
pub fn rollup_sums(alias: &str) -> String {
    ROLLUP_METRICS
        .iter()
        .map(|(c, _)| format!("coalesce(sum({alias}.{c}), 0)::int8 AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
