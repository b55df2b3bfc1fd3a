//! The wasmtime engines of a process: pooling allocator, epoch interruption driven by ONE ticker
//! thread, and compiled components cached on disk keyed by the wasm's SHA-256 and the engine's
//! compatibility hash, so a restart skips compilation.
//!
//! Compilation is tiered. A component whose optimised code is neither in memory nor on disk is
//! first compiled by a quick engine (Winch, wasmtime's baseline compiler: a fraction of
//! Cranelift's time, slower code), so that the app serves at once;
//! the optimised code is compiled after it (`Upgrade`), cached on disk, and replaces the quick
//! code for every instance made from then on.

use anyhow::{anyhow, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};

/// How often the epoch advances; CPU deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Spin caps concurrent instances at 1,000; so does the host.
pub const MAX_INSTANCES: u32 = 1000;

pub struct Runtime {
    engine: Engine,
    /// Made when a component first needs compiling (a warm start never does).
    quick: Arc<OnceLock<Engine>>,
    cache_dir: Option<PathBuf>,
    loaded: Mutex<HashMap<String, Arc<Tiers>>>,
}

/// One component's compiled code, each tier compiled at most once per process however many
/// apps load it at the same time (a second caller waits for the first).
#[derive(Default)]
struct Tiers {
    quick: OnceLock<Result<Component, String>>,
    optimized: OnceLock<Result<Component, String>>,
}

/// Where a component came from, for startup logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadedFrom {
    Memory,
    DiskCache,
    /// Compiled by the quick engine; its `Upgrade` compiles the optimised code.
    Quick,
}

/// A loaded component and the engine its instances must be made in.
pub struct Loaded {
    pub component: Component,
    pub engine: Engine,
    pub from: LoadedFrom,
    /// For quick code: how to get the optimised code.
    pub upgrade: Option<Upgrade>,
}

/// The optimised compilation of a component serving quick code.
pub struct Upgrade {
    tiers: Arc<Tiers>,
    wasm: Arc<[u8]>,
    path: PathBuf,
    cache_file: Option<PathBuf>,
    engine: Engine,
}

impl Upgrade {
    /// Compiles the optimised code and caches it on disk (blocking; once per component and
    /// process). Returns it with the engine its instances must be made in.
    pub fn compile(&self) -> Result<(Component, Engine)> {
        let compiled = self.tiers.optimized.get_or_init(|| {
            let component = compile(&self.engine, &self.wasm, &self.path)?;
            if let Some(file) = &self.cache_file {
                let written = component
                    .serialize()
                    .map_err(anyhow::Error::from)
                    .and_then(|bytes| write_atomically(file, &bytes));
                if let Err(e) = written {
                    eprintln!("cannot write compile cache {}: {e:#}", file.display());
                }
            }
            Ok(component)
        });
        let component = compiled.clone().map_err(|e| anyhow!(e))?;
        Ok((component, self.engine.clone()))
    }
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
        let main = engine.weak();
        let quick: Arc<OnceLock<Engine>> = Arc::default();
        let quick_ticked = quick.clone();
        std::thread::Builder::new()
            .name("xmp-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                match main.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
                if let Some(quick) = quick_ticked.get() {
                    quick.increment_epoch();
                }
            })?;
        Ok(Runtime {
            engine,
            quick,
            cache_dir,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// Loads a component: its optimised code from memory, else from the disk cache, else its
    /// quick code (from memory or the compiler) with the `Upgrade` to the optimised one.
    pub fn load(&self, path: &Path) -> Result<Loaded> {
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
        let tiers = self
            .loaded
            .lock()
            .expect("component map")
            .entry(key.clone())
            .or_default()
            .clone();
        let ready = |component: &Component, from| Loaded {
            component: component.clone(),
            engine: self.engine.clone(),
            from,
            upgrade: None,
        };
        if let Some(Ok(c)) = tiers.optimized.get() {
            return Ok(ready(c, LoadedFrom::Memory));
        }
        let cache_file = self
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{key}.cwasm")));
        if let Some(file) = cache_file.as_ref().filter(|f| f.exists()) {
            // SAFETY: the file was written by `Component::serialize` of an engine with the same
            // compatibility hash (part of its name) into a directory only this host writes.
            match unsafe { Component::deserialize_file(&self.engine, file) } {
                Ok(c) => {
                    if let Ok(c) = tiers.optimized.get_or_init(|| Ok(c)) {
                        return Ok(ready(c, LoadedFrom::DiskCache));
                    }
                }
                Err(e) => eprintln!("ignoring unusable compile cache {}: {e:#}", file.display()),
            }
        }
        let quick = tiers
            .quick
            .get_or_init(|| compile(self.quick()?, &wasm, path))
            .clone()
            .map_err(|e| anyhow!(e))?;
        Ok(Loaded {
            component: quick,
            engine: self.quick().map_err(|e| anyhow!(e))?.clone(),
            from: LoadedFrom::Quick,
            upgrade: Some(Upgrade {
                tiers,
                wasm: wasm.into(),
                path: path.to_path_buf(),
                cache_file,
                engine: self.engine.clone(),
            }),
        })
    }

    /// The quick engine: Winch, the same limits, instances allocated on demand (quick code serves
    /// a component for its first seconds only, so it needs no pool's reservations).
    fn quick(&self) -> Result<&Engine, String> {
        if let Some(engine) = self.quick.get() {
            return Ok(engine);
        }
        let mut config = config(false);
        config.strategy(Strategy::Winch);
        let engine = Engine::new(&config).map_err(|e| format!("{e:#}"))?;
        Ok(self.quick.get_or_init(|| engine))
    }

    fn engine_hash(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        h.finish()
    }
}

fn compile(engine: &Engine, wasm: &[u8], path: &Path) -> Result<Component, String> {
    Component::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile component {}", path.display()))
        .map_err(|e| format!("{e:#}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: its header and nothing else.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xmp-engine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn cached_files(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    }

    #[test]
    fn a_component_runs_quick_code_until_its_optimised_code_is_compiled_and_cached() {
        let dir = scratch_dir("tiers");
        let wasm = dir.join("empty.wasm");
        std::fs::write(&wasm, EMPTY_COMPONENT).unwrap();
        let cache = dir.join("compiled");
        let runtime = Runtime::new(Some(cache.clone())).unwrap();

        let first = runtime.load(&wasm).unwrap();
        let second = runtime.load(&wasm).unwrap();
        let cached_before = cached_files(&cache);
        let (_, engine) = first.upgrade.as_ref().unwrap().compile().unwrap();
        let cached_after = cached_files(&cache);
        let (_, engine_again) = second.upgrade.as_ref().unwrap().compile().unwrap();
        let third = runtime.load(&wasm).unwrap();
        let restarted = Runtime::new(Some(cache.clone()))
            .unwrap()
            .load(&wasm)
            .unwrap();

        assert_eq!(
            (first.from, second.from),
            (LoadedFrom::Quick, LoadedFrom::Quick)
        );
        assert!(Engine::same(&first.engine, runtime.quick().unwrap()));
        assert_eq!(cached_before, 0, "quick code is never cached");
        assert!(Engine::same(&engine, &runtime.engine));
        assert!(Engine::same(&engine_again, &runtime.engine));
        assert_eq!(cached_after, 1);
        assert_eq!(cached_files(&cache), 1, "compiled once for both loads");
        assert_eq!(third.from, LoadedFrom::Memory);
        assert!(third.upgrade.is_none() && Engine::same(&third.engine, &runtime.engine));
        assert_eq!(restarted.from, LoadedFrom::DiskCache);
        assert!(restarted.upgrade.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_component_that_does_not_compile_is_refused_by_name() {
        let dir = scratch_dir("refused");
        let wasm = dir.join("broken.wasm");
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0\x7f").unwrap();
        let runtime = Runtime::new(None).unwrap();

        let refused = runtime.load(&wasm).err().expect("refused");

        let text = format!("{refused:#}");
        assert!(
            text.contains("cannot compile component") && text.contains("broken.wasm"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
