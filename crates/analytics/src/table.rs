//! Result rows as the API answers them: JSON objects with camelCase keys, or CSV with a header
//! row (`Accept: text/csv`), from one column list, so both forms always agree.

use common::db::Rows;
use common::error::AppError;
use serde_json::{Map, Value};

/// How a column decodes.
#[derive(Clone, Copy)]
pub enum Kind {
    Int,
    Float,
    Text,
    /// Written as the hyphenated lowercase text PostgreSQL writes.
    Uuid,
    Bool,
}

/// (SQL column, API name, kind).
pub type Column = (&'static str, &'static str, Kind);

/// Decoded rows in column order.
pub struct Table {
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn from_rows(columns: &'static [Column], rows: &Rows) -> Result<Table, AppError> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows.iter() {
            let mut values = Vec::with_capacity(columns.len());
            for (sql, _, kind) in columns {
                let v = match kind {
                    Kind::Int => r.get::<Option<i64>>(sql)?.map_or(Value::Null, Value::from),
                    Kind::Float => r
                        .get::<Option<f64>>(sql)?
                        .and_then(|f| serde_json::Number::from_f64(round6(f)))
                        .map_or(Value::Null, Value::Number),
                    Kind::Text => r
                        .get::<Option<String>>(sql)?
                        .map_or(Value::Null, Value::from),
                    Kind::Uuid => r
                        .get::<Option<uuid::Uuid>>(sql)?
                        .map_or(Value::Null, |u| Value::from(u.to_string())),
                    Kind::Bool => r.get::<Option<bool>>(sql)?.map_or(Value::Null, Value::from),
                };
                values.push(v);
            }
            out.push(values);
        }
        Ok(Table { columns, rows: out })
    }

    pub fn items(&self) -> Vec<Value> {
        self.rows.iter().map(|r| self.item(r)).collect()
    }

    pub fn item(&self, row: &[Value]) -> Value {
        let mut o = Map::new();
        for ((_, name, _), v) in self.columns.iter().zip(row) {
            o.insert((*name).to_string(), v.clone());
        }
        Value::Object(o)
    }

    /// RFC 4180 CSV: a header row, CRLF line ends, NULL as an empty field.
    pub fn csv(&self) -> Vec<u8> {
        let mut out = String::new();
        let header: Vec<&str> = self.columns.iter().map(|(_, n, _)| *n).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let fields: Vec<String> = row.iter().map(csv_field).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out.into_bytes()
    }
}

/// Rates are ratios: six decimals are plenty and keep the answers stable.
pub fn round6(f: f64) -> f64 {
    (f * 1e6).round() / 1e6
}

fn csv_field(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => {
            // A leading =, +, - or @ would be a formula in a spreadsheet: quote-prefix it.
            let s = if s.starts_with(['=', '+', '-', '@']) {
                format!("'{s}")
            } else {
                s.clone()
            };
            if s.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be_and_formulas_are_defused() {
        assert_eq!(csv_field(&json!("plain")), "plain");
        assert_eq!(csv_field(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_field(&json!("say \"hi\"\n")), "\"say \"\"hi\"\"\n\"");
        assert_eq!(csv_field(&json!("=SUM(A1)")), "'=SUM(A1)");
        assert_eq!(csv_field(&Value::Null), "");
        assert_eq!(csv_field(&json!(12)), "12");
        assert_eq!(csv_field(&json!(0.25)), "0.25");
    }
}
