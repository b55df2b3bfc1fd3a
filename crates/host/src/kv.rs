//! Key-value backends behind both `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue`:
//! an embedded store persisted to a local SQLite file (Spin's default) and Redis.

use anyhow::{Context, Result};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub enum KvBackend {
    Embedded(Arc<Embedded>),
    Redis(Arc<RedisStore>),
}

pub struct Embedded {
    conn: Mutex<rusqlite::Connection>,
    store: String,
}

pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

const CAS_SCRIPT: &str = r"
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
else
  if (not cur) or cur ~= ARGV[2] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
";

/// An increment of a value that is not an 8-byte counter on the embedded store: Spin's SQLite
/// store panics there, which ends the guest's call.
#[derive(Debug)]
pub struct IncrementTrap;

impl std::fmt::Display for IncrementTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "increment of a value that is not an 8-byte little-endian counter (Spin panics here)",
        )
    }
}

impl std::error::Error for IncrementTrap {}

/// What a guest's `wasi:keyvalue` compare-and-swap reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapReport {
    Swapped,
    CasFailed,
}

/// The embedded store's read and write of one key (each prepared once per connection).
const SELECT_VALUE: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const UPSERT_VALUE: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
     ON CONFLICT (store, key) DO UPDATE SET value = excluded.value";

impl KvBackend {
    /// An embedded store in `path` (created if missing), holding the store `label`.
    pub fn embedded(path: &Path, label: &str) -> Result<KvBackend> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = rusqlite::Connection::open(path)
            .with_context(|| format!("cannot open key-value file {}", path.display()))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS spin_key_value (
               store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
               PRIMARY KEY (store, key));",
        )?;
        Ok(KvBackend::Embedded(Arc::new(Embedded {
            conn: Mutex::new(conn),
            store: label.to_string(),
        })))
    }

    /// A Redis store; `prefix` namespaces every key (used by tests to isolate themselves).
    pub async fn redis(url: &str, prefix: &str) -> Result<KvBackend> {
        let client =
            redis::Client::open(url).with_context(|| format!("Invalid Redis URL {url:?}"))?;
        let conn = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            ConnectionManager::new(client),
        )
        .await
        .context("timed out connecting to Redis")?
        .context("cannot connect to Redis")?;
        Ok(KvBackend::Redis(Arc::new(RedisStore {
            conn,
            prefix: prefix.to_string(),
        })))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self {
            KvBackend::Embedded(e) => e.with(|c, s| {
                let mut stmt = c.prepare_cached(SELECT_VALUE)?;
                let mut rows = stmt.query((s, key))?;
                Ok(match rows.next()? {
                    Some(row) => Some(row.get(0)?),
                    None => None,
                })
            }),
            KvBackend::Redis(r) => Ok(r.conn.clone().get(r.key(key)).await?),
        }
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        match self {
            KvBackend::Embedded(e) => e.with(|c, s| {
                c.prepare_cached(UPSERT_VALUE)?.execute((s, key, value))?;
                Ok(())
            }),
            KvBackend::Redis(r) => Ok(r.conn.clone().set(r.key(key), value).await?),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        match self {
            KvBackend::Embedded(e) => e.with(|c, s| {
                c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                    .execute((s, key))?;
                Ok(())
            }),
            KvBackend::Redis(r) => Ok(r.conn.clone().del(r.key(key)).await?),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.get(key).await?.is_some())
    }

    pub async fn keys(&self) -> Result<Vec<String>> {
        match self {
            KvBackend::Embedded(e) => e.with(|c, s| {
                let mut stmt =
                    c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?;
                let keys = stmt
                    .query_map([s], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                Ok(keys)
            }),
            KvBackend::Redis(r) => {
                let mut conn = r.conn.clone();
                let mut iter: redis::AsyncIter<String> =
                    conn.scan_match(format!("{}*", r.prefix)).await?;
                let mut keys = Vec::new();
                while let Some(k) = futures::StreamExt::next(&mut iter).await {
                    keys.push(k?.trim_start_matches(&r.prefix).to_string());
                }
                Ok(keys)
            }
        }
    }

    /// Atomically adds `delta` to an integer value (absent = 0) and returns the result, stored
    /// as each of Spin's stores stores it: the embedded store (Spin's SQLite one) keeps the
    /// counter as 8 little-endian bytes, Redis as `INCR`'s decimal text. Spin's SQLite store
    /// panics on a value of another length (`expect("incorrect length")`), so that is a
    /// [`IncrementTrap`] here: the guest traps, as it would on Spin.
    pub async fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        match self {
            KvBackend::Embedded(e) => e.with(|c, s| {
                // Statements prepared once per connection, as Spin's store prepares them.
                let tx = c.transaction()?;
                let current: Option<Vec<u8>> = tx
                    .prepare_cached(SELECT_VALUE)?
                    .query_row((s, key), |r| r.get(0))
                    .ok();
                let n = match current {
                    None => 0,
                    Some(bytes) => i64::from_le_bytes(
                        <[u8; 8]>::try_from(bytes.as_slice()).map_err(|_| IncrementTrap)?,
                    ),
                };
                let next = n.wrapping_add(delta);
                tx.prepare_cached(UPSERT_VALUE)?
                    .execute((s, key, next.to_le_bytes().to_vec()))?;
                tx.commit()?;
                Ok(next)
            }),
            KvBackend::Redis(r) => Ok(r.conn.clone().incr(r.key(key), delta).await?),
        }
    }

    /// A guest's compare-and-swap, written and reported exactly as Spin 3.5 writes and reports
    /// it (read off Spin's source and confirmed on a real Spin 3.5.0):
    /// - Spin's SQLite store reads the value in `current`, then writes with
    ///   `UPDATE ... WHERE value = <what it read>` when there was one, or with an unconditional
    ///   upsert when the key was absent: a conflict over an existing key is seen, a concurrent
    ///   first write of an absent key is overwritten and the swap reports success.
    /// - Spin's Redis store (3.5.0 to 4.0.2) `WATCH`es the key, runs `MULTI / SET / EXEC`, then
    ///   `UNWATCH <key>`, which Redis refuses ("wrong number of arguments"), and that error is
    ///   returned before the transaction's outcome is looked at: every swap reports `CasFailed`,
    ///   whether it wrote (no conflict) or not (a conflict: EXEC answered nil).
    ///
    /// So any use of compare-and-swap by the app fails here as it would on Spin.
    pub async fn swap_as_spin(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<SwapReport> {
        let written = self.compare_and_swap(key, expected, new).await?;
        let report_written = match self {
            KvBackend::Embedded(_) => written,
            KvBackend::Redis(_) => false,
        };
        Ok(if report_written {
            SwapReport::Swapped
        } else {
            SwapReport::CasFailed
        })
    }

    /// The write of a swap: on the embedded store as Spin's SQLite store does it (`new` replaces
    /// `expected` only if it is still there; with `expected` absent, an upsert whatever is there
    /// now); on Redis only if the value is still `expected` (`None` = absent), as the `EXEC` of
    /// Spin's watched transaction.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool> {
        match self {
            KvBackend::Embedded(e) => e.with(|c, s| {
                let rows = match expected {
                    Some(old) => c
                        .prepare_cached(
                            "UPDATE spin_key_value SET value = ?4
                             WHERE store = ?1 AND key = ?2 AND value = ?3",
                        )?
                        .execute((s, key, old, new))?,
                    None => c.prepare_cached(UPSERT_VALUE)?.execute((s, key, new))?,
                };
                Ok(rows == 1)
            }),
            KvBackend::Redis(r) => {
                let swapped: i64 = redis::Script::new(CAS_SCRIPT)
                    .key(r.key(key))
                    .arg(if expected.is_some() { "1" } else { "0" })
                    .arg(expected.unwrap_or_default())
                    .arg(new)
                    .invoke_async(&mut r.conn.clone())
                    .await?;
                Ok(swapped == 1)
            }
        }
    }
}

impl Embedded {
    fn with<T>(&self, f: impl FnOnce(&mut rusqlite::Connection, &str) -> Result<T>) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("key-value store lock poisoned"))?;
        f(&mut conn, &self.store)
    }
}

impl RedisStore {
    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}
