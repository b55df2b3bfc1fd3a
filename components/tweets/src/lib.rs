//! The tweets component: composing, scheduling, editing and cancelling posts. Thin by design:
//! the router and one call per route; the rules live in the posts domain crate
//! (`crates/posts`, imported as `posts`).

use common::db::Call;
use common::http::{Ctx, Method, Reply, Router};
use common::AppError;
use identity::Request;
use posts::api;
use posts::engage::{routes, Action};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Create,
    List,
    Get,
    Update,
    Delete,
    Validate,
    Bulk,
    Like,
    Retweet,
    Engage,
    Engagements,
    Media,
}

fn router() -> Router<Route> {
    use Method::*;
    Router::new()
        .route(Post, "/api/tweets", Route::Create)
        .route(Get, "/api/tweets", Route::List)
        .route(Post, "/api/tweets/validate", Route::Validate)
        .route(Post, "/api/tweets/bulk", Route::Bulk)
        .route(Post, "/api/tweets/:id/like", Route::Like)
        .route(Post, "/api/tweets/:id/retweet", Route::Retweet)
        .route(Post, "/api/engagements", Route::Engage)
        .route(Get, "/api/engagements", Route::Engagements)
        .route(Post, "/api/media", Route::Media)
        .route(Get, "/api/tweets/:id", Route::Get)
        .route(Put, "/api/tweets/:id", Route::Update)
        .route(Delete, "/api/tweets/:id", Route::Delete)
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    identity::serve_folding(req, out, &router(), fold, route).await
}

/// The read the guard runs in its own statement, for the routes that are most read.
fn fold(route: Route, ctx: &Ctx) -> Option<Call> {
    match route {
        Route::Get => api::get_read(ctx),
        Route::List => api::list_read(ctx),
        _ => None,
    }
}

async fn route(route: Route, mut r: Request) -> Result<Reply, AppError> {
    let (env, ctx, caller, folded) = (&r.env, &mut r.ctx, r.caller.get()?, r.folded.take());
    match route {
        Route::Create => api::create(env, ctx, caller).await,
        Route::List => api::list(env, ctx, caller, folded),
        Route::Get => api::get(env, ctx, caller, folded),
        Route::Update => api::update(env, ctx, caller).await,
        Route::Delete => api::delete(env, ctx, caller).await,
        Route::Validate => api::validate(env, ctx, caller).await,
        Route::Bulk => api::bulk(env, ctx, caller).await,
        Route::Like => routes::on_post(env, ctx, caller, Action::Like).await,
        Route::Retweet => routes::on_post(env, ctx, caller, Action::Repost).await,
        Route::Engage => routes::create(env, ctx, caller).await,
        Route::Engagements => routes::list(env, ctx, caller),
        Route::Media => posts::upload::upload(env, ctx, caller).await,
    }
}
