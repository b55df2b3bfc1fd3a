//! What the triggers need from a started app: the linked components, the route table and the
//! limits of each instance. It sits below `app` and the triggers, so that `app` builds it and
//! hands it to the triggers without either importing the other.

use crate::bindings::cron::SpinCronPre;
use crate::log::LogSink;
use crate::routes::RouteTable;
use crate::state::{ComponentEnv, InstanceState};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// A linked component, ready to instantiate per request or per cron event.
pub(crate) struct Prepared {
    pub env: Arc<ComponentEnv>,
    /// The engine the component was compiled by: its instances' stores must belong to it.
    pub engine: Engine,
    pub proxy: Option<ProxyPre<InstanceState>>,
    pub cron: Option<SpinCronPre<InstanceState>>,
}

/// A component's current `Prepared`: quick code first when it was not cached, replaced by the
/// optimised code once that is compiled (`engine::Upgrade`). An instance keeps the code it was
/// made from.
pub(crate) struct Linked(RwLock<Arc<Prepared>>);

impl Linked {
    pub fn new(prepared: Prepared) -> Linked {
        Linked(RwLock::new(Arc::new(prepared)))
    }

    pub fn current(&self) -> Arc<Prepared> {
        self.0.read().expect("linked component").clone()
    }

    pub fn replace(&self, prepared: Prepared) {
        *self.0.write().expect("linked component") = Arc::new(prepared);
    }
}

pub(crate) struct Shared {
    pub components: HashMap<String, Arc<Linked>>,
    pub routes: RouteTable<String>,
    /// Epoch ticks an instance may spend in guest code.
    pub cpu_ticks: u64,
    pub memory_limit: usize,
    pub log: LogSink,
    /// One permit per live instance, so that requests and cron events wait for a free slot
    /// of the pooling allocator instead of failing to instantiate.
    pub permits: Arc<tokio::sync::Semaphore>,
}

impl Shared {
    /// A store for one instance of `prepared`, with the memory limit and the CPU deadline armed.
    pub fn new_store(&self, prepared: &Prepared) -> Store<InstanceState> {
        let state = InstanceState::new(prepared.env.clone(), self.memory_limit);
        let mut store = Store::new(&prepared.engine, state);
        store.limiter(|s| &mut s.limits);
        let limit = self.cpu_ticks;
        store.set_epoch_deadline(1);
        // Each tick spent in guest code counts; time blocked in host calls does not. Yielding on
        // every tick keeps one busy guest from starving the executor.
        store.epoch_deadline_callback(move |mut ctx| {
            let s = ctx.data_mut();
            s.cpu_ticks += 1;
            if s.cpu_ticks > limit {
                Err(wasmtime::Trap::Interrupt.into())
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }
}
