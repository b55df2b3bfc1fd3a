//! Posts: composing (`compose`, `text`, `media`), importing (`bulk`, `csv`), queueing (`queue`),
//! uploading media (`upload`, `multipart`), likes and reposts (`engage`), the states of a post
//! and of its history (`status`), their SQL (`store`) and the tweets component's handlers
//! (`api`). On `identity` (the caller, the audit log) and `accounts` (the account a post goes
//! out from); the scheduler publishes what is stored here.

pub mod api;
pub mod bulk;
pub mod compose;
pub mod csv;
pub mod engage;
pub mod media;
pub mod multipart;
pub mod queue;
pub mod status;
pub mod store;
pub mod text;
pub mod upload;
