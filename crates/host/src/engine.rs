//! One wasmtime `Engine` per process: pooling allocator, epoch interruption driven by ONE ticker
//! thread, and compiled components cached on disk keyed by the wasm's SHA-256 and the engine's
//! compatibility hash, so a restart skips compilation.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; CPU deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Spin caps concurrent instances at 1,000; so does the host.
pub const MAX_INSTANCES: u32 = 1000;

pub struct Runtime {
    engine: Engine,
    cache_dir: Option<PathBuf>,
    loaded: Mutex<HashMap<String, Component>>,
}

/// Where a component came from, for startup logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadedFrom {
    Memory,
    DiskCache,
    Compiled,
}

impl Runtime {
    /// `cache_dir`: where compiled components are kept (`None` disables the disk cache).
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Runtime> {
        let engine = match Engine::new(&config(true)) {
            Ok(engine) => engine,
            // Some sandboxes refuse the pooling allocator's large virtual reservations.
            Err(e) => {
                eprintln!("pooling allocator unavailable ({e:#}); using on-demand allocation");
                Engine::new(&config(false))?
            }
        };
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("xmp-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                match ticker.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            })?;
        Ok(Runtime {
            engine,
            cache_dir,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Loads a component: from memory, else the disk cache, else compiling (and caching) it.
    pub fn load(&self, path: &Path) -> Result<(Component, LoadedFrom)> {
        let wasm = std::fs::read(path).with_context(|| {
            format!(
                "cannot read component {} (run `make build` first)",
                path.display()
            )
        })?;
        let key = format!(
            "{}-{:016x}",
            hex::encode(Sha256::digest(&wasm)),
            self.engine_hash()
        );
        if let Some(c) = self.loaded.lock().expect("component map").get(&key) {
            return Ok((c.clone(), LoadedFrom::Memory));
        }
        let cached = self
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{key}.cwasm")));
        if let Some(file) = cached.as_ref().filter(|f| f.exists()) {
            // SAFETY: the file was written by `Component::serialize` of an engine with the same
            // compatibility hash (part of its name) into a directory only this host writes.
            match unsafe { Component::deserialize_file(&self.engine, file) } {
                Ok(c) => {
                    self.remember(key, &c);
                    return Ok((c, LoadedFrom::DiskCache));
                }
                Err(e) => eprintln!("ignoring unusable compile cache {}: {e:#}", file.display()),
            }
        }
        let component = Component::new(&self.engine, &wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot compile component {}", path.display()))?;
        if let Some(file) = cached {
            if let Err(e) = write_atomically(&file, &component.serialize()?) {
                eprintln!("cannot write compile cache {}: {e:#}", file.display());
            }
        }
        self.remember(key, &component);
        Ok((component, LoadedFrom::Compiled))
    }

    fn remember(&self, key: String, c: &Component) {
        self.loaded
            .lock()
            .expect("component map")
            .insert(key, c.clone());
    }

    fn engine_hash(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        h.finish()
    }
}

/// Bytes of each pooled linear memory kept resident between instances.
const KEEP_RESIDENT: usize = 2 << 20;

fn config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // `XMP_PERFMAP=1`: write /tmp/perf-<pid>.map so that `perf` names the guests' functions
    // (how BENCHMARKS.md's profiles were taken).
    if std::env::var_os("XMP_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES);
        pool.total_core_instances(MAX_INSTANCES * 4);
        pool.total_memories(MAX_INSTANCES * 2);
        pool.total_tables(MAX_INSTANCES * 4);
        pool.max_memory_size(256 << 20);
        // A finished instance's first pages are zeroed in place instead of handed back to the
        // kernel, so the next request does not fault them in again (most requests stay within
        // them: a component's data, stack and a page of JSON).
        pool.linear_memory_keep_resident(KEEP_RESIDENT);
        pool.table_keep_resident(KEEP_RESIDENT / 16);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
