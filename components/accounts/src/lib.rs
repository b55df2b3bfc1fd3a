//! The accounts component: connecting X accounts and managing them. Thin by design: the router
//! and one call per route; the rules live in the accounts domain
//! crate (`crates/accounts`, imported as `accounts`).

use accounts::api;
use common::db::Call;
use common::http::{Ctx, Method, Reply, Router};
use common::AppError;
use identity::Request;
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
    identity::serve_folding(req, out, &router(), fold, route).await
}

/// The read the guard runs in its own statement: the page of the account list.
fn fold(route: Route, ctx: &Ctx) -> Option<Call> {
    match route {
        Route::List => api::list_read(ctx),
        _ => None,
    }
}

async fn route(route: Route, mut r: Request) -> Result<Reply, AppError> {
    let (env, ctx) = (&r.env, &mut r.ctx);
    match route {
        Route::Callback => api::callback(env, ctx, r.caller.optional().map(|c| c.user.id)).await,
        Route::Connect => api::connect(env, ctx, r.caller.get()?),
        Route::AddOAuth1 => api::add_oauth1(env, r.caller.get()?, ctx.json().await?).await,
        Route::List => api::list(env, ctx, r.caller.get()?, r.folded.take()),
        Route::Get => api::get(env, ctx, r.caller.get()?),
        Route::Update => {
            let body = ctx.json().await?;
            api::update(env, ctx, r.caller.get()?, body)
        }
        Route::Delete => api::delete(env, ctx, r.caller.get()?).await,
        Route::Switch => api::switch(env, ctx, r.caller.get()?),
        Route::Health => api::health(env, ctx, r.caller.get()?).await,
        Route::Refresh => api::refresh_now(env, ctx, r.caller.get()?).await,
    }
}
