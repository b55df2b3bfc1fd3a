//! PostgreSQL over Spin's `spin:postgres/postgres@4.0.0`: typed row decoding, transactions and
//! the mapping of database errors to API errors (unique violation → 409, connection → 503).

use crate::config::Secret;
use crate::error::{AppError, ErrorKind};
use spin_sdk::pg4::{self, DbValue, Decode, ParameterValue, RowSet};

pub use spin_sdk::pg4::ParameterValue as Param;

/// One connection for the duration of a request.
pub struct Db {
    conn: pg4::Connection,
}

impl Db {
    pub fn connect(url: &Secret<String>) -> Result<Db, AppError> {
        let conn = pg4::Connection::open(url.expose()).map_err(map_error)?;
        Ok(Db { conn })
    }

    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, AppError> {
        self.conn.query(sql, params).map(Rows).map_err(map_error)
    }

    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, AppError> {
        self.conn.execute(sql, params).map_err(map_error)
    }

    /// Runs `f` inside `BEGIN … COMMIT`; any error rolls back, so nothing is half-written.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.execute("BEGIN", &[])?;
        match f(self) {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(e) => {
                // A failed rollback leaves nothing committed either; the original error matters.
                let _ = self.execute("ROLLBACK", &[]);
                Err(e)
            }
        }
    }
}

/// A result set with typed, by-name access.
pub struct Rows(RowSet);

impl Rows {
    pub fn len(&self) -> usize {
        self.0.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.0.rows.iter().map(move |values| Row {
            set: &self.0,
            values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

pub struct Row<'a> {
    set: &'a RowSet,
    values: &'a [DbValue],
}

impl Row<'_> {
    /// Decodes a column by name; a missing column or a type mismatch is an internal error
    /// (a bug in our SQL), never a client error.
    pub fn get<T: Decode>(&self, column: &str) -> Result<T, AppError> {
        let i = self
            .set
            .columns
            .iter()
            .position(|c| c.name == column)
            .ok_or_else(|| AppError::internal(format!("no column {column} in result")))?;
        let value = self
            .values
            .get(i)
            .ok_or_else(|| AppError::internal(format!("no value for column {column}")))?;
        T::decode(value)
            .map_err(|e| AppError::internal(format!("column {column} did not decode: {e}")))
    }
}

/// Maps a Postgres error by meaning. SQLSTATE classes: 23505 unique, 23503 foreign key,
/// 08 connection, 57P0x shutdown, 53 resources, 40001/40P01 serialization/deadlock.
pub fn map_error(e: pg4::PgError) -> AppError {
    match &e {
        pg4::PgError::ConnectionFailed(msg) => {
            AppError::unavailable("DB_001", format!("postgres connection failed: {msg}"))
        }
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => map_sqlstate(&db.code, &e),
        pg4::PgError::QueryFailed(pg4::QueryError::Text(msg))
            if looks_like_connection_loss(msg) =>
        {
            AppError::unavailable("DB_001", format!("postgres connection lost: {msg}"))
        }
        _ => AppError::internal(format!("postgres: {e:?}")),
    }
}

fn map_sqlstate(code: &str, e: &pg4::PgError) -> AppError {
    match code {
        "23505" => AppError::conflict("The resource already exists").with_cause(format!("{e:?}")),
        "23503" => AppError::conflict("A referenced resource does not exist or is still in use")
            .with_cause(format!("{e:?}")),
        "40001" | "40P01" => AppError::new(ErrorKind::ServiceUnavailable, "DB_002", "")
            .with_cause(format!("{e:?}"))
            .with_retry_after(1),
        c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
            AppError::unavailable("DB_001", format!("{e:?}")).with_retry_after(1)
        }
        _ => AppError::internal(format!("{e:?}")),
    }
}

fn looks_like_connection_loss(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("connection closed") || m.contains("connection reset") || m.contains("broken pipe")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_error(code: &str) -> pg4::PgError {
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(pg4::DbError {
            as_text: "secret internals".into(),
            severity: "ERROR".into(),
            code: code.into(),
            message: "duplicate key value violates unique constraint".into(),
            detail: None,
            extras: vec![],
        }))
    }

    #[test]
    fn postgres_errors_map_by_meaning() {
        let cases = [
            (db_error("23505"), 409, "unique violation"),
            (db_error("23503"), 409, "foreign key"),
            (db_error("08006"), 503, "connection failure"),
            (db_error("57P01"), 503, "admin shutdown"),
            (db_error("40001"), 503, "serialization failure"),
            (db_error("42601"), 500, "syntax error is our bug"),
            (
                pg4::PgError::ConnectionFailed("refused".into()),
                503,
                "connect failed",
            ),
        ];
        for (err, status, why) in cases {
            let mapped = map_error(err);
            assert_eq!(mapped.status(), status, "{why}");
            let body = mapped.envelope("c", "t").to_string();
            assert!(!body.contains("secret internals"), "{why}: {body}");
        }
    }
}
