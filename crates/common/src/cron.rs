//! Guest bindings for the Spin cron trigger (`fermyon:spin-cron@2.0.0`). A component exports
//! the handler with `common::export_cron!(MyType)` after implementing [`Guest`].

#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/cron.wit",
        world: "spin-cron",
        pub_export_macro: true,
        export_macro_name: "export_cron",
        default_bindings_module: "common::cron::bindings",
    });
}

pub use bindings::fermyon::spin_cron::cron_types::{Error, Metadata};
pub use bindings::Guest;
