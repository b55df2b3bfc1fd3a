//! Linking an application's components: each component's environment (variables, key-value
//! stores, outbound hosts, PostgreSQL pools) is built from the manifest once, and each
//! component is linked once (`InstancePre`), so that a request only instantiates.

use crate::bindings::cron::SpinCronPre;
use crate::engine::Runtime;
use crate::http_out::HttpPool;
use crate::kv::KvBackend;
use crate::log::LogSink;
use crate::manifest::{ComponentDecl, LoadedManifest, Manifest};
use crate::outbound::OutboundPolicy;
use crate::pg::PgPools;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use crate::shared::Prepared;
use crate::state::{ComponentEnv, InstanceState};
use crate::variables::AppVariables;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Every component of the manifest, linked, by component id.
pub(crate) fn link_components(
    runtime: &Runtime,
    loaded: &LoadedManifest,
    vars: &AppVariables,
    stores: &HashMap<String, KvBackend>,
    log: &LogSink,
) -> Result<HashMap<String, Prepared>> {
    let linker = linker(runtime)?;
    // One set of pools for the whole app: components that reach the same address share a pool.
    let pg = PgPools::default();
    // One pool of outbound HTTP connections for the whole app, as in Spin.
    let http = HttpPool::default();
    let mut components = HashMap::new();
    for (id, decl) in &loaded.manifest.component {
        let env = component_env(id, decl, vars, stores, &pg, &http)?;
        let component = load(runtime, &loaded.source_path(decl), id, log)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("component {id} imports something this host does not provide")
            })?;
        components.insert(id.clone(), prepare(&loaded.manifest, id, env, pre)?);
    }
    Ok(components)
}

/// The interfaces this host provides: WASI, WASI HTTP and Spin's own.
fn linker(runtime: &Runtime) -> Result<Linker<InstanceState>> {
    let mut linker: Linker<InstanceState> = Linker::new(runtime.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::bindings::Host_::add_to_linker::<_, wasmtime::component::HasSelf<InstanceState>>(
        &mut linker,
        |s| s,
    )?;
    Ok(linker)
}

/// What the manifest grants one component, with its templates expanded.
fn component_env(
    id: &str,
    decl: &ComponentDecl,
    vars: &AppVariables,
    stores: &HashMap<String, KvBackend>,
    pg: &PgPools,
    http: &HttpPool,
) -> Result<Arc<ComponentEnv>> {
    let expanded: Vec<String> = decl
        .allowed_outbound_hosts
        .iter()
        .map(|h| vars.expand(h))
        .collect::<Result<_>>()
        .with_context(|| format!("component {id}: allowed_outbound_hosts"))?;
    let outbound = OutboundPolicy::parse(&expanded).with_context(|| format!("component {id}"))?;
    let variables = vars
        .for_component(&decl.variables)
        .with_context(|| format!("component {id}: variables"))?;
    let kv_stores = decl
        .key_value_stores
        .iter()
        .map(|label| (label.clone(), stores.get(label).cloned()))
        .collect();
    Ok(Arc::new(ComponentEnv {
        id: id.to_string(),
        variables,
        kv_stores,
        outbound: Arc::new(outbound),
        pg: pg.clone(),
        http: http.clone(),
    }))
}

/// Loads (from memory, the disk cache or the compiler) and logs where it came from.
fn load(runtime: &Runtime, path: &Path, id: &str, log: &LogSink) -> Result<Component> {
    let started = Instant::now();
    let (component, from) = runtime.load(path)?;
    log.event(
        "info",
        "component loaded",
        json!({ "component": id, "from": format!("{from:?}"), "ms": started.elapsed().as_millis() as u64 }),
    );
    Ok(component)
}

/// The entry points the component's triggers call, checked now so that a component without
/// them refuses to start instead of failing its first request.
fn prepare(
    manifest: &Manifest,
    id: &str,
    env: Arc<ComponentEnv>,
    pre: InstancePre<InstanceState>,
) -> Result<Prepared> {
    let has_http = manifest.trigger.http.iter().any(|t| t.component == id);
    let has_cron = manifest.trigger.cron.iter().any(|t| t.component == id);
    let proxy = has_http
        .then(|| {
            ProxyPre::new(pre.clone())
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id} is not an HTTP component"))
        })
        .transpose()?;
    let cron = has_cron
        .then(|| {
            SpinCronPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id} does not export handle-cron-event"))
        })
        .transpose()?;
    Ok(Prepared { env, proxy, cron })
}

/// The key-value stores the components name, each opened once and shared by them.
pub(crate) async fn open_stores(
    manifest: &Manifest,
    config: &RuntimeConfig,
    state_dir: &Path,
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
