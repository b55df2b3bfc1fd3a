//! The tweets component: composing, scheduling, editing and cancelling posts. Thin by design:
//! the router and one call per route; the rules live in `common::posts`.

use common::auth::session::{self, with_rate_headers};
use common::http::{serve, Ctx, Method, Reply, Router};
use common::identity::Env;
use common::posts::api;
use common::AppError;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Create,
    List,
    Get,
    Update,
    Delete,
    Validate,
}

fn router() -> Router<Route> {
    use Method::*;
    Router::new()
        .route(Post, "/api/tweets", Route::Create)
        .route(Get, "/api/tweets", Route::List)
        .route(Post, "/api/tweets/validate", Route::Validate)
        .route(Get, "/api/tweets/:id", Route::Get)
        .route(Put, "/api/tweets/:id", Route::Update)
        .route(Delete, "/api/tweets/:id", Route::Delete)
}

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    serve(req, &router(), handle_route).await
}

async fn handle_route(route: Route, mut ctx: Ctx) -> Result<Reply, AppError> {
    let env = Env::open(&ctx, now_ms())?;
    let caller = session::guard(&ctx, &env.cfg, &env.db, &env.kv, env.now_ms)?;
    let result = match route {
        Route::Create => api::create(&env, &mut ctx, &caller).await,
        Route::List => api::list(&env, &ctx, &caller),
        Route::Get => api::get(&env, &ctx, &caller),
        Route::Update => api::update(&env, &mut ctx, &caller).await,
        Route::Delete => api::delete(&env, &ctx, &caller).await,
        Route::Validate => api::validate(&env, &mut ctx, &caller).await,
    };
    with_rate_headers(result, &caller.rate)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
