//! Identity: who calls and what they may do. Users, workspaces and memberships, roles and the
//! one permission table (`authz`), credentials (`auth`: access tokens, passwords, refresh
//! tokens), the per-request guard and the session flows (`session`), the append-only audit
//! log (`audit`), the per-request [`Env`] every API component opens, and the auth component's
//! handlers (`api`).
//!
//! Modules, lowest first (none imports one above it): `authz`, `auth`, `audit`; `workspaces`
//! (knows roles); `users` (registers a user with their own workspace); `session` (the guard
//! and the flows); `env`; `entry` (the API components' one entry point); `api`.
//!
//! Architecture invariant: the guard lives here, not in `common::http`: every API component
//! serves through [`entry::serve`], which applies the permission table after the pipeline
//! routed the request, so the plumbing knows neither users nor roles.

pub mod api;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod entry;
pub mod env;
pub mod session;
pub mod users;
pub mod workspaces;

pub use entry::{serve, serve_folding, Request};
pub use env::Env;
pub use session::{guard, Caller};
