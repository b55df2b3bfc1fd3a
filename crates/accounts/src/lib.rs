//! X accounts of a workspace: connecting them (OAuth 2.0 with PKCE, or OAuth 1.0a user
//! credentials), their sealed credentials, atomic single-flight token refresh, settings and
//! posting slots, and the accounts component's handlers.

pub mod api;
pub mod config;
pub mod credentials;
pub mod oauth_state;
pub mod refresh;
pub mod slots;
pub mod store;

pub use config::AccountsConfig;
pub use store::{Account, AccountStatus, AuthKind};
