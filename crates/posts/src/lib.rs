//! Posts: the pure domain logic of composing, importing and queueing posts. Nothing here talks
//! HTTP or SQL at run time; the tweets component and the scheduler build on it.

// Production code never panics: a panic is a trap, which Spin answers with an empty 500.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod api;
pub mod bulk;
pub mod compose;
pub mod csv;
pub mod engage;
pub mod media;
pub mod multipart;
pub mod queue;
pub mod store;
pub mod text;
pub mod upload;
