//! Per-instance state (one per request, as in Spin) and the host side of the Spin interfaces:
//! key-value (both flavours), variables and Postgres.

use crate::bindings::fermyon::spin::{key_value, variables};
use crate::bindings::spin::postgres::postgres as pg;
use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::kv::{KvBackend, SwapReport};
use crate::outbound::OutboundPolicy;
use crate::pg::{PgConnection, PgPools};
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::StoreLimits;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What one component may use, fixed when the app starts.
pub struct ComponentEnv {
    pub id: String,
    pub variables: HashMap<String, String>,
    /// Store labels the manifest grants this component, with their backends.
    pub kv_stores: HashMap<String, Option<KvBackend>>,
    pub outbound: Arc<OutboundPolicy>,
    pub pg: PgPools,
    pub http: crate::http_out::HttpPool,
}

pub struct KvHandle {
    backend: KvBackend,
}

pub struct CasHandle {
    backend: KvBackend,
    key: String,
    current: Option<Vec<u8>>,
}

pub struct InstanceState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: crate::http_out::OutboundHooks,
    pub(crate) limits: StoreLimits,
    pub(crate) env: Arc<ComponentEnv>,
    pub(crate) stdout: MemoryOutputPipe,
    pub(crate) stderr: MemoryOutputPipe,
    /// Epoch ticks this instance has spent running guest code.
    pub(crate) cpu_ticks: u64,
}

impl InstanceState {
    pub fn new(env: Arc<ComponentEnv>, memory_limit: usize) -> InstanceState {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let stderr = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        InstanceState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: crate::http_out::OutboundHooks::new(
                env.outbound.clone(),
                env.id.clone(),
                env.http.clone(),
            ),
            limits: wasmtime::StoreLimitsBuilder::new()
                .memory_size(memory_limit)
                .instances(64)
                .build(),
            env,
            stdout,
            stderr,
            cpu_ticks: 0,
        }
    }

    /// Guest output, line by line, to be logged with the component id.
    pub fn take_output(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for pipe in [&self.stdout, &self.stderr] {
            let bytes = pipe.contents();
            lines.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_string));
        }
        lines
    }

    fn open_kv(&mut self, label: &str) -> Result<KvBackend, StoreOpenError> {
        match self.env.kv_stores.get(label) {
            None => Err(StoreOpenError::AccessDenied),
            Some(None) => Err(StoreOpenError::NoSuchStore),
            Some(Some(backend)) => Ok(backend.clone()),
        }
    }
}

enum StoreOpenError {
    AccessDenied,
    NoSuchStore,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

fn other<E: std::fmt::Display>(e: E) -> String {
    format!("{e:#}")
}

// ---- fermyon:spin/key-value@2.0.0 ----

impl key_value::Host for InstanceState {}

impl key_value::HostStore for InstanceState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvHandle>, key_value::Error>> {
        Ok(match self.open_kv(&label) {
            Ok(backend) => Ok(self.table.push(KvHandle { backend })?),
            Err(StoreOpenError::AccessDenied) => Err(key_value::Error::AccessDenied),
            Err(StoreOpenError::NoSuchStore) => Err(key_value::Error::NoSuchStore),
        })
    }

    async fn get(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, key_value::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.get(&key)
            .await
            .map_err(|e| key_value::Error::Other(other(e))))
    }

    async fn set(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.set(&key, &value)
            .await
            .map_err(|e| key_value::Error::Other(other(e))))
    }

    async fn delete(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.delete(&key)
            .await
            .map_err(|e| key_value::Error::Other(other(e))))
    }

    async fn exists(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, key_value::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.exists(&key)
            .await
            .map_err(|e| key_value::Error::Other(other(e))))
    }

    async fn get_keys(
        &mut self,
        h: Resource<KvHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, key_value::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.keys()
            .await
            .map_err(|e| key_value::Error::Other(other(e))))
    }

    async fn drop(&mut self, h: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        Ok(())
    }
}

// ---- wasi:keyvalue@0.2.0-draft2 ----

impl store::Host for InstanceState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<KvHandle>, store::Error>> {
        Ok(match self.open_kv(&identifier) {
            Ok(backend) => Ok(self.table.push(KvHandle { backend })?),
            Err(StoreOpenError::AccessDenied) => Err(store::Error::AccessDenied),
            Err(StoreOpenError::NoSuchStore) => Err(store::Error::NoSuchStore),
        })
    }
}

impl store::HostBucket for InstanceState {
    async fn get(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.get(&key).await.map_err(|e| store::Error::Other(other(e))))
    }

    async fn set(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.set(&key, &value)
            .await
            .map_err(|e| store::Error::Other(other(e))))
    }

    async fn delete(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.delete(&key)
            .await
            .map_err(|e| store::Error::Other(other(e))))
    }

    async fn exists(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, store::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.exists(&key)
            .await
            .map_err(|e| store::Error::Other(other(e))))
    }

    async fn list_keys(
        &mut self,
        h: Resource<KvHandle>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<store::KeyResponse, store::Error>> {
        let b = self.table.get(&h)?.backend.clone();
        Ok(b.keys()
            .await
            .map(|keys| store::KeyResponse { keys, cursor: None })
            .map_err(|e| store::Error::Other(other(e))))
    }

    async fn drop(&mut self, h: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        Ok(())
    }
}

impl atomics::Host for InstanceState {
    async fn increment(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, store::Error>> {
        let b = self.table.get(&bucket)?.backend.clone();
        match b.increment(&key, delta).await {
            Ok(n) => Ok(Ok(n)),
            Err(e) if e.is::<crate::kv::IncrementTrap>() => Err(crate::kv::IncrementTrap.into()),
            Err(e) => Ok(Err(store::Error::Other(other(e)))),
        }
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let handle = self.table.delete(cas)?;
        match handle
            .backend
            .swap_as_spin(&handle.key, handle.current.as_deref(), &value)
            .await
        {
            Ok(SwapReport::Swapped) => Ok(Ok(())),
            Ok(SwapReport::CasFailed) => {
                // As Spin: hand back a fresh CAS whose current value is already re-read.
                let current = match handle.backend.get(&handle.key).await {
                    Ok(v) => v,
                    Err(e) => {
                        return Ok(Err(atomics::CasError::StoreError(store::Error::Other(
                            other(e),
                        ))))
                    }
                };
                let fresh = self.table.push(CasHandle {
                    backend: handle.backend,
                    key: handle.key,
                    current,
                })?;
                Ok(Err(atomics::CasError::CasFailed(fresh)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(store::Error::Other(
                other(e),
            )))),
        }
    }
}

impl atomics::HostCas for InstanceState {
    async fn new(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<CasHandle>, store::Error>> {
        let backend = self.table.get(&bucket)?.backend.clone();
        let current = match backend.get(&key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(store::Error::Other(other(e)))),
        };
        Ok(Ok(self.table.push(CasHandle {
            backend,
            key,
            current,
        })?))
    }

    async fn current(
        &mut self,
        cas: Resource<CasHandle>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        Ok(Ok(self.table.get(&cas)?.current.clone()))
    }

    async fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for InstanceState {
    async fn get_many(
        &mut self,
        bucket: Resource<KvHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, store::Error>> {
        let b = self.table.get(&bucket)?.backend.clone();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            match b.get(&key).await {
                Ok(v) => out.push((key, v)),
                Err(e) => return Ok(Err(store::Error::Other(other(e)))),
            }
        }
        Ok(Ok(out))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KvHandle>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let b = self.table.get(&bucket)?.backend.clone();
        for (k, v) in pairs {
            if let Err(e) = b.set(&k, &v).await {
                return Ok(Err(store::Error::Other(other(e))));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KvHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let b = self.table.get(&bucket)?.backend.clone();
        for k in keys {
            if let Err(e) = b.delete(&k).await {
                return Ok(Err(store::Error::Other(other(e))));
            }
        }
        Ok(Ok(()))
    }
}

// ---- fermyon:spin/variables@2.0.0 ----

impl variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if crate::variable_name::validate(&name).is_err() {
            return Ok(Err(variables::Error::InvalidName(name)));
        }
        Ok(self
            .env
            .variables
            .get(&name)
            .cloned()
            .ok_or(variables::Error::Undefined(format!(
                "no variable for {:?}.{name:?}",
                self.env.id
            ))))
    }
}

// ---- spin:postgres/postgres@4.0.0 ----

impl pg::Host for InstanceState {}

impl pg::HostConnection for InstanceState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, pg::Error>> {
        let env = self.env.clone();
        Ok(match env.pg.connect(&address, &env.outbound).await {
            Ok(conn) => Ok(self.table.push(conn)?),
            Err(e) => Err(e),
        })
    }

    async fn query(
        &mut self,
        conn: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> wasmtime::Result<Result<pg::RowSet, pg::Error>> {
        Ok(self.table.get(&conn)?.query(&statement, params).await)
    }

    async fn execute(
        &mut self,
        conn: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, pg::Error>> {
        Ok(self.table.get(&conn)?.execute(&statement, params).await)
    }

    async fn drop(&mut self, conn: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}
