//! The system component: health, version, the API document and the metrics. Thin by design:
//! checks live in `common::health`, metrics in `scheduler::metrics` (the
//! scheduler domain crate counts what its tick does).

use common::http::{serve, Method, Reply, Router};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Health,
    Version,
    OpenApi,
    Metrics,
}

/// The API description; a test checks that every documented route is served.
const OPENAPI: &str = common::openapi::DOCUMENT;

fn router() -> Router<Route> {
    Router::new()
        .route(Method::Get, "/api/health", Route::Health)
        .route(Method::Get, "/api/version", Route::Version)
        .route(Method::Get, "/api/openapi.json", Route::OpenApi)
        .route(Method::Get, "/api/metrics", Route::Metrics)
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    serve(req, out, &router(), |route, ctx| async move {
        match route {
            Route::Health => common::health::check(ctx.config()?, &ctx.correlation_id),
            Route::Version => Ok(Reply::ok(common::health::version("system"))),
            Route::OpenApi => Ok(Reply::raw(
                200,
                "application/json",
                OPENAPI.as_bytes().to_vec(),
            )),
            Route::Metrics => scheduler::routes::metrics(&ctx),
        }
    })
    .await
}
