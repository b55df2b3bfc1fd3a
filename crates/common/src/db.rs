//! PostgreSQL over Spin's `spin:postgres/postgres@4.0.0`: typed row decoding, transactions and
//! the mapping of database errors to API errors (unique violation → 409, connection → 503).
//!
//! Spin pools connections and recycles them without ending an open transaction, so a request
//! that trapped after `BEGIN` hands its transaction to whoever gets the connection next: that
//! request's writes would join it and never be committed, or its `COMMIT` would commit the
//! trapped request's half-done work. So every transaction of the app starts with
//! `BEGIN DEFERRABLE` (no effect outside `SERIALIZABLE READ ONLY`, and a mark that the pool's
//! `RESET ALL` keeps), and before a `Db`'s first statement runs, the mark is looked for: found,
//! the stale transaction is rolled back. The look is a column of the request's first query
//! where the caller can fold it in (the auth guard's query, see [`Db::query_first`]), else a
//! statement of its own. Transaction control outside [`Db::transaction`] is refused, so no
//! unmarked transaction can be left open.

use crate::config::Secret;
use crate::describe;
use crate::error::{AppError, Code};
use spin_sdk::pg4::{self, DbValue, ParameterValue, RowSet};
use std::cell::Cell;

pub use spin_sdk::pg4::ParameterValue as Param;

/// The SQL of the freshness column: false inside a transaction [`Db::transaction`] opened, which
/// a request's first statement can only be in when the connection came back inside one.
pub const FRESH_COLUMN: &str = "(current_setting('transaction_deferrable') = 'off') AS fresh";

/// One connection for the duration of a request.
pub struct Db {
    conn: pg4::Connection,
    /// Where it connected, for [`Db::another`].
    url: Secret<String>,
    /// Whether the connection is known to be outside any transaction left by an earlier request.
    checked: Cell<bool>,
}

impl Db {
    pub fn connect(url: &Secret<String>) -> Result<Db, AppError> {
        let conn = pg4::Connection::open(url.expose()).map_err(map_error)?;
        Ok(Db {
            conn,
            url: url.clone(),
            checked: Cell::new(false),
        })
    }

    /// A second connection to the same database, for work that runs concurrently with this
    /// connection's (a transaction held across an `await` must not take in the other's
    /// statements).
    pub fn another(&self) -> Result<Db, AppError> {
        Db::connect(&self.url)
    }

    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, AppError> {
        self.ensure_checked()?;
        self.conn.query(sql, params).map(Rows).map_err(map_error)
    }

    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, AppError> {
        if is_transaction_control(sql) {
            return Err(AppError::internal(format!(
                "transaction control outside Db::transaction: {sql}"
            )));
        }
        self.ensure_checked()?;
        self.conn.execute(sql, params).map_err(map_error)
    }

    /// The first row of `sql`, decoded by `decode`, or `None` when it answers no row: the one
    /// way to read a row that may not exist (`.ok_or_else(|| AppError::not_found(..))` at the
    /// call site when it must).
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[ParameterValue],
        decode: impl FnOnce(&Row<'_>) -> Result<T, AppError>,
    ) -> Result<Option<T>, AppError> {
        let rows = self.query(sql, params)?;
        rows.first().map(|row| decode(&row)).transpose()
    }

    /// The one row `sql` always answers (an aggregate, `RETURNING` of a write that cannot miss);
    /// no row is a bug in our SQL, so an internal error.
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[ParameterValue],
        decode: impl FnOnce(&Row<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.query_opt(sql, params, decode)?
            .ok_or_else(|| AppError::internal("a query that always answers one row answered none"))
    }

    /// Every row of `sql`, each decoded by `decode`.
    pub fn query_all<T>(
        &self,
        sql: &str,
        params: &[ParameterValue],
        mut decode: impl FnMut(&Row<'_>) -> Result<T, AppError>,
    ) -> Result<Vec<T>, AppError> {
        let rows = self.query(sql, params)?;
        let mut decoded = Vec::with_capacity(rows.len());
        for row in rows.iter() {
            decoded.push(decode(&row)?);
        }
        Ok(decoded)
    }

    /// Runs the request's first query with the freshness check folded in: `sql` selects
    /// [`FRESH_COLUMN`] and answers at least one row. If the connection turns out to be inside
    /// a transaction an earlier request left open, that transaction is rolled back and the query
    /// runs again. Later calls are plain queries.
    pub fn query_first(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, AppError> {
        if self.checked.get() {
            return self.query(sql, params);
        }
        let rows = self.query_unchecked(sql, params)?;
        let fresh = match rows.first() {
            Some(row) => row.get::<bool>("fresh")?,
            None => return Err(AppError::internal("query_first answered no row")),
        };
        if fresh {
            self.checked.set(true);
            return Ok(rows);
        }
        self.roll_back_stale()?;
        self.query(sql, params)
    }

    /// Runs `f` inside `BEGIN … COMMIT`; any error rolls back, so nothing is half-written.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.begin()?;
        match f(self) {
            Ok(value) => {
                self.commit()?;
                Ok(value)
            }
            Err(e) => {
                // A failed rollback leaves nothing committed either; the original error matters.
                let _ = self.rollback();
                Err(e)
            }
        }
    }

    /// Opens a transaction, for work that cannot run inside [`Db::transaction`]'s closure
    /// (an `await` under a row lock). The caller ends it with [`Db::commit`] or
    /// [`Db::rollback`] on every path.
    pub fn begin(&self) -> Result<(), AppError> {
        self.ensure_checked()?;
        // DEFERRABLE marks the transaction as the app's (see the module's documentation).
        self.conn
            .execute("BEGIN DEFERRABLE", &[])
            .map(|_| ())
            .map_err(map_error)
    }

    pub fn commit(&self) -> Result<(), AppError> {
        self.conn
            .execute("COMMIT", &[])
            .map(|_| ())
            .map_err(map_error)
    }

    pub fn rollback(&self) -> Result<(), AppError> {
        self.conn
            .execute("ROLLBACK", &[])
            .map(|_| ())
            .map_err(map_error)
    }

    fn query_unchecked(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, AppError> {
        match self.conn.query(sql, params) {
            Ok(rows) => Ok(Rows(rows)),
            // 25P02: inside a failed transaction. Spin's `Clean` recycling discards such
            // connections (its reset fails there), but should one come through: end it, go on.
            Err(pg4::PgError::QueryFailed(pg4::QueryError::DbError(db))) if db.code == "25P02" => {
                self.roll_back_stale()?;
                self.conn.query(sql, params).map(Rows).map_err(map_error)
            }
            Err(e) => Err(map_error(e)),
        }
    }

    fn ensure_checked(&self) -> Result<(), AppError> {
        if self.checked.get() {
            return Ok(());
        }
        self.query_first(&format!("SELECT {FRESH_COLUMN}"), &[])
            .map(|_| ())
    }

    /// Ends the transaction an earlier request left open on this pooled connection; none of its
    /// writes were ever committed, and none of ours may join them.
    fn roll_back_stale(&self) -> Result<(), AppError> {
        crate::log::emit(
            crate::log::Level::Warn,
            "",
            "rolled back a transaction left open on a pooled connection",
            serde_json::json!({}),
        );
        self.conn.execute("ROLLBACK", &[]).map_err(map_error)?;
        self.checked.set(true);
        Ok(())
    }
}

/// `BEGIN`, `COMMIT` and their kin, which only [`Db::transaction`] may send.
fn is_transaction_control(sql: &str) -> bool {
    let word: String = sql
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    matches!(
        word.as_str(),
        "BEGIN"
            | "START"
            | "COMMIT"
            | "END"
            | "ROLLBACK"
            | "ABORT"
            | "SAVEPOINT"
            | "RELEASE"
            | "PREPARE"
    )
}

/// A read by one SQL function call, which a handler runs on its own ([`Call::run`]) or lets the
/// guard fold into its own statement (`identity::Fold`), saving the read's statement and its two
/// round trips. Its arguments are the acting workspace, the caller's user id or values: on its
/// own they are the statement's parameters; folded, the first two are the guard's own answer.
pub struct Call {
    function: &'static str,
    args: Vec<Arg>,
}

/// An argument of a [`Call`].
pub enum Arg {
    /// The workspace the request acts in (the guard's `ws`).
    Workspace,
    /// The caller's user id (the guard's `id`).
    User,
    /// A value, with the SQL type it is cast to (`uuid`, `int8`, `text`, …).
    Value(Param, &'static str),
}

impl Call {
    pub fn new(function: &'static str, args: Vec<Arg>) -> Call {
        Call { function, args }
    }

    /// `function(args)`: the workspace and the user as `workspace` and `user` say, and each value
    /// as a parameter numbered from `first`, in order; with those values.
    pub fn sql(self, workspace: &str, user: &str, first: usize) -> (String, Vec<ParameterValue>) {
        let mut params = Vec::new();
        let args: Vec<String> = self
            .args
            .into_iter()
            .map(|arg| match arg {
                Arg::Workspace => workspace.to_string(),
                Arg::User => user.to_string(),
                Arg::Value(value, cast) => {
                    params.push(value);
                    format!("${}::{cast}", first + params.len() - 1)
                }
            })
            .collect();
        (format!("{}({})", self.function, args.join(", ")), params)
    }

    /// Runs the call on its own, `SELECT * FROM function(..)`, with the workspace and the user
    /// bound as parameters (NULL where not given).
    pub fn run(
        self,
        db: &Db,
        workspace: Option<uuid::Uuid>,
        user: Option<uuid::Uuid>,
    ) -> Result<Rows, AppError> {
        let bound =
            |id: Option<uuid::Uuid>| Arg::Value(id.map_or(Param::DbNull, Param::from), "uuid");
        let call = Call {
            function: self.function,
            args: self
                .args
                .into_iter()
                .map(|arg| match arg {
                    Arg::Workspace => bound(workspace),
                    Arg::User => bound(user),
                    value => value,
                })
                .collect(),
        };
        let (call, params) = call.sql("", "", 1);
        db.query(&format!("SELECT * FROM {call}"), &params)
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

    /// The columns after `marker` as a result set of their own: the rows of a read joined to
    /// another statement's row (`LEFT JOIN LATERAL (SELECT true AS marker, ..) ON true`), none
    /// when `marker` is NULL (the read answered no row, the join its one row of NULLs).
    pub fn after(self, marker: &str) -> Result<Rows, AppError> {
        let RowSet { columns, rows } = self.0;
        let at = columns
            .iter()
            .position(|c| c.name == marker)
            .ok_or_else(|| AppError::internal(format!("no column {marker} in result")))?;
        let rows = rows
            .into_iter()
            .filter(|values| !matches!(values.get(at), None | Some(DbValue::DbNull)))
            .map(|mut values| values.split_off(at + 1))
            .collect();
        Ok(Rows(RowSet {
            columns: columns.into_iter().skip(at + 1).collect(),
            rows,
        }))
    }
}

pub struct Row<'a> {
    set: &'a RowSet,
    values: &'a [DbValue],
}

impl Row<'_> {
    /// Decodes a column by name; a missing column or a type mismatch is an internal error
    /// (a bug in our SQL), never a client error.
    pub fn get<T: Column>(&self, column: &str) -> Result<T, AppError> {
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
        T::from_value(value).ok_or_else(|| {
            AppError::internal(format!(
                "column {column} did not decode: expected {}",
                T::EXPECTED
            ))
        })
    }
}

/// A type a column decodes into. The app's own trait rather than spin-sdk's `Decode`, whose
/// impls describe a mismatch with `{:?}` of the whole `DbValue`: that links the formatting of
/// every PostgreSQL type (floats, intervals, ranges, arrays) into every component, for a
/// message that only ever says "a bug in our SQL".
pub trait Column: Sized {
    /// What the column must hold, for the error when it does not.
    const EXPECTED: &'static str;
    /// The value, or `None` when the column holds something else.
    fn from_value(value: &DbValue) -> Option<Self>;
}

/// The text of a text column (for types stored as their name).
pub fn text(value: &DbValue) -> Option<&str> {
    match value {
        DbValue::Str(s) => Some(s),
        _ => None,
    }
}

/// `Column` for a type that is one `DbValue` variant.
macro_rules! column {
    ($t:ty, $expected:literal, $variant:ident, $v:ident => $out:expr) => {
        impl Column for $t {
            const EXPECTED: &'static str = $expected;
            fn from_value(value: &DbValue) -> Option<Self> {
                match value {
                    DbValue::$variant($v) => $out,
                    _ => None,
                }
            }
        }
    };
}

column!(bool, "boolean", Boolean, v => Some(*v));
column!(i16, "smallint", Int16, v => Some(*v));
column!(i32, "integer", Int32, v => Some(*v));
column!(i64, "bigint", Int64, v => Some(*v));
column!(f64, "double precision", Floating64, v => Some(*v));
column!(String, "text", Str, v => Some(v.clone()));
column!(Vec<u8>, "bytea", Binary, v => Some(v.clone()));
column!(uuid::Uuid, "uuid", Uuid, v => uuid::Uuid::parse_str(v).ok());
column!(serde_json::Value, "jsonb", Jsonb, v => serde_json::from_slice(v).ok());

impl<T: Column> Column for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(value: &DbValue) -> Option<Self> {
        match value {
            DbValue::DbNull => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// Maps a Postgres error by meaning. SQLSTATE classes: 23505 unique, 23503 foreign key,
/// 08 connection, 57P0x shutdown, 53 resources, 40001/40P01 serialization/deadlock, 22021/22P05
/// a U+0000 in text.
pub fn map_error(e: pg4::PgError) -> AppError {
    match &e {
        pg4::PgError::ConnectionFailed(msg) => AppError::server(
            Code::DbUnavailable,
            format!("postgres connection failed: {msg}"),
        ),
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => map_sqlstate(&db.code, &e),
        pg4::PgError::QueryFailed(pg4::QueryError::Text(msg))
            if looks_like_connection_loss(msg) =>
        {
            AppError::server(
                Code::DbUnavailable,
                format!("postgres connection lost: {msg}"),
            )
        }
        _ => AppError::internal(format!("postgres: {}", describe::pg_error(&e))),
    }
}

fn map_sqlstate(code: &str, e: &pg4::PgError) -> AppError {
    match code {
        "23505" => {
            AppError::conflict("The resource already exists").with_cause(describe::pg_error(e))
        }
        "23503" => AppError::conflict("A referenced resource does not exist or is still in use")
            .with_cause(describe::pg_error(e)),
        // PostgreSQL text (and jsonb) cannot hold U+0000. A Rust `String` is always valid UTF-8,
        // so "invalid byte sequence" (22021) and "unsupported Unicode escape" (22P05) can only
        // come from a NUL character the client sent, in any parameter of any query.
        "22021" | "22P05" => AppError::new(
            Code::NulInText,
            "Text must not contain the character U+0000",
        )
        .with_cause(describe::pg_error(e)),
        "40001" | "40P01" => AppError::new(Code::DbContention, "")
            .with_cause(describe::pg_error(e))
            .with_retry_after(1),
        c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
            AppError::server(Code::DbUnavailable, describe::pg_error(e)).with_retry_after(1)
        }
        _ => AppError::internal(describe::pg_error(e)),
    }
}

fn looks_like_connection_loss(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    // Spin passes tokio-postgres's `Debug` text: `Error { kind: Closed, .. }`, `kind: Io`.
    m.contains("connection closed")
        || m.contains("connection reset")
        || m.contains("broken pipe")
        || m.contains("kind: closed")
        || m.contains("kind: io")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_binds_its_values_after_the_statement_it_joins_and_names_the_guards_columns() {
        let id = uuid::Uuid::from_u128(7);
        let call = || {
            Call::new(
                "xmp_thing",
                vec![
                    Arg::Workspace,
                    Arg::Value(Param::from(id), "uuid"),
                    Arg::User,
                    Arg::Value(Param::Int64(3), "int8"),
                ],
            )
        };
        let (sql, params) = call().sql("a.ws", "a.id", 5);
        assert_eq!(sql, "xmp_thing(a.ws, $5::uuid, a.id, $6::int8)");
        assert_eq!(params.len(), 2);
        assert!(matches!(&params[0], ParameterValue::Uuid(u) if *u == id.to_string()));
        assert!(matches!(params[1], ParameterValue::Int64(3)));
        let (sql, params) = call().sql("", "", 1);
        assert_eq!(sql, "xmp_thing(, $1::uuid, , $2::int8)");
        assert_eq!(params.len(), 2);
    }

    fn joined(rows: Vec<Vec<DbValue>>) -> Rows {
        let column = |name: &str| pg4::Column {
            name: name.into(),
            data_type: pg4::DbDataType::Str,
        };
        Rows(RowSet {
            columns: vec![column("id"), column("folded"), column("id"), column("text")],
            rows,
        })
    }

    #[test]
    fn the_rows_after_a_marker_are_the_joined_reads_own_and_none_when_it_answered_none() {
        let s = |v: &str| DbValue::Str(v.into());
        let read = joined(vec![
            vec![s("guard"), DbValue::Boolean(true), s("p1"), s("one")],
            vec![s("guard"), DbValue::Boolean(true), s("p2"), s("two")],
        ])
        .after("folded")
        .unwrap();
        let ids: Vec<String> = read.iter().map(|r| r.get("id").unwrap()).collect();
        assert_eq!(ids, ["p1", "p2"]);
        assert_eq!(read.first().unwrap().get::<String>("text").unwrap(), "one");

        let none = joined(vec![vec![
            s("guard"),
            DbValue::DbNull,
            DbValue::DbNull,
            DbValue::DbNull,
        ]])
        .after("folded")
        .unwrap();
        assert!(none.is_empty());
        assert!(joined(vec![]).after("absent").is_err());
    }

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
    fn transaction_control_is_recognised_so_only_db_transaction_sends_it() {
        let cases = [
            ("BEGIN", true),
            ("  begin isolation level serializable", true),
            ("START TRANSACTION", true),
            ("commit", true),
            ("ROLLBACK", true),
            ("SAVEPOINT a", true),
            ("SELECT 1", false),
            ("UPDATE posts SET status = 'begin'", false),
            ("WITH x AS (SELECT 1) SELECT * FROM x", false),
        ];
        for (sql, expected) in cases {
            assert_eq!(is_transaction_control(sql), expected, "{sql}");
        }
    }

    #[test]
    fn postgres_errors_map_by_meaning() {
        let cases = [
            (db_error("23505"), 409, "unique violation"),
            (db_error("23503"), 409, "foreign key"),
            (db_error("08006"), 503, "connection failure"),
            (db_error("57P01"), 503, "admin shutdown"),
            (db_error("40001"), 503, "serialization failure"),
            (db_error("22021"), 422, "U+0000 in a text parameter"),
            (db_error("22P05"), 422, "U+0000 in a jsonb parameter"),
            (db_error("42601"), 500, "syntax error is our bug"),
            (
                pg4::PgError::QueryFailed(pg4::QueryError::Text(
                    "Error { kind: Closed, cause: None }".into(),
                )),
                503,
                "a connection lost mid-query, as Spin reports it",
            ),
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
