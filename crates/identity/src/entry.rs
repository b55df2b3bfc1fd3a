//! The one entry point of the API components. [`serve`] runs the pipeline, opens the request's
//! [`Env`], applies the route's rule from the one permission table ([`crate::authz::TABLE`]),
//! calls the component's handler with one signature — `(route, Request)` — and adds the
//! `RateLimit-*` headers of the caller's API limit to whatever the handler answers. A component
//! is then its route table and one `match` from route to domain function.
//!
//! Public routes (register, login, refresh) get no caller: their handlers never ask for one, and
//! a handler that does gets an internal error, never an anonymous run. The OAuth callback gets a
//! caller only when a token was sent (which must then be valid).

use crate::authz::{self, Access};
use crate::env::Env;
use crate::session::{self, Caller};
use common::db::{Call, Rows};
use common::error::AppError;
use common::http::{Ctx, Reply, Router};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use std::future::Future;

/// One routed request with what its handler needs. The fields are separate so that a handler
/// can read the body (`&mut r.ctx`) while holding the caller (`r.caller.get()?`).
pub struct Request {
    pub ctx: Ctx,
    pub env: Env,
    pub caller: Signed,
    /// The rows of the read the component's `fold` gave for this route, which the guard's
    /// statement carried ([`serve_folding`]); `None` when it gave none.
    pub folded: Option<Rows>,
}

/// Who calls: present on every route the permission table does not mark public.
pub struct Signed(Option<Caller>);

impl Signed {
    /// The authenticated caller. On a public route there is none: a handler asking for one there
    /// is a mismatch between the table and the handler, answered as an internal error.
    pub fn get(&self) -> Result<&Caller, AppError> {
        self.0
            .as_ref()
            .ok_or_else(|| AppError::internal("a public route's handler asked for a caller"))
    }

    /// The caller if a token was sent (on a route open to anyone).
    pub fn optional(&self) -> Option<&Caller> {
        self.0.as_ref()
    }
}

/// Serves one request of an API component: `handle` gets the route the router chose and the
/// opened [`Request`].
pub async fn serve<R, F, Fut>(
    req: IncomingRequest,
    out: ResponseOutparam,
    router: &Router<R>,
    handle: F,
) where
    R: Copy,
    F: FnOnce(R, Request) -> Fut,
    Fut: Future<Output = Result<Reply, AppError>>,
{
    serve_folding(req, out, router, |_, _| None, handle).await
}

/// [`serve`], where `fold` may name a route's read for the guard to run in its own statement
/// (one statement and two round trips fewer); the handler finds its rows in
/// [`Request::folded`]. Only a `GET` open to any member or user may fold ([`session::guard`]).
pub async fn serve_folding<R, F, Fut>(
    req: IncomingRequest,
    out: ResponseOutparam,
    router: &Router<R>,
    fold: fn(R, &Ctx) -> Option<Call>,
    handle: F,
) where
    R: Copy,
    F: FnOnce(R, Request) -> Fut,
    Fut: Future<Output = Result<Reply, AppError>>,
{
    common::http::serve(req, out, router, |route, ctx| {
        open(route, ctx, fold, handle)
    })
    .await
}

async fn open<R, F, Fut>(
    route: R,
    ctx: Ctx,
    fold: fn(R, &Ctx) -> Option<Call>,
    handle: F,
) -> Result<Reply, AppError>
where
    R: Copy,
    F: FnOnce(R, Request) -> Fut,
    Fut: Future<Output = Result<Reply, AppError>>,
{
    let env = Env::open(&ctx, common::clock::now_ms())?;
    let (caller, folded) = match authz::access(ctx.method, ctx.route) {
        Some(Access::Public) => (None, None),
        Some(Access::PublicOrUser) if ctx.header("authorization").is_none() => (None, None),
        _ => {
            let (caller, folded) = session::guard(
                &ctx,
                &env.cfg,
                &env.db,
                &env.kv,
                env.now_ms,
                fold(route, &ctx),
            )?;
            (Some(caller), folded)
        }
    };
    let rate = caller.as_ref().map(|c| c.rate.headers());
    let result = handle(
        route,
        Request {
            ctx,
            env,
            caller: Signed(caller),
            folded,
        },
    )
    .await;
    match rate {
        Some(headers) => with_rate_headers(result, headers),
        None => result,
    }
}

/// Adds the API limit's headers to the answer, and to an error unless it carries its own (a
/// 429 of another limiter).
fn with_rate_headers(
    result: Result<Reply, AppError>,
    headers: [(&'static str, String); 3],
) -> Result<Reply, AppError> {
    match result {
        Ok(mut reply) => {
            for (k, v) in headers {
                reply = reply.header(k, v);
            }
            Ok(reply)
        }
        Err(mut err) => {
            if err.headers.is_empty() {
                for (k, v) in headers {
                    err = err.with_header(k, v);
                }
            }
            Err(err)
        }
    }
}
