//! Credentials: access tokens (`jwt`), passwords (`password`), refresh tokens (`tokens`) and
//! their configuration. The per-request guard and the login/refresh/logout flows that use them
//! are [`crate::session`], above [`crate::users`]: nothing here knows users or workspaces.

pub mod config;
pub mod jwt;
pub mod password;
pub mod tokens;

pub use config::AuthConfig;
