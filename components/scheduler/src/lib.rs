//! The scheduler component: the cron trigger runs a tick every 10 seconds; platforms without
//! the cron plugin call `POST /internal/scheduler/tick` with the secret Spin variable
//! `scheduler_secret` as a bearer token. The tick itself is `scheduler::tick`
//! (the scheduler domain crate, `crates/scheduler`).

use common::http::{serve, Method, Router};
use scheduler::routes;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Tick,
}

fn router() -> Router<Route> {
    Router::new().route(Method::Post, "/internal/scheduler/tick", Route::Tick)
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    serve(req, out, &router(), |route, ctx| async move {
        match route {
            Route::Tick => routes::http_tick(&ctx).await,
        }
    })
    .await
}

struct Cron;

impl common::cron::Guest for Cron {
    fn handle_cron_event(_: common::cron::Metadata) -> Result<(), common::cron::Error> {
        let report = spin_sdk::http::run(routes::cron_tick()).map_err(|e| {
            common::cron::Error::Other(format!("{}: {}", e.code, e.public_message()))
        })?;
        println!(
            "{}",
            serde_json::json!({ "msg": "scheduler tick", "report": report })
        );
        Ok(())
    }
}

common::cron::bindings::export_cron!(Cron);
