//! The cron trigger, as Spin's cron plugin: `cron_expression` has exactly six fields
//! (seconds first), evaluated in UTC; each event runs a fresh instance's `handle-cron-event`
//! with the Unix time in seconds. A failing run is logged; the schedule continues.

use crate::bindings::cron::fermyon::spin_cron::cron_types::Metadata;
use crate::shared::Shared;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::str::FromStr;
use std::sync::Arc;

pub fn parse(expression: &str) -> Result<cron::Schedule> {
    let fields = expression.split_whitespace().count();
    if fields != 6 {
        bail!("cron_expression {expression:?} must have six fields (sec min hour day month weekday), found {fields}");
    }
    cron::Schedule::from_str(&expression.replace('?', "*"))
        .with_context(|| format!("invalid cron_expression {expression:?}"))
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    component: &str,
    expression: &str,
) -> Result<tokio::task::JoinHandle<()>> {
    let schedule = parse(expression)?;
    let component = component.to_string();
    Ok(tokio::spawn(async move {
        for next in schedule.upcoming(chrono::Utc) {
            let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            run_once(&shared, &component).await;
        }
    }))
}

async fn run_once(shared: &Shared, component: &str) {
    let Some(prepared) = shared.components.get(component).map(|l| l.current()) else {
        return;
    };
    let Some(pre) = prepared.cron.clone() else {
        return;
    };
    let Ok(_permit) = shared.permits.acquire().await else {
        return;
    };
    let mut store = shared.new_store(&prepared);
    let timestamp = chrono::Utc::now().timestamp().max(0) as u64;
    let result = async {
        let instance = pre.instantiate_async(&mut store).await?;
        instance
            .call_handle_cron_event(&mut store, Metadata { timestamp })
            .await
    }
    .await;
    shared.log.guest(component, store.data().take_output());
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => shared.log.event(
            "warn",
            "cron handler failed",
            json!({ "component": component, "error": format!("{e:?}") }),
        ),
        Err(e) => shared.log.event(
            "error",
            "cron handler trapped",
            json!({ "component": component, "cause": format!("{e:?}") }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_fields_with_seconds_like_spin() {
        assert!(parse("*/10 * * * * *").is_ok());
        assert!(parse("0 * * * *").is_err(), "five fields");
        assert!(parse("0 0 1 * * * 2030").is_err(), "seven fields");
        assert!(parse("x * * * * *").is_err());
    }
}
