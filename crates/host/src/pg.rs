//! `spin:postgres/postgres@4.0.0` over tokio-postgres, exactly as Spin 3.5 does it: one pool per
//! address (up to 64 connections each), recycled with deadpool's `Clean` method, TLS unless the
//! address says `sslmode=disable` (with certificate verification against the system's roots,
//! through OpenSSL as Spin's `native-tls`), every statement prepared unnamed per call.
//! Addresses are checked against the component's `allowed_outbound_hosts` (`postgres://host:port`)
//! before connecting.
//!
//! Two of Spin's sharp edges are reproduced on purpose, so that code which passes here passes on
//! Spin: a `timestamptz` column cannot be read (Spin decodes date-times as `NaiveDateTime`), and
//! a connection handed back inside a transaction (a guest that trapped after `BEGIN`) goes back
//! to the pool with its transaction still open: `Clean` resets the session but does not roll
//! back. The app must detect that itself (`common::db`).

// The error type is fixed by the WIT interface; boxing it would only add conversions.
#![allow(clippy::result_large_err)]

use crate::bindings::spin::postgres::postgres::{
    self as pgw, Column, DbDataType, DbError, DbValue, Error as PgError, ParameterValue,
    QueryError, RowSet,
};
use crate::outbound::OutboundPolicy;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

/// Spin's `CONNECTION_POOL_SIZE`.
pub const POOL_SIZE: usize = 64;

/// Spin's `CONNECTION_POOL_CACHE_CAPACITY`: pools are kept for at most this many addresses; a
/// new address past it evicts one (Spin's cache evicts by its own policy; here the least
/// recently used), whose idle connections then close.
pub const POOL_ADDRESSES: usize = 16;

/// A pooled connection held by a guest. Dropping it hands it back to the pool as it is.
pub struct PgConnection {
    client: deadpool_postgres::Object,
}

/// Pools shared by every instance of every component of the app, keyed by address, each with
/// the tick of its last use (for eviction).
#[derive(Clone, Default)]
pub struct PgPools {
    pools: Arc<Mutex<Pools>>,
}

#[derive(Default)]
struct Pools {
    by_address: HashMap<String, (Pool, u64)>,
    ticks: u64,
}

impl PgPools {
    pub async fn connect(
        &self,
        address: &str,
        policy: &OutboundPolicy,
    ) -> Result<PgConnection, PgError> {
        let config = tokio_postgres::Config::from_str(address)
            .map_err(|e| PgError::ConnectionFailed(format!("invalid address: {e}")))?;
        let ports = config.get_ports();
        for (i, host) in config.get_hosts().iter().enumerate() {
            let tokio_postgres::config::Host::Tcp(name) = host else {
                return Err(PgError::ConnectionFailed(
                    "Unix sockets are not supported on WebAssembly".into(),
                ));
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            if !policy.allows("postgres", name, Some(port)) {
                return Err(PgError::ConnectionFailed(format!(
                    "address postgres://{name}:{port} is not permitted"
                )));
            }
        }
        let pool = self.pool(address, config)?;
        // Like Spin: no wait or create timeout beyond the address's own `connect_timeout`.
        let client = pool
            .get()
            .await
            .map_err(|e| PgError::ConnectionFailed(format!("{e:?}")))?;
        Ok(PgConnection { client })
    }

    fn pool(&self, address: &str, config: tokio_postgres::Config) -> Result<Pool, PgError> {
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| PgError::Other("pool lock poisoned".into()))?;
        pools.ticks += 1;
        let tick = pools.ticks;
        if let Some((pool, used)) = pools.by_address.get_mut(address) {
            *used = tick;
            return Ok(pool.clone());
        }
        if pools.by_address.len() >= POOL_ADDRESSES {
            let oldest = pools
                .by_address
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(a, _)| a.clone());
            if let Some(oldest) = oldest {
                pools.by_address.remove(&oldest);
            }
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        };
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            let connector = native_tls::TlsConnector::builder()
                .build()
                .map_err(|e| PgError::Other(format!("TLS: {e}")))?;
            Manager::from_config(
                config,
                postgres_native_tls::MakeTlsConnector::new(connector),
                manager_config,
            )
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| PgError::Other(format!("{e}")))?;
        pools
            .by_address
            .insert(address.to_string(), (pool.clone(), tick));
        Ok(pool)
    }
}

impl PgConnection {
    fn client(&self) -> &tokio_postgres::Client {
        self.client.as_ref()
    }

    pub async fn query(
        &self,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, PgError> {
        let params = to_params(params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = self
            .client()
            .query(statement, &refs)
            .await
            .map_err(query_error)?;
        // Like Spin: the columns are read off the first row, so an empty result has none.
        let Some(first) = rows.first() else {
            return Ok(RowSet {
                columns: vec![],
                rows: vec![],
            });
        };
        let columns: Vec<Column> = first
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_string(),
                data_type: data_type(c.type_()),
            })
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(columns.len());
            for (i, col) in row.columns().iter().enumerate() {
                values.push(value(row, i, col.type_())?);
            }
            out.push(values);
        }
        Ok(RowSet { columns, rows: out })
    }

    pub async fn execute(
        &self,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> Result<u64, PgError> {
        let params = to_params(params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        // Like Spin: the extended protocol even without parameters, so one statement per call.
        self.client()
            .execute(statement, &refs)
            .await
            .map_err(query_error)
    }
}

/// As Spin reports a failed statement: the error's `Debug` text, with the database's fields when
/// PostgreSQL answered (a lost connection is a `QueryFailed` text, not `ConnectionFailed`).
fn query_error(e: tokio_postgres::Error) -> PgError {
    let flattened = format!("{e:?}");
    match e.as_db_error() {
        Some(db) => PgError::QueryFailed(QueryError::DbError(DbError {
            as_text: flattened,
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras: vec![],
        })),
        None => PgError::QueryFailed(QueryError::Text(flattened)),
    }
}

type Param = Box<dyn ToSql + Sync + Send>;

fn to_params(params: Vec<ParameterValue>) -> Result<Vec<Param>, PgError> {
    params.into_iter().map(to_param).collect()
}

fn to_param(p: ParameterValue) -> Result<Param, PgError> {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    let bad = |what: &str| PgError::BadParameter(what.to_string());
    Ok(match p {
        ParameterValue::Boolean(v) => Box::new(v),
        ParameterValue::Int8(v) => Box::new(v),
        ParameterValue::Int16(v) => Box::new(v),
        ParameterValue::Int32(v) => Box::new(v),
        ParameterValue::Int64(v) => Box::new(v),
        ParameterValue::Floating32(v) => Box::new(v),
        ParameterValue::Floating64(v) => Box::new(v),
        ParameterValue::Str(v) => Box::new(v),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::Date((y, m, d)) => Box::new(
            NaiveDate::from_ymd_opt(y, m.into(), d.into()).ok_or_else(|| bad("invalid date"))?,
        ),
        ParameterValue::Time((h, mi, s, ns)) => Box::new(
            NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
                .ok_or_else(|| bad("invalid time"))?,
        ),
        ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
            let date = NaiveDate::from_ymd_opt(y, mo.into(), d.into())
                .ok_or_else(|| bad("invalid date"))?;
            let time = NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
                .ok_or_else(|| bad("invalid time"))?;
            Box::new(NaiveDateTime::new(date, time))
        }
        ParameterValue::Timestamp(secs) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)
                .ok_or_else(|| bad("invalid timestamp"))?,
        ),
        ParameterValue::Uuid(s) => {
            Box::new(uuid::Uuid::parse_str(&s).map_err(|e| bad(&format!("invalid uuid: {e}")))?)
        }
        ParameterValue::Jsonb(bytes) => Box::new(
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map_err(|e| bad(&format!("invalid json: {e}")))?,
        ),
        ParameterValue::ArrayInt32(v) => Box::new(v),
        ParameterValue::ArrayInt64(v) => Box::new(v),
        ParameterValue::ArrayStr(v) => Box::new(v),
        ParameterValue::DbNull => Box::new(Null),
        ParameterValue::Decimal(_)
        | ParameterValue::RangeInt32(_)
        | ParameterValue::RangeInt64(_)
        | ParameterValue::RangeDecimal(_)
        | ParameterValue::ArrayDecimal(_)
        | ParameterValue::Interval(_) => {
            return Err(bad(
                "this host does not support decimal, range or interval parameters",
            ))
        }
    })
}

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// The raw wire bytes of a column of a type the interface does not model.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

fn data_type(t: &Type) -> DbDataType {
    match *t {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        _ => DbDataType::Other(t.name().to_string()),
    }
}

fn value(row: &tokio_postgres::Row, i: usize, t: &Type) -> Result<DbValue, PgError> {
    use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
    fn get<'a, T: FromSql<'a>>(
        row: &'a tokio_postgres::Row,
        i: usize,
    ) -> Result<Option<T>, PgError> {
        row.try_get::<_, Option<T>>(i).map_err(|e| {
            let cause = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default();
            PgError::QueryFailed(QueryError::Text(format!(
                "error deserializing column {i}: {cause}"
            )))
        })
    }
    let v = match *t {
        Type::BOOL => get::<bool>(row, i)?.map(DbValue::Boolean),
        Type::CHAR => get::<i8>(row, i)?.map(DbValue::Int8),
        Type::INT2 => get::<i16>(row, i)?.map(DbValue::Int16),
        Type::INT4 => get::<i32>(row, i)?.map(DbValue::Int32),
        Type::INT8 => get::<i64>(row, i)?.map(DbValue::Int64),
        Type::FLOAT4 => get::<f32>(row, i)?.map(DbValue::Floating32),
        Type::FLOAT8 => get::<f64>(row, i)?.map(DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            get::<String>(row, i)?.map(DbValue::Str)
        }
        Type::BYTEA => get::<Vec<u8>>(row, i)?.map(DbValue::Binary),
        Type::DATE => get::<NaiveDate>(row, i)?
            .map(|d| DbValue::Date((d.year(), d.month() as u8, d.day() as u8))),
        Type::TIME => get::<NaiveTime>(row, i)?.map(|t| {
            DbValue::Time((
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
                t.nanosecond(),
            ))
        }),
        // Like Spin: decoded as NaiveDateTime, which fails for timestamptz columns.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get::<NaiveDateTime>(row, i)?.map(|dt| {
            DbValue::Datetime((
                dt.year(),
                dt.month() as u8,
                dt.day() as u8,
                dt.hour() as u8,
                dt.minute() as u8,
                dt.second() as u8,
                dt.nanosecond(),
            ))
        }),
        Type::UUID => get::<uuid::Uuid>(row, i)?.map(|u| DbValue::Uuid(u.to_string())),
        Type::JSONB => {
            get::<serde_json::Value>(row, i)?.map(|j| DbValue::Jsonb(j.to_string().into_bytes()))
        }
        Type::INT4_ARRAY => get::<Vec<Option<i32>>>(row, i)?.map(DbValue::ArrayInt32),
        Type::INT8_ARRAY => get::<Vec<Option<i64>>>(row, i)?.map(DbValue::ArrayInt64),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get::<Vec<Option<String>>>(row, i)?.map(DbValue::ArrayStr)
        }
        _ => get::<Raw>(row, i)?.map(|r| DbValue::Unsupported(r.0)),
    };
    Ok(v.unwrap_or(DbValue::DbNull))
}

// Keep the generated module referenced so rustdoc links resolve.
#[allow(unused_imports)]
use pgw as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_one_pool_of_up_to_64_connections_as_on_spin() {
        let pools = PgPools::default();
        let address = "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable";
        let config = tokio_postgres::Config::from_str(address).unwrap();

        let first = pools.pool(address, config.clone()).unwrap();
        let again = pools.pool(address, config).unwrap();

        assert_eq!(first.status().max_size, 64);
        assert_eq!(
            pools.pools.lock().unwrap().by_address.len(),
            1,
            "one pool per address"
        );
        assert_eq!(again.status().max_size, first.status().max_size);
    }

    #[test]
    fn pools_are_kept_for_at_most_16_addresses_as_on_spin() {
        let pools = PgPools::default();
        let address = |i: usize| format!("postgres://postgres@127.0.0.1:1/db{i}?sslmode=disable");
        let pool = |i: usize| {
            let a = address(i);
            pools
                .pool(&a, tokio_postgres::Config::from_str(&a).unwrap())
                .unwrap()
        };
        for i in 0..16 {
            pool(i);
        }
        pool(0); // used again: now the most recent

        pool(16);

        let kept = pools.pools.lock().unwrap();
        assert_eq!(kept.by_address.len(), 16);
        assert!(kept.by_address.contains_key(&address(0)));
        assert!(
            !kept.by_address.contains_key(&address(1)),
            "the least recently used address lost its pool"
        );
        assert!(kept.by_address.contains_key(&address(16)));
    }
}
