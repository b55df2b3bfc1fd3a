//! Bulk import: both formats, row numbering, per-row errors and the file-level limits.

use super::*;
use crate::compose::When;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn no_media(_: &str) -> Option<MediaKind> {
    None
}

fn run(format: Format, body: &str) -> Vec<RowResult> {
    parse(format, body, now(), no_media).expect("file accepted")
}

fn row_errors(results: &[RowResult]) -> Vec<(usize, Option<String>)> {
    results
        .iter()
        .filter_map(|r| r.outcome.as_ref().err())
        .flatten()
        .map(|e| (e.row, e.field.clone()))
        .collect()
}

#[test]
fn csv_rows_become_drafts_with_quoting_and_crlf() {
    let account = uuid::Uuid::new_v4();
    let body = format!(
        "content,accountId,scheduledAt\r\n\
         \"Hello, world\",{account},2026-03-02T09:00:00+01:00\r\n\
         \"Two\r\nlines with \"\"quotes\"\"\",,\r\n"
    );
    let results = run(Format::Csv, &body);
    assert_eq!(results.len(), 2);
    let first = results[0].outcome.as_ref().unwrap();
    assert_eq!(first.parts[0].text.as_str(), "Hello, world");
    assert_eq!(first.account_id, Some(account));
    assert_eq!(
        first.when,
        When::At(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap())
    );
    let second = results[1].outcome.as_ref().unwrap();
    assert_eq!(
        second.parts[0].text.as_str(),
        "Two\r\nlines with \"quotes\""
    );
    assert_eq!(second.when, When::NextFreeSlot, "no time: the queue");
}

#[test]
fn csv_columns_may_be_reordered_or_omitted_but_not_unknown() {
    let results = run(
        Format::Csv,
        " ScheduledAt , CONTENT\n2026-03-02T09:00:00Z,hi\n",
    );
    assert!(matches!(
        results[0].outcome.as_ref().unwrap().when,
        When::At(_)
    ));
    let cases = [
        ("content,when\nx,y", "unknown CSV column \"when\""),
        (
            "content,content\nx,y",
            "CSV column \"content\" appears twice",
        ),
        ("accountId\nx", "the CSV header must have a content column"),
        ("", "the CSV file is empty"),
        (
            "content\n\"open",
            "CSV line 2: a quoted field is never closed",
        ),
    ];
    for (body, message) in cases {
        let err = parse(Format::Csv, body, now(), no_media).unwrap_err();
        assert_eq!(
            (err.status(), err.message.as_str()),
            (422, message),
            "{body:?}"
        );
    }
}

#[test]
fn csv_row_numbers_exclude_the_header_and_count_as_the_user_sees_them() {
    let body = "content,scheduledAt\nfine,\n\n,\nx,yesterday\ntoo,many,fields\n";
    let results = run(Format::Csv, body);
    let rows: Vec<_> = results.iter().map(|r| r.row).collect();
    assert_eq!(
        rows,
        [1, 3, 4, 5],
        "the blank line 2 is skipped but keeps its number"
    );
    assert_eq!(
        row_errors(&results),
        [
            (3, Some("content".into())),
            (4, Some("scheduledAt".into())),
            (5, None)
        ]
    );
}

#[test]
fn json_rows_are_full_post_requests() {
    let body = r#"[
        {"content": "queued"},
        {"content": "draft", "status": "draft"},
        {"content": "", "replyTo": "x"},
        {"content": "x", "bogus": 1},
        "not an object"
    ]"#;
    let results = run(Format::Json, body);
    assert_eq!(
        results[0].outcome.as_ref().unwrap().when,
        When::NextFreeSlot
    );
    assert_eq!(results[1].outcome.as_ref().unwrap().when, When::Unscheduled);
    assert_eq!(
        row_errors(&results),
        [
            (3, Some("content".into())),
            (3, Some("replyTo".into())),
            (4, None),
            (5, None)
        ]
    );
    let unknown = results[3].outcome.as_ref().unwrap_err();
    assert!(
        unknown[0].message.contains("unknown field `bogus`"),
        "{unknown:?}"
    );
}

#[test]
fn the_file_itself_must_be_an_array_of_at_most_500_rows() {
    let object = parse(Format::Json, r#"{"content": "x"}"#, now(), no_media).unwrap_err();
    assert_eq!(object.status(), 422);
    assert_eq!(
        parse(Format::Json, "[", now(), no_media)
            .unwrap_err()
            .status(),
        400
    );

    let rows = |n: usize| format!("content\n{}", "post\n".repeat(n));
    assert_eq!(run(Format::Csv, &rows(MAX_ROWS)).len(), MAX_ROWS);
    let err = parse(Format::Csv, &rows(MAX_ROWS + 1), now(), no_media).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.details.as_ref().unwrap()["rows"], 501);
}

#[test]
fn all_valid_returns_drafts_or_one_422_with_every_row_error() {
    let good = run(Format::Csv, "content\na\nb\n");
    assert_eq!(all_valid(good).unwrap().len(), 2);
    let bad = run(Format::Csv, "content,scheduledAt\n,\nok,\nx,nope\n");
    let err = all_valid(bad).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.message, "2 of the imported rows are invalid");
    assert_eq!(
        err.details.as_ref().unwrap()["errors"],
        json!([
            {"row": 1, "field": "content", "message": "text must not be empty"},
            {"row": 3, "field": "scheduledAt",
             "message": "must be an RFC 3339 date-time with an offset, e.g. 2026-05-01T09:30:00+02:00"}
        ])
    );
}

#[test]
fn formats_are_chosen_by_content_type() {
    assert_eq!(
        Format::from_content_type("text/csv; charset=utf-8"),
        Some(Format::Csv)
    );
    assert_eq!(
        Format::from_content_type("Application/JSON"),
        Some(Format::Json)
    );
    assert_eq!(Format::from_content_type("text/plain"), None);
}
