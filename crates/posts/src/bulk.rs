//! Bulk import: up to 500 posts from a JSON array or a CSV file (`content,accountId,scheduledAt`).
//!
//! Each row is validated like a single post (`compose::check`) and gets its own result, so the
//! caller can show every problem of a file at once, row by row, numbered as the user sees them
//! (the first row after the CSV header, or the first array element, is row 1).
//!
//! Import is for scheduling: a row with no `scheduledAt` goes to the account's queue (its next
//! free posting slot). JSON rows may say `"status": "draft"` to import drafts instead.

use crate::compose::{self, Draft, PostRequest};
use crate::csv;
use crate::media::MediaKind;
use chrono::{DateTime, Utc};
use common::error::AppError;
use serde::Serialize;
use serde_json::{json, Value};

pub const MAX_ROWS: usize = 500;
/// The CSV columns, as the header names them (case and surrounding spaces are ignored).
pub const CSV_COLUMNS: [&str; 3] = ["content", "accountId", "scheduledAt"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// `application/json` or `text/csv` (parameters ignored).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Some(Format::Json),
            "text/csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// One problem of one row. `field` is `null` when the row as a whole is wrong (wrong number of
/// CSV fields, not a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowResult {
    pub row: usize,
    pub outcome: Result<Draft, Vec<RowError>>,
}

/// Reads and validates every row. Errors of the file itself (not JSON or CSV, bad header, more
/// than [`MAX_ROWS`] rows) are one `AppError`; errors of rows are in their [`RowResult`].
pub fn parse(
    format: Format,
    body: &str,
    now: DateTime<Utc>,
    media: impl Fn(&str) -> Option<MediaKind>,
) -> Result<Vec<RowResult>, AppError> {
    let rows = match format {
        Format::Json => json_rows(body)?,
        Format::Csv => csv_rows(body)?,
    };
    if rows.len() > MAX_ROWS {
        return Err(AppError::validation(format!(
            "at most {MAX_ROWS} rows per import, found {}",
            rows.len()
        ))
        .with_details(json!({ "maxRows": MAX_ROWS, "rows": rows.len() })));
    }
    Ok(rows
        .into_iter()
        .map(|(row, request)| {
            let outcome = request.and_then(|mut req| {
                if req.scheduled_at.is_none() && req.queue.is_none() && req.status.is_none() {
                    req.queue = Some(true);
                }
                compose::check(&req, now, &media).map_err(|errors| {
                    errors
                        .into_iter()
                        .map(|e| RowError {
                            row,
                            field: Some(e.field),
                            message: e.message,
                        })
                        .collect()
                })
            });
            RowResult { row, outcome }
        })
        .collect())
}

/// All-or-nothing: the drafts in row order, or one 422 listing every row error
/// (`details.errors: [{row, field, message}]`).
pub fn all_valid(results: Vec<RowResult>) -> Result<Vec<Draft>, AppError> {
    let mut drafts = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results {
        match result.outcome {
            Ok(draft) => drafts.push(draft),
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    if errors.is_empty() {
        return Ok(drafts);
    }
    let rows = {
        let mut rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
        rows.dedup();
        rows.len()
    };
    Err(
        AppError::validation(format!("{rows} of the imported rows are invalid"))
            .with_details(json!({ "errors": errors })),
    )
}

type Rows = Vec<(usize, Result<PostRequest, Vec<RowError>>)>;

fn json_rows(body: &str) -> Result<Rows, AppError> {
    let Value::Array(items) = serde_json::from_str::<Value>(body)? else {
        return Err(AppError::validation("expected a JSON array of posts"));
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let row = i + 1;
            let request = serde_json::from_value::<PostRequest>(item).map_err(|e| {
                vec![RowError {
                    row,
                    field: None,
                    message: AppError::from(e).message.clone(),
                }]
            });
            (row, request)
        })
        .collect())
}

fn csv_rows(body: &str) -> Result<Rows, AppError> {
    let records = csv::parse(body).map_err(|e| {
        AppError::validation(format!("CSV line {}: {}", e.line, e.message))
            .with_details(json!({ "line": e.line }))
    })?;
    let mut records = records.into_iter();
    let header = records
        .next()
        .ok_or_else(|| AppError::validation("the CSV file is empty"))?;
    let columns = header_columns(&header.fields)?;
    Ok(records
        .enumerate()
        .filter(|(_, record)| !record.is_blank())
        .map(|(i, record)| {
            let row = i + 1;
            if record.fields.len() != columns.len() {
                let message = format!(
                    "expected {} fields, found {} (line {})",
                    columns.len(),
                    record.fields.len(),
                    record.line
                );
                let error = RowError {
                    row,
                    field: None,
                    message,
                };
                return (row, Err(vec![error]));
            }
            let mut req = PostRequest::default();
            for (column, value) in columns.iter().zip(record.fields) {
                let value = (!value.trim().is_empty()).then_some(value);
                match *column {
                    "content" => req.content = value.unwrap_or_default(),
                    "accountId" => req.account_id = value,
                    _ => req.scheduled_at = value,
                }
            }
            (row, Ok(req))
        })
        .collect())
}

/// The header's columns as [`CSV_COLUMNS`] spell them; `content` is required, any order.
fn header_columns(header: &[String]) -> Result<Vec<&'static str>, AppError> {
    let mut columns = Vec::with_capacity(header.len());
    for name in header {
        let known = CSV_COLUMNS
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| header_error(format!("unknown CSV column {:?}", name.trim())))?;
        if columns.contains(known) {
            return Err(header_error(format!("CSV column {known:?} appears twice")));
        }
        columns.push(*known);
    }
    if !columns.contains(&"content") {
        return Err(header_error(
            "the CSV header must have a content column".into(),
        ));
    }
    Ok(columns)
}

fn header_error(message: String) -> AppError {
    AppError::validation(message).with_details(json!({ "expectedHeader": CSV_COLUMNS.join(",") }))
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
