//! Key-value helpers over Spin's stores: namespaced keys, JSON values with an expiry stored
//! beside the value (Spin's key-value has no TTL), and atomic increments through
//! `wasi:keyvalue` atomics. Key-value holds only what may be lost or rebuilt.
//!
//! There is deliberately no compare-and-swap: Spin's Redis store (3.5.0 to 4.0.2 at least)
//! reports a swap that wrote as a conflict and a real conflict as success. Read-modify-write
//! state uses `increment`, last-writer-wins plain writes where that is fine, or PostgreSQL.

use crate::error::{AppError, Code};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, store as wasi_store};

/// The store a component opens; mapped to Redis in production by the runtime config.
pub const STORE: &str = "default";

pub struct Kv {
    store: Store,
    namespace: String,
}

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    v: T,
    /// Expiry in Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

impl Kv {
    /// Opens the default store; every key is prefixed with `namespace:`.
    pub fn open(namespace: &str) -> Result<Kv, AppError> {
        let store = Store::open(STORE).map_err(map_error)?;
        Ok(Kv {
            store,
            namespace: namespace.to_string(),
        })
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}:{}", self.namespace, key)
    }

    /// Reads a JSON value; an expired value reads as absent (and is removed).
    pub fn get_json<T: DeserializeOwned>(
        &self,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<T>, AppError> {
        let full = self.key(key);
        let Some(bytes) = self.store.get(&full).map_err(map_error)? else {
            return Ok(None);
        };
        match decode_json(&bytes, now_ms) {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => {
                self.store.delete(&full).map_err(map_error)?;
                Ok(None)
            }
            Err(e) => Err(AppError::internal(format!(
                "kv value {full} is not valid: {e}"
            ))),
        }
    }

    /// Writes a JSON value, optionally expiring `ttl_ms` after `now_ms`.
    pub fn set_json<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(), AppError> {
        let bytes = encode_json(value, ttl_ms, now_ms)?;
        self.store.set(&self.key(key), &bytes).map_err(map_error)
    }

    pub fn delete(&self, key: &str) -> Result<(), AppError> {
        self.store.delete(&self.key(key)).map_err(map_error)
    }

    /// Atomically adds `delta` and returns the new value (a missing key counts as 0).
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, AppError> {
        let bucket = wasi_store::open(STORE).map_err(map_wasi_error)?;
        atomics::increment(&bucket, &self.key(key), delta).map_err(map_wasi_error)
    }

    /// Writes raw bytes (for values that other code compares byte for byte).
    pub fn set_raw(&self, key: &str, value: &[u8]) -> Result<(), AppError> {
        self.store.set(&self.key(key), value).map_err(map_error)
    }

    /// The raw bytes of a key (for values written by `increment`).
    pub fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        self.store.get(&self.key(key)).map_err(map_error)
    }
}

/// The stored form of every JSON value: the value and its expiry. Code that merges a value
/// before writing it raw uses these so that `get_json` reads what it wrote.
pub fn encode_json<T: Serialize>(
    value: &T,
    ttl_ms: Option<i64>,
    now_ms: i64,
) -> Result<Vec<u8>, AppError> {
    let stored = Stored {
        v: value,
        exp: ttl_ms.map(|t| now_ms + t),
    };
    serde_json::to_vec(&stored).map_err(AppError::internal)
}

/// Decodes the stored form; `Ok(None)` when it has expired at `now_ms`.
pub fn decode_json<T: DeserializeOwned>(
    bytes: &[u8],
    now_ms: i64,
) -> Result<Option<T>, serde_json::Error> {
    let stored: Stored<T> = serde_json::from_slice(bytes)?;
    Ok(match stored.exp {
        Some(exp) if exp <= now_ms => None,
        _ => Some(stored.v),
    })
}

fn map_error(e: spin_sdk::key_value::Error) -> AppError {
    use spin_sdk::key_value::Error as E;
    let why = match e {
        E::StoreTableFull => "store table full".to_string(),
        E::NoSuchStore => "no such store".to_string(),
        E::AccessDenied => "access denied".to_string(),
        E::Other(message) => message,
    };
    AppError::server(Code::KvUnavailable, format!("key-value: {why}"))
}

fn map_wasi_error(e: wasi_store::Error) -> AppError {
    let why = match e {
        wasi_store::Error::NoSuchStore => "no such store".to_string(),
        wasi_store::Error::AccessDenied => "access denied".to_string(),
        wasi_store::Error::Other(message) => message,
    };
    AppError::server(Code::KvUnavailable, format!("key-value: {why}"))
}
