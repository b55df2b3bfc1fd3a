//! What every handler of an API component needs, opened once per request: the auth
//! configuration, the database, the key-value store of the guard's limiters, the request's
//! audit metadata and the time. Its own module so that the domain crates' handlers take an
//! [`Env`] without importing the auth component's handlers ([`crate::api`]).

use crate::audit::Meta;
use crate::auth::AuthConfig;
use common::db::Db;
use common::error::AppError;
use common::http::Ctx;
use common::kv::Kv;

/// What every handler of the component needs, opened once per request.
pub struct Env {
    pub cfg: AuthConfig,
    pub db: Db,
    pub kv: Kv,
    pub meta: Meta,
    pub now_ms: i64,
}

impl Env {
    pub fn open(ctx: &Ctx, now_ms: i64) -> Result<Env, AppError> {
        Ok(Env {
            cfg: AuthConfig::load()?,
            db: Db::connect(&ctx.config()?.database_url)?,
            kv: Kv::open(crate::session::KV_NAMESPACE)?,
            meta: Meta::from_request(
                &ctx.correlation_id,
                ctx.header("spin-client-addr"),
                ctx.header("user-agent"),
            ),
            now_ms,
        })
    }
}
