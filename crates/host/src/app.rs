//! Starting an application: resolve variables, build each component's environment, link once
//! (`InstancePre`), then serve the HTTP trigger and schedule the cron trigger.

use crate::bindings::cron::SpinCronPre;
use crate::engine::{LoadedFrom, Runtime};
use crate::kv::KvBackend;
use crate::log::LogSink;
use crate::manifest::{LoadedManifest, RouteDecl};
use crate::outbound::OutboundPolicy;
use crate::pg::PgPools;
use crate::routes::RouteTable;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use crate::state::{ComponentEnv, InstanceState};
use crate::variables::AppVariables;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Everything `xmp up` (or a test) decides about one run of the app.
pub struct AppOptions {
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    pub listen: SocketAddr,
    /// The environment the `SPIN_VARIABLE_*` provider reads (the process env in production).
    pub env: HashMap<String, String>,
    /// Values that win over every provider (tests use them for per-test databases).
    pub variable_overrides: HashMap<String, String>,
    /// Prefix for every Redis key (tests isolate themselves with it).
    pub redis_prefix: String,
    /// Where the embedded key-value file lives (default `<manifest dir>/.spin`).
    pub state_dir: Option<PathBuf>,
    /// CPU time a request may spend in guest code before it is interrupted.
    pub cpu_limit: Duration,
    pub memory_limit: usize,
    pub log: LogSink,
}

impl AppOptions {
    pub fn new(manifest: PathBuf) -> AppOptions {
        AppOptions {
            manifest,
            runtime_config: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            env: std::env::vars().collect(),
            variable_overrides: HashMap::new(),
            redis_prefix: String::new(),
            state_dir: None,
            cpu_limit: Duration::from_secs(10),
            memory_limit: 128 << 20,
            log: LogSink::Stdout,
        }
    }
}

/// A linked component, ready to instantiate per request or per cron event.
pub(crate) struct Prepared {
    pub env: Arc<ComponentEnv>,
    pub proxy: Option<ProxyPre<InstanceState>>,
    pub cron: Option<SpinCronPre<InstanceState>>,
}

pub(crate) struct Shared {
    pub engine: wasmtime::Engine,
    pub components: HashMap<String, Prepared>,
    pub routes: RouteTable<String>,
    pub cpu_ticks: u64,
    pub memory_limit: usize,
    pub log: LogSink,
    pub permits: Arc<tokio::sync::Semaphore>,
}

/// A running app; dropping it does not stop it, `stop` does (gracefully).
pub struct RunningApp {
    pub addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    cron: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningApp {
    /// Stops accepting, lets in-flight requests finish, stops the cron trigger.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for c in &self.cron {
            c.abort();
        }
        let _ = self.server.await;
    }

    /// Serves until SIGINT or SIGTERM, then ends the process at once, as Spin 3.5 does: the
    /// requests and the cron tick in flight are cut off, not drained (draining would make `xmp`
    /// kinder than the runtime the app ships to).
    pub async fn run_until_signal(self) {
        crate::http_trigger::shutdown_signal().await;
        std::process::exit(0);
    }
}

pub async fn start(runtime: &Runtime, opts: AppOptions) -> Result<RunningApp> {
    let started = Instant::now();
    let loaded = LoadedManifest::load(&opts.manifest)?;
    let manifest = &loaded.manifest;
    let vars = AppVariables::resolve(manifest, &opts.env, &opts.variable_overrides)?;
    let runtime_config = match &opts.runtime_config {
        Some(p) => RuntimeConfig::load(p)?,
        None => RuntimeConfig::default(),
    };
    let state_dir = opts
        .state_dir
        .clone()
        .or_else(|| {
            runtime_config
                .state_dir
                .clone()
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| loaded.dir.join(".spin"));
    let stores = open_stores(manifest, &runtime_config, &state_dir, &opts.redis_prefix).await?;

    let mut linker: Linker<InstanceState> = Linker::new(runtime.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::bindings::Host_::add_to_linker::<_, wasmtime::component::HasSelf<InstanceState>>(
        &mut linker,
        |s| s,
    )?;

    let http_components: Vec<&String> =
        manifest.trigger.http.iter().map(|t| &t.component).collect();
    let cron_components: Vec<&String> =
        manifest.trigger.cron.iter().map(|t| &t.component).collect();
    let pg = PgPools::default();
    let mut components = HashMap::new();
    for (id, decl) in &manifest.component {
        let expanded: Vec<String> = decl
            .allowed_outbound_hosts
            .iter()
            .map(|h| vars.expand(h))
            .collect::<Result<_>>()
            .with_context(|| format!("component {id}: allowed_outbound_hosts"))?;
        let outbound =
            OutboundPolicy::parse(&expanded).with_context(|| format!("component {id}"))?;
        let variables = vars
            .for_component(&decl.variables)
            .with_context(|| format!("component {id}: variables"))?;
        let kv_stores = decl
            .key_value_stores
            .iter()
            .map(|label| (label.clone(), stores.get(label).cloned()))
            .collect();
        let env = Arc::new(ComponentEnv {
            id: id.clone(),
            variables,
            kv_stores,
            outbound: Arc::new(outbound),
            pg: pg.clone(),
        });
        let path = loaded.source_path(decl);
        let load_started = Instant::now();
        let (component, from) = runtime.load(&path)?;
        opts.log.event(
            "info",
            "component loaded",
            json!({ "component": id, "from": format!("{from:?}"), "ms": load_started.elapsed().as_millis() as u64 }),
        );
        let _ = LoadedFrom::Memory;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("component {id} imports something this host does not provide")
            })?;
        let proxy = if http_components.contains(&id) {
            Some(
                ProxyPre::new(pre.clone())
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("component {id} is not an HTTP component"))?,
            )
        } else {
            None
        };
        let cron = if cron_components.contains(&id) {
            Some(
                SpinCronPre::new(pre)
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("component {id} does not export handle-cron-event"))?,
            )
        } else {
            None
        };
        components.insert(id.clone(), Prepared { env, proxy, cron });
    }

    let mut routes = RouteTable::default();
    for t in &manifest.trigger.http {
        match &t.route {
            RouteDecl::Path(p) => routes.add(p, t.component.clone()),
            RouteDecl::Private { .. } => {}
        }
    }
    let shared = Arc::new(Shared {
        engine: runtime.engine().clone(),
        components,
        routes,
        cpu_ticks: (opts.cpu_limit.as_millis() / crate::engine::EPOCH_TICK.as_millis()).max(1)
            as u64,
        memory_limit: opts.memory_limit,
        log: opts.log.clone(),
        permits: Arc::new(tokio::sync::Semaphore::new(
            crate::engine::MAX_INSTANCES as usize,
        )),
    });

    let mut cron = Vec::new();
    for t in &manifest.trigger.cron {
        cron.push(crate::cron_trigger::spawn(
            shared.clone(),
            &t.component,
            &t.cron_expression,
        )?);
    }
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, watch) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(crate::http_trigger::serve(shared.clone(), listener, watch));
    opts.log.event(
        "info",
        "serving",
        json!({ "app": manifest.application.name, "address": format!("http://{addr}"), "startupMs": started.elapsed().as_millis() as u64 }),
    );
    Ok(RunningApp {
        addr,
        shutdown,
        server,
        cron,
    })
}

async fn open_stores(
    manifest: &crate::manifest::Manifest,
    config: &RuntimeConfig,
    state_dir: &std::path::Path,
    redis_prefix: &str,
) -> Result<HashMap<String, KvBackend>> {
    let mut labels: Vec<&String> = manifest
        .component
        .values()
        .flat_map(|c| &c.key_value_stores)
        .collect();
    labels.sort();
    labels.dedup();
    let mut stores = HashMap::new();
    for label in labels {
        let backend = match config.key_value_store.get(label) {
            Some(KvStoreConfig::Redis { url }) => KvBackend::redis(url, redis_prefix)
                .await
                .with_context(|| format!("key-value store {label:?}"))?,
            Some(KvStoreConfig::Spin { path }) => {
                let file = path.clone().unwrap_or_else(|| state_dir.join("sqlite_key_value.db"));
                KvBackend::embedded(&file, label)?
            }
            None if label == "default" => KvBackend::embedded(&state_dir.join("sqlite_key_value.db"), label)?,
            None => bail!("key-value store {label:?} is used by a component but not defined in the runtime config"),
        };
        stores.insert(label.clone(), backend);
    }
    Ok(stores)
}
