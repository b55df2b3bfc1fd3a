//! Host bindings for the Spin interfaces beyond WASI, generated from the vendored WIT.

wasmtime::component::bindgen!({
    path: "wit",
    world: "xmp:host/host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::state::KvHandle,
        "wasi:keyvalue/store.bucket": crate::state::KvHandle,
        "wasi:keyvalue/atomics.cas": crate::state::CasHandle,
        "spin:postgres/postgres.connection": crate::pg::PgConnection,
    },
});

/// The cron trigger's world: the guest exports `handle-cron-event`.
pub mod cron {
    wasmtime::component::bindgen!({
        path: "wit/deps/spin-cron",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}
