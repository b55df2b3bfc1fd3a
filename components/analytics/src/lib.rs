//! The analytics component: reports over the metrics the scheduler collects. Thin by design: the
//! router and one call per route; the rules live in the analytics
//! domain crate (`crates/analytics`, imported as `analytics`).

use analytics::api;
use common::http::{Method, Reply, Router};
use common::AppError;
use identity::Request;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Overview,
    Tweets,
    Series,
    Engagement,
    Audience,
    BestTimes,
    Usage,
}

fn router() -> Router<Route> {
    use Method::*;
    Router::new()
        .route(Get, "/api/analytics/overview", Route::Overview)
        .route(Get, "/api/analytics/tweets", Route::Tweets)
        .route(Get, "/api/analytics/tweets/:id/series", Route::Series)
        .route(Get, "/api/analytics/engagement", Route::Engagement)
        .route(Get, "/api/analytics/audience", Route::Audience)
        .route(Get, "/api/analytics/best-times", Route::BestTimes)
        .route(Get, "/api/analytics/usage", Route::Usage)
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    identity::serve(req, out, &router(), route).await
}

async fn route(route: Route, r: Request) -> Result<Reply, AppError> {
    let (env, ctx, caller) = (&r.env, &r.ctx, r.caller.get()?);
    match route {
        Route::Overview => api::overview(env, ctx, caller),
        Route::Tweets => api::tweets(env, ctx, caller),
        Route::Series => api::series(env, ctx, caller),
        Route::Engagement => api::engagement(env, ctx, caller),
        Route::Audience => api::audience(env, ctx, caller),
        Route::BestTimes => api::best_times(env, ctx, caller),
        Route::Usage => api::usage(env, ctx, caller),
    }
}
