//! The accounts component: connecting X accounts and managing them. Thin by design: the router
//! and one call per route; the rules live in the accounts domain
//! crate (`crates/accounts`, imported as `accounts`).

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

use accounts::api;
use common::http::{serve, Ctx, Method, Reply, Router};
use common::AppError;
use identity::session::{self, with_rate_headers};
use identity::Env;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Connect,
    Callback,
    AddOAuth1,
    List,
    Get,
    Update,
    Delete,
    Switch,
    Health,
    Refresh,
}

fn router() -> Router<Route> {
    use Method::*;
    Router::new()
        .route(Post, "/api/accounts/connect", Route::Connect)
        .route(Get, "/api/accounts/oauth/callback", Route::Callback)
        .route(Post, "/api/accounts", Route::AddOAuth1)
        .route(Get, "/api/accounts", Route::List)
        .route(Get, "/api/accounts/:id", Route::Get)
        .route(Patch, "/api/accounts/:id", Route::Update)
        .route(Delete, "/api/accounts/:id", Route::Delete)
        .route(Post, "/api/accounts/:id/switch", Route::Switch)
        .route(Get, "/api/accounts/:id/health", Route::Health)
        .route(Post, "/api/accounts/:id/refresh", Route::Refresh)
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    serve(req, out, &router(), handle_route).await
}

async fn handle_route(route: Route, mut ctx: Ctx) -> Result<Reply, AppError> {
    let env = Env::open(&ctx, common::clock::now_ms())?;
    if let Route::Callback = route {
        // Public: the browser comes back from X without our token. One that is sent anyway
        // must be valid and belong to whoever started the flow.
        let bearer = match ctx.header("authorization") {
            Some(_) => Some(
                session::guard(&ctx, &env.cfg, &env.db, &env.kv, env.now_ms)?
                    .user
                    .id,
            ),
            None => None,
        };
        return api::callback(&env, &ctx, bearer).await;
    }
    let caller = session::guard(&ctx, &env.cfg, &env.db, &env.kv, env.now_ms)?;
    let result = match route {
        Route::Connect => api::connect(&env, &ctx, &caller),
        Route::AddOAuth1 => {
            let body = ctx.json().await?;
            api::add_oauth1(&env, &caller, body).await
        }
        Route::List => api::list(&env, &ctx, &caller),
        Route::Get => api::get(&env, &ctx, &caller),
        Route::Update => {
            let body = ctx.json().await?;
            api::update(&env, &ctx, &caller, body)
        }
        Route::Delete => api::delete(&env, &ctx, &caller).await,
        Route::Switch => api::switch(&env, &ctx, &caller),
        Route::Health => api::health(&env, &ctx, &caller).await,
        Route::Refresh => api::refresh_now(&env, &ctx, &caller).await,
        Route::Callback => Err(AppError::internal("callback reached the guarded branch")),
    };
    with_rate_headers(result, &caller.rate)
}
