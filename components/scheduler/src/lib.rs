//! The scheduler component: the cron trigger runs a tick every 10 seconds; platforms without
//! the cron plugin call `POST /internal/scheduler/tick` with the secret Spin variable
//! `scheduler_secret` as a bearer token. The tick itself is `scheduler::tick`
//! (the scheduler domain crate, `crates/scheduler`).

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

use accounts::AccountsConfig;
use common::config::Config;
use common::db::Db;
use common::http::{serve, Ctx, Method, Reply, Router};
use common::AppError;
use scheduler::{self, Options};
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
            Route::Tick => http_tick(ctx).await,
        }
    })
    .await
}

async fn http_tick(ctx: Ctx) -> Result<Reply, AppError> {
    let secret = spin_sdk::variables::get("scheduler_secret").unwrap_or_default();
    let presented = ctx
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if !scheduler::secret_matches(&secret, presented) {
        return Err(AppError::unauthenticated(
            "AUTH_005",
            "The scheduler secret is missing or wrong",
        ));
    }
    let report = run(ctx.config()?).await?;
    Ok(Reply::ok(
        serde_json::to_value(report).map_err(AppError::internal)?,
    ))
}

async fn run(config: &Config) -> Result<scheduler::Report, AppError> {
    let db = Db::connect(&config.database_url)?;
    let cfg = AccountsConfig::load()?;
    let opts = Options::new(scheduler::owner_name(common::clock::now_ms()));
    scheduler::tick(&db, &cfg, &common::clock::now_ms, &opts).await
}

struct Cron;

impl common::cron::Guest for Cron {
    fn handle_cron_event(_: common::cron::Metadata) -> Result<(), common::cron::Error> {
        let fail =
            |e: AppError| common::cron::Error::Other(format!("{}: {}", e.code, e.public_message()));
        let config = Config::load().map_err(fail)?;
        let report = spin_sdk::http::run(run(&config)).map_err(fail)?;
        println!(
            "{}",
            serde_json::json!({ "msg": "scheduler tick", "report": report })
        );
        Ok(())
    }
}

common::cron::bindings::export_cron!(Cron);
