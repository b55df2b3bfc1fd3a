//! The scheduler's entry points: the cron trigger's tick, the same tick over HTTP for platforms
//! that run no cron trigger (SpinKube, Fermyon Cloud, Akamai), and the Prometheus metrics. The
//! HTTP routes are behind secrets (Spin variables), not user sessions.

use crate::{metrics, owner_name, tick, Options, Report};
use accounts::AccountsConfig;
use common::config::Config;
use common::db::Db;
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};

/// One tick over the connection and configuration of `config`.
pub async fn run(config: &Config) -> Result<Report, AppError> {
    let db = Db::connect(&config.database_url)?;
    let cfg = AccountsConfig::load()?;
    let opts = Options::new(owner_name(common::clock::now_ms()));
    tick(&db, &cfg, &common::clock::now_ms, &opts).await
}

/// `POST /internal/scheduler/tick`, for a caller presenting the `scheduler_secret` variable as a
/// bearer token: one tick, answered with its report.
pub async fn http_tick(ctx: &Ctx) -> Result<Reply, AppError> {
    if !ctx.presents_secret("scheduler_secret") {
        return Err(AppError::new(
            Code::WrongSchedulerSecret,
            "The scheduler secret is missing or wrong",
        ));
    }
    let report = run(ctx.config()?).await?;
    Ok(Reply::ok(
        serde_json::to_value(report).map_err(AppError::internal)?,
    ))
}

/// The cron trigger's tick; the report becomes the log line.
pub async fn cron_tick() -> Result<Report, AppError> {
    run(&Config::load()?).await
}

/// `GET /api/metrics`: Prometheus text, for a scraper presenting the `metrics_token` variable as a
/// bearer token (an unset token refuses every call).
pub fn metrics(ctx: &Ctx) -> Result<Reply, AppError> {
    if !ctx.presents_secret("metrics_token") {
        return Err(AppError::new(
            Code::WrongMetricsToken,
            "The metrics token is missing or wrong",
        ));
    }
    let db = Db::connect(&ctx.config()?.database_url)?;
    let text = metrics::render(&db, common::clock::now_ms())?;
    Ok(Reply::raw(200, metrics::CONTENT_TYPE, text.into_bytes()))
}
