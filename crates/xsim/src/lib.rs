//! xsim: a local, in-memory stand-in for the X API v2 and its OAuth endpoints.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = xsim::Sim::start(xsim::SimConfig::ephemeral()).await?;
//! let base = sim.base_url(); // "http://127.0.0.1:PORT"
//! let user = sim.state().create_user("alice", None, None).unwrap();
//! let tokens = sim.state().issue_user_token(user.id, None, None).unwrap();
//! // ... call `{base}/2/tweets` with `Authorization: Bearer {tokens.access_token}`
//! sim.stop().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
pub mod ctx;
pub mod engage;
pub mod entities;
pub mod faults;
pub mod lookup;
pub mod media;
pub mod metrics;
pub mod oauth;
pub mod oauth1;
pub mod problem;
pub mod ratelimit;
pub mod seed;
mod server;
pub mod state;
pub mod text;
pub mod tweets;
pub mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{delete, get, post};
use axum::Router;

pub use admin::{NewApp, OAuth1Creds, Tokens};
pub use faults::{Fault, FaultKind};
pub use ratelimit::Profile;
pub use server::SimHandle;
pub use state::SimState;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4010";
pub const DEFAULT_CLIENT_ID: &str = "xsim-client";
pub const DEFAULT_CLIENT_SECRET: &str = "xsim-secret";
pub const DEFAULT_CONSUMER_KEY: &str = "xsim-consumer-key";
pub const DEFAULT_CONSUMER_SECRET: &str = "xsim-consumer-secret";
pub const DEFAULT_APP_BEARER: &str = "xsim-app-bearer-token";
pub const DEFAULT_USERNAME: &str = "xmp_demo";
pub const DEFAULT_USER_ID: u64 = 1_700_000_000_000_000_001;
pub const DEFAULT_APP_ID: u64 = 1_700_000_000_000_000_002;
/// OAuth 1.0a access token and secret of the default user for the default app.
pub const DEFAULT_USER_ACCESS_TOKEN: &str = "1700000000000000001-xsimdefaultaccesstoken";
pub const DEFAULT_USER_ACCESS_SECRET: &str = "xsim-default-access-token-secret";

/// Startup configuration: where to listen, the default app and user, the limit profile.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub client_id: String,
    pub client_secret: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub app_bearer_token: String,
    pub default_username: String,
    pub default_user_id: u64,
    pub user_access_token: String,
    pub user_access_token_secret: String,
    pub profile: Profile,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: DEFAULT_LISTEN.parse().expect("valid address"),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            consumer_key: DEFAULT_CONSUMER_KEY.into(),
            consumer_secret: DEFAULT_CONSUMER_SECRET.into(),
            app_bearer_token: DEFAULT_APP_BEARER.into(),
            default_username: DEFAULT_USERNAME.into(),
            default_user_id: DEFAULT_USER_ID,
            user_access_token: DEFAULT_USER_ACCESS_TOKEN.into(),
            user_access_token_secret: DEFAULT_USER_ACCESS_SECRET.into(),
            profile: Profile::Standard,
        }
    }
}

impl SimConfig {
    /// Defaults, listening on an ephemeral port of 127.0.0.1 (for tests).
    pub fn ephemeral() -> Self {
        SimConfig {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            ..Self::default()
        }
    }

    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }
}

/// Entry point: `Sim::start(config)` binds, serves in the background and returns a handle.
pub struct Sim;

impl Sim {
    pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        let state = Arc::new(SimState::new(config.clone()));
        server::start(config.listen, state).await
    }
}

/// The full HTTP surface (X API, OAuth, admin) over the given state.
pub fn router(st: Arc<SimState>) -> Router {
    let x = Router::new()
        .route("/2/users/me", get(users::me))
        .route("/2/users/{id}", get(users::by_id))
        .route("/2/users/{id}/tweets", get(lookup::user_posts))
        .route("/2/users/{id}/likes", post(engage::like))
        .route("/2/users/{id}/likes/{tweet_id}", delete(engage::unlike))
        .route("/2/users/{id}/retweets", post(engage::retweet))
        .route(
            "/2/users/{id}/retweets/{tweet_id}",
            delete(engage::unretweet),
        )
        .route("/2/tweets", post(tweets::create).get(lookup::lookup))
        .route("/2/tweets/{id}", delete(tweets::delete))
        .route("/2/media/upload", post(media::simple).get(media::status))
        .route("/2/media/upload/initialize", post(media::initialize))
        .route("/2/media/upload/{id}/append", post(media::append))
        .route("/2/media/upload/{id}/finalize", post(media::finalize))
        .route("/i/oauth2/authorize", get(oauth::authorize))
        .route("/2/oauth2/authorize", get(oauth::authorize))
        .route("/2/oauth2/token", post(oauth::token))
        .route("/2/oauth2/revoke", post(oauth::revoke));
    let admin = Router::new()
        .route("/__admin/health", get(admin::health))
        .route("/__admin/reset", post(admin::reset))
        .route("/__admin/clock", post(admin::clock).get(admin::get_clock))
        .route(
            "/__admin/users",
            post(admin::create_user).get(admin::list_users),
        )
        .route("/__admin/users/{id}/oauth1", post(admin::oauth1))
        .route("/__admin/users/{id}/token", post(admin::token))
        .route("/__admin/users/{id}/posts", post(seed::seed_posts))
        .route("/__admin/apps", post(admin::create_app))
        .route("/__admin/profile", post(admin::profile))
        .route(
            "/__admin/faults",
            post(admin::add_fault)
                .get(admin::list_faults)
                .delete(admin::clear_faults),
        )
        .route(
            "/__admin/requests",
            get(admin::list_requests).delete(admin::clear_requests),
        )
        .route("/__admin/posts", get(admin::posts))
        .route("/__admin/tokens/revoke-user/{id}", post(admin::revoke_user));
    x.merge(admin)
        .fallback(|| async {
            problem::ApiError::blank(
                axum::http::StatusCode::NOT_FOUND,
                "Not Found",
                "Sorry, that page does not exist.",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            st.clone(),
            faults::middleware,
        ))
        .with_state(st)
}
