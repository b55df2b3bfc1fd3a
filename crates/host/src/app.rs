//! Starting an application: resolve variables, open the key-value stores, link each component
//! once (`link`), then serve the HTTP trigger and schedule the cron trigger.

use crate::engine::{Runtime, EPOCH_TICK, MAX_INSTANCES};
use crate::link::{link_components, open_stores};
use crate::log::LogSink;
use crate::manifest::{LoadedManifest, Manifest, RouteDecl};
use crate::routes::RouteTable;
use crate::runtime_config::RuntimeConfig;
use crate::shared::Shared;
use crate::variables::AppVariables;
use crate::{cron_trigger, http_trigger};
use anyhow::{Context, Result};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        shutdown_signal().await;
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
    let state_dir = state_dir(&opts, &runtime_config, &loaded);
    let stores = open_stores(manifest, &runtime_config, &state_dir, &opts.redis_prefix).await?;
    let components = link_components(runtime, &loaded, &vars, &stores, &opts.log)?;
    let shared = Arc::new(Shared {
        components,
        routes: route_table(manifest),
        cpu_ticks: (opts.cpu_limit.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
        memory_limit: opts.memory_limit,
        log: opts.log.clone(),
        permits: Arc::new(tokio::sync::Semaphore::new(MAX_INSTANCES as usize)),
    });

    let cron = manifest
        .trigger
        .cron
        .iter()
        .map(|t| cron_trigger::spawn(shared.clone(), &t.component, &t.cron_expression))
        .collect::<Result<Vec<_>>>()?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, watch) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(http_trigger::serve(shared, listener, watch));
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

/// The options' directory, else the runtime config's, else `.spin` beside the manifest.
fn state_dir(opts: &AppOptions, config: &RuntimeConfig, loaded: &LoadedManifest) -> PathBuf {
    opts.state_dir
        .clone()
        .or_else(|| {
            config
                .state_dir
                .clone()
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| loaded.dir.join(".spin"))
}

/// The public routes; private ones are reachable only from other components, so they are not
/// served.
fn route_table(manifest: &Manifest) -> RouteTable<String> {
    let mut routes = RouteTable::default();
    for t in &manifest.trigger.http {
        match &t.route {
            RouteDecl::Path(p) => routes.add(p, t.component.clone()),
            RouteDecl::Private { .. } => {}
        }
    }
    routes
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        // Should the handler fail to install, SIGTERM keeps its default action (the process
        // ends at once, as here), so waiting for Ctrl-C alone loses nothing.
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
