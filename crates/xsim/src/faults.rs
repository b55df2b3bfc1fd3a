//! Injected faults: error statuses, delays, dropped connections and lost responses.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::problem::ApiError;
use crate::state::SimState;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `status` with a problem body (after `delay_ms`).
    #[default]
    Status,
    /// Wait `delay_ms`, then handle the request normally.
    Delay,
    /// Close the connection without answering (the request is not handled).
    Drop,
    /// Handle the request (e.g. create the post), then close the connection unanswered.
    LoseResponse,
}

/// One fault rule; it lets `skip` matching requests through, then fires for the next `count`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    /// HTTP method to match; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path to match; segments `*` or `:name` match any segment, a trailing `/*` any rest.
    pub path: String,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default = "s503")]
    pub status: u16,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub kind: FaultKind,
    /// Matching requests to let through before firing (e.g. fail the third post of a thread).
    #[serde(default)]
    pub skip: u32,
}

fn one() -> u32 {
    1
}
fn s503() -> u16 {
    503
}

/// Per-connection handle that lets a handler make the server close the connection.
#[derive(Clone, Default)]
pub struct ConnKill(pub Arc<Notify>);

fn path_matches(pattern: &str, path: &str) -> bool {
    let (pat, rest) = match pattern.strip_suffix("/*") {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let pat: Vec<&str> = pat.trim_end_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let len_ok = if rest {
        segs.len() > pat.len()
    } else {
        segs.len() == pat.len()
    };
    len_ok
        && pat
            .iter()
            .zip(&segs)
            .all(|(a, b)| a == b || *a == "*" || a.starts_with(':') || a.starts_with('{'))
}

/// Counts the request, then takes the first matching fault (decrementing its count).
fn take(st: &SimState, method: &str, path: &str) -> Option<Fault> {
    let mut inner = st.inner.lock();
    *inner
        .requests
        .entry(format!("{method} {path}"))
        .or_insert(0) += 1;
    if inner.faults.is_empty() {
        return None;
    }
    let i = inner.faults.iter().position(|f| {
        f.count > 0
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path_matches(&f.path, path)
    })?;
    let f = &mut inner.faults[i];
    if f.skip > 0 {
        f.skip -= 1;
        return None;
    }
    f.count -= 1;
    let out = f.clone();
    if f.count == 0 {
        inner.faults.remove(i);
    }
    Some(out)
}

async fn kill(req_kill: Option<ConnKill>) -> Response {
    if let Some(k) = req_kill {
        k.0.notify_one();
        std::future::pending::<()>().await;
    }
    // Not served by our connection loop: the best we can do is an empty 502.
    StatusCode::BAD_GATEWAY.into_response()
}

/// Counts a request in `Inner::in_flight` while it lives (also when its connection is dropped).
struct InFlight(Arc<SimState>);

impl InFlight {
    fn enter(st: &Arc<SimState>) -> InFlight {
        let mut inner = st.inner.lock();
        inner.in_flight += 1;
        inner.most_in_flight = inner.most_in_flight.max(inner.in_flight);
        InFlight(st.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.0.inner.lock();
        inner.in_flight = inner.in_flight.saturating_sub(1);
    }
}

pub async fn middleware(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__admin") {
        return next.run(req).await;
    }
    let _in_flight = InFlight::enter(&st);
    let Some(f) = take(&st, req.method().as_str(), &path) else {
        return next.run(req).await;
    };
    if f.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
    }
    let conn = req.extensions().get::<ConnKill>().cloned();
    match f.kind {
        FaultKind::Delay => next.run(req).await,
        FaultKind::Drop => kill(conn).await,
        FaultKind::LoseResponse => {
            let _ = next.run(req).await;
            kill(conn).await
        }
        FaultKind::Status => {
            let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            ApiError::for_status(status).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn patterns() {
        assert!(path_matches("/2/tweets", "/2/tweets"));
        assert!(!path_matches("/2/tweets", "/2/tweets/1"));
        assert!(path_matches("/2/tweets/:id", "/2/tweets/1"));
        assert!(path_matches("/2/users/*/likes", "/2/users/5/likes"));
        assert!(path_matches("/2/media/*", "/2/media/upload/1/append"));
        assert!(!path_matches("/2/users/me", "/2/users/1"));
    }
}
