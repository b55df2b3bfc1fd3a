//! Cursor pagination shared by the lists (accounts, posts, engagements): `?limit=` between 1 and
//! 100 and an opaque cursor naming the last row's (creation microsecond, id). Rows inserted while
//! a client pages sort before the cursor or after it, never in between, so pages neither repeat
//! nor skip rows.

use crate::error::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use uuid::Uuid;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

/// A 422 naming the query parameter at fault.
pub fn invalid(field: &str, message: &str) -> AppError {
    AppError::validation(message).with_details(json!({ "field": field }))
}

/// `?limit=`: absent or empty → 50; otherwise 1 to 100.
pub fn limit(raw: Option<String>) -> Result<usize, AppError> {
    match raw.filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| invalid("limit", "limit must be between 1 and 100")),
    }
}

/// `?cursor=`: absent or empty → the first page.
pub fn cursor(raw: Option<String>) -> Result<Option<(i64, Uuid)>, AppError> {
    raw.filter(|c| !c.is_empty())
        .map(|c| decode(&c).ok_or_else(|| invalid("cursor", "invalid cursor")))
        .transpose()
}

/// The cursor after the row created at `created_us` (Unix microseconds) with `id`.
pub fn encode(created_us: i64, id: impl std::fmt::Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_us}.{id}"))
}

/// The cursor of a row as PostgreSQL wrote it (`'<microseconds>.<id>'`).
pub fn encode_text(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

pub fn decode(raw: &str) -> Option<(i64, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (us, id) = text.split_once('.')?;
    Some((us.parse().ok()?, Uuid::parse_str(id).ok()?))
}

/// A query-string reader over fixed pairs, for tests of the `from_query` parsers (here and in
/// the domain crates, whose unit tests cannot see a `#[cfg(test)]` item of this crate).
pub fn query_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let c = encode(1_700_000_000_123_456, id);
        assert_eq!(decode(&c), Some((1_700_000_000_123_456, id)));
        assert_eq!(encode_text(&format!("1700000000123456.{id}")), c);
        assert_eq!(decode("not a cursor"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("12.nope")), None);
        assert_eq!(cursor(Some("%%%".into())).unwrap_err().status(), 422);
        assert_eq!(cursor(Some(String::new())).unwrap(), None);
    }

    #[test]
    fn limits_are_1_to_100_with_50_by_default() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some(String::new())).unwrap(), 50);
        assert_eq!(limit(Some("100".into())).unwrap(), 100);
        for bad in ["0", "101", "x", "-1"] {
            assert_eq!(limit(Some(bad.into())).unwrap_err().status(), 422, "{bad}");
        }
    }
}
