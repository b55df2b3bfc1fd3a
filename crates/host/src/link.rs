//! Linking an application's components: each component's environment (variables, key-value
//! stores, outbound hosts, PostgreSQL pools) is built from the manifest once, and each
//! component is linked once (`InstancePre`), so that a request only instantiates; a component
//! serving quick code is linked again when its optimised code is ready (`engine`).

use crate::bindings::cron::SpinCronPre;
use crate::engine::{Runtime, Upgrade};
use crate::http_out::HttpPool;
use crate::kv::KvBackend;
use crate::log::LogSink;
use crate::manifest::{ComponentDecl, LoadedManifest, Manifest};
use crate::outbound::OutboundPolicy;
use crate::pg::PgPools;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use crate::shared::{Linked, Prepared};
use crate::state::{ComponentEnv, InstanceState};
use crate::variables::AppVariables;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{Component, Linker};
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Every component of the manifest, linked, by component id. Components compiled by the quick
/// engine are compiled again, optimised, on a thread of their own, each replacing its quick code
/// when ready.
pub(crate) fn link_components(
    runtime: &Runtime,
    loaded: &LoadedManifest,
    vars: &AppVariables,
    stores: &HashMap<String, KvBackend>,
    log: &LogSink,
) -> Result<HashMap<String, Arc<Linked>>> {
    // One set of pools for the whole app: components that reach the same address share a pool.
    let pg = PgPools::default();
    // One pool of outbound HTTP connections for the whole app, as in Spin.
    let http = HttpPool::default();
    let mut linkers = Linkers::default();
    let mut components = HashMap::new();
    let mut upgrades = Vec::new();
    for (id, decl) in &loaded.manifest.component {
        let env = component_env(id, decl, vars, stores, &pg, &http)?;
        let roles = Roles::of(&loaded.manifest, id);
        let started = Instant::now();
        let code = runtime.load(&loaded.source_path(decl))?;
        log.event(
            "info",
            "component loaded",
            json!({ "component": id, "from": format!("{:?}", code.from), "ms": started.elapsed().as_millis() as u64 }),
        );
        let linker = linkers.for_engine(&code.engine)?;
        let prepared = prepare(id, roles, env.clone(), linker, &code.component, code.engine)?;
        let linked = Arc::new(Linked::new(prepared));
        if let Some(upgrade) = code.upgrade {
            upgrades.push(Pending {
                id: id.clone(),
                roles,
                env,
                upgrade,
                linked: linked.clone(),
            });
        }
        components.insert(id.clone(), linked);
    }
    if !upgrades.is_empty() {
        optimise_in_background(upgrades, log.clone())?;
    }
    Ok(components)
}

/// A component serving quick code, and what its optimised code needs to replace it.
struct Pending {
    id: String,
    roles: Roles,
    env: Arc<ComponentEnv>,
    upgrade: Upgrade,
    linked: Arc<Linked>,
}

/// Compiles the pending components' optimised code one after another (each compilation uses
/// every core already) and puts each in place as soon as it is ready.
fn optimise_in_background(pending: Vec<Pending>, log: LogSink) -> Result<()> {
    std::thread::Builder::new()
        .name("xmp-optimise".into())
        .spawn(move || {
            let started = Instant::now();
            let mut linkers = Linkers::default();
            for p in pending {
                let one = Instant::now();
                let prepared = p.upgrade.compile().and_then(|(component, engine)| {
                    let linker = linkers.for_engine(&engine)?;
                    prepare(&p.id, p.roles, p.env.clone(), linker, &component, engine)
                });
                match prepared {
                    Ok(prepared) => {
                        p.linked.replace(prepared);
                        log.event(
                            "info",
                            "component optimised",
                            json!({ "component": p.id, "ms": one.elapsed().as_millis() as u64 }),
                        );
                    }
                    Err(e) => log.event(
                        "warn",
                        "component keeps its quick code",
                        json!({ "component": p.id, "cause": format!("{e:#}") }),
                    ),
                }
            }
            log.event(
                "info",
                "components optimised",
                json!({ "ms": started.elapsed().as_millis() as u64 }),
            );
        })?;
    Ok(())
}

/// One linker per engine (a linker belongs to the engine it was made with).
#[derive(Default)]
struct Linkers(Vec<Linker<InstanceState>>);

impl Linkers {
    fn for_engine(&mut self, engine: &Engine) -> Result<&Linker<InstanceState>> {
        let at = match self.0.iter().position(|l| Engine::same(l.engine(), engine)) {
            Some(at) => at,
            None => {
                self.0.push(linker(engine)?);
                self.0.len() - 1
            }
        };
        Ok(&self.0[at])
    }
}

/// The interfaces this host provides: WASI, WASI HTTP and Spin's own.
fn linker(engine: &Engine) -> Result<Linker<InstanceState>> {
    let mut linker: Linker<InstanceState> = Linker::new(engine);
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

/// The triggers that call a component.
#[derive(Clone, Copy)]
struct Roles {
    http: bool,
    cron: bool,
}

impl Roles {
    fn of(manifest: &Manifest, id: &str) -> Roles {
        Roles {
            http: manifest.trigger.http.iter().any(|t| t.component == id),
            cron: manifest.trigger.cron.iter().any(|t| t.component == id),
        }
    }
}

/// Links the component and checks the entry points its triggers call now, so that a component
/// without them refuses to start instead of failing its first request.
fn prepare(
    id: &str,
    roles: Roles,
    env: Arc<ComponentEnv>,
    linker: &Linker<InstanceState>,
    component: &Component,
    engine: Engine,
) -> Result<Prepared> {
    let pre = linker
        .instantiate_pre(component)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("component {id} imports something this host does not provide"))?;
    let proxy = roles
        .http
        .then(|| {
            ProxyPre::new(pre.clone())
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id} is not an HTTP component"))
        })
        .transpose()?;
    let cron = roles
        .cron
        .then(|| {
            SpinCronPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id} does not export handle-cron-event"))
        })
        .transpose()?;
    Ok(Prepared {
        env,
        engine,
        proxy,
        cron,
    })
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
