//! The tweets component: composing, scheduling, editing and cancelling posts. Thin by design:
//! the router and one call per route; the rules live in the posts domain crate
//! (`crates/posts`, imported as `posts`).

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

use common::http::{serve, Ctx, Method, Reply, Router};
use common::AppError;
use identity::session::{self, with_rate_headers};
use identity::Env;
use posts::{api, engage};
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
    serve(req, out, &router(), handle_route).await
}

async fn handle_route(route: Route, mut ctx: Ctx) -> Result<Reply, AppError> {
    let env = Env::open(&ctx, common::clock::now_ms())?;
    let caller = session::guard(&ctx, &env.cfg, &env.db, &env.kv, env.now_ms)?;
    let result = match route {
        Route::Create => api::create(&env, &mut ctx, &caller).await,
        Route::List => api::list(&env, &ctx, &caller),
        Route::Get => api::get(&env, &ctx, &caller),
        Route::Update => api::update(&env, &mut ctx, &caller).await,
        Route::Delete => api::delete(&env, &ctx, &caller).await,
        Route::Validate => api::validate(&env, &mut ctx, &caller).await,
        Route::Bulk => api::bulk(&env, &mut ctx, &caller).await,
        Route::Like | Route::Retweet => {
            let action = match route {
                Route::Like => engage::Action::Like,
                _ => engage::Action::Repost,
            };
            let post = api::post_id(&ctx)?;
            let body = if ctx.header("content-type").is_some() {
                ctx.json().await?
            } else {
                engage::OnPostBody::default()
            };
            let (status, data) = engage::on_post(&env, &caller, post, action, body).await?;
            Ok(Reply::with_status(status, data))
        }
        Route::Engage => {
            let body = ctx.json().await?;
            let (status, data) = engage::create(&env, &caller, body).await?;
            Ok(Reply::with_status(status, data))
        }
        Route::Media => posts::upload::upload(&env, &mut ctx, &caller).await,
        Route::Engagements => Ok(Reply::ok(engage::list(&env.db, &caller, |n| {
            ctx.query_param(n)
        })?)),
    };
    with_rate_headers(result, &caller.rate)
}
