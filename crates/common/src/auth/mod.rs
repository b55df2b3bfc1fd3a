//! Identity: access tokens (`jwt`), passwords (`password`), refresh tokens (`tokens`), the
//! per-request guard and the login/refresh/logout flows (`session`), and their configuration.

pub mod config;
pub mod jwt;
pub mod password;
pub mod session;
pub mod tokens;

pub use config::AuthConfig;
pub use session::{guard, Caller};
