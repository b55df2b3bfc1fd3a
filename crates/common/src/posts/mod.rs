//! Posts: the pure domain logic of composing, importing and queueing posts. Nothing here talks
//! HTTP or SQL at run time; the tweets component and the scheduler build on it.

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
