//! `XClient`: one account's (or the app's) view of the X API, with timeouts, budgets,
//! circuit breakers and retries around every call.
//!
//! Each attempt: breakers (account, then global) → budget → send with a timeout → record the
//! rate-limit headers and the outcome → retry only transient failures of idempotent calls,
//! with full-jitter backoff under a deadline. Time comes from `clock` (wall time by default) so
//! that a test can substitute its own.

use super::api::{
    self, CreatedPost, Lookup, Media, MediaCategory, MetricFields, NewPost, PostPage, User,
    XRequest,
};
use super::breaker::{Breakers, Circuit};
use super::budget::Budgets;
use super::error::XError;
use super::rate::RateHeaders;
use super::retry::{random_unit, should_retry, RetryPolicy};
use super::transport::{self, Failure};
use super::{oauth1, Auth, Endpoint};
use crate::config::XConfig;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Chunk size of chunked media uploads (X's examples use chunks of at most 1 MB).
pub const MEDIA_CHUNK_BYTES: usize = 1_000_000;

/// A successful answer, with its rate-limit headers for callers that plan ahead.
#[derive(Debug, Clone)]
pub struct XResponse {
    pub status: u16,
    pub rate: RateHeaders,
    pub body: Vec<u8>,
}

pub struct XClient {
    base_url: String,
    auth: Auth,
    account: String,
    timeout: Duration,
    retry: RetryPolicy,
    budgets: Option<Budgets>,
    breakers: Option<Breakers>,
    clock: fn() -> DateTime<Utc>,
    /// Added to the clock: a caller running on a driven clock (the scheduler's tick in tests)
    /// keeps budgets and breakers on that same time line.
    offset: chrono::Duration,
}

impl XClient {
    /// A client without budgets or breakers; add them with [`XClient::with_guards`].
    pub fn new(base_url: impl Into<String>, auth: Auth) -> Self {
        XClient {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            auth,
            account: "app".to_string(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            budgets: None,
            breakers: None,
            clock: Utc::now,
            offset: chrono::Duration::zero(),
        }
    }

    pub fn from_config(config: &XConfig, auth: Auth) -> Self {
        Self::new(config.api_base_url.clone(), auth).with_timeout(config.request_timeout)
    }

    /// The account the budgets and the account breaker are keyed by (our account id or the X
    /// user id, as long as the caller is consistent).
    pub fn for_account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    pub fn with_guards(mut self, budgets: Budgets, breakers: Breakers) -> Self {
        self.budgets = Some(budgets);
        self.breakers = Some(breakers);
        self
    }

    /// Budgets and breakers in the default key-value store with default policies.
    pub fn with_default_guards(self) -> Result<Self, crate::AppError> {
        Ok(self.with_guards(Budgets::open()?, Breakers::open()?))
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_clock(mut self, clock: fn() -> DateTime<Utc>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs the client's clock `offset_ms` ahead of (or behind) its source.
    pub fn with_clock_offset(mut self, offset_ms: i64) -> Self {
        self.offset = chrono::Duration::milliseconds(offset_ms);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)() + self.offset
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    // ---- Endpoints ----

    pub async fn me(&self) -> Result<User, XError> {
        api::parse_data(&self.execute(&api::me()).await?.body)
    }

    pub async fn user(&self, id: &str) -> Result<User, XError> {
        api::parse_data(&self.execute(&api::user(id)?).await?.body)
    }

    /// Sent once. `Timeout` and `Network` mean the request never left; `UnknownOutcome` means
    /// it may have been published — reconcile with [`XClient::user_posts`] before retrying.
    pub async fn create_post(&self, post: &NewPost) -> Result<CreatedPost, XError> {
        api::parse_data(&self.execute(&api::create_post(post)).await?.body)
    }

    /// `true` when deleted; deleting an already deleted post is X's 404 (`NotFound`).
    pub async fn delete_post(&self, id: &str) -> Result<bool, XError> {
        api::parse_flag(&self.execute(&api::delete_post(id)?).await?.body, "deleted")
    }

    pub async fn like(&self, user_id: &str, post_id: &str) -> Result<bool, XError> {
        api::parse_flag(
            &self.execute(&api::like(user_id, post_id)?).await?.body,
            "liked",
        )
    }

    /// `Ok(false)`: the like is gone.
    pub async fn unlike(&self, user_id: &str, post_id: &str) -> Result<bool, XError> {
        api::parse_flag(
            &self.execute(&api::unlike(user_id, post_id)?).await?.body,
            "liked",
        )
    }

    pub async fn repost(&self, user_id: &str, post_id: &str) -> Result<bool, XError> {
        api::parse_flag(
            &self.execute(&api::repost(user_id, post_id)?).await?.body,
            "retweeted",
        )
    }

    /// `Ok(false)`: the repost is gone.
    pub async fn unrepost(&self, user_id: &str, post_id: &str) -> Result<bool, XError> {
        api::parse_flag(
            &self.execute(&api::unrepost(user_id, post_id)?).await?.body,
            "retweeted",
        )
    }

    /// Up to 100 posts; missing ones and unauthorized fields come back in `errors`.
    pub async fn lookup_posts(&self, ids: &[&str], fields: MetricFields) -> Result<Lookup, XError> {
        api::parse_lookup(&self.execute(&api::lookup_posts(ids, fields)?).await?.body)
    }

    /// One page of the user's posts created at or after `since`, newest first.
    pub async fn user_posts(
        &self,
        user_id: &str,
        since: DateTime<Utc>,
        pagination_token: Option<&str>,
    ) -> Result<PostPage, XError> {
        let req = api::user_posts(user_id, since, pagination_token)?;
        api::parse_page(&self.execute(&req).await?.body)
    }

    /// One-shot upload (images up to X's 5 MB).
    pub async fn upload_media(
        &self,
        bytes: &[u8],
        category: MediaCategory,
    ) -> Result<Media, XError> {
        api::parse_data(
            &self
                .execute(&api::media_upload(bytes, category))
                .await?
                .body,
        )
    }

    /// Chunked upload (video, GIF): initialize, append 1 MB segments, finalize. The answer may
    /// still be processing; see [`XClient::wait_for_media`].
    pub async fn upload_media_chunked(
        &self,
        bytes: &[u8],
        media_type: &str,
        category: MediaCategory,
    ) -> Result<Media, XError> {
        let init = api::media_initialize(bytes.len() as u64, media_type, category);
        let media: Media = api::parse_data(&self.execute(&init).await?.body)?;
        for (index, chunk) in bytes.chunks(MEDIA_CHUNK_BYTES).enumerate() {
            let req = api::media_append(&media.id, index as u32, chunk)?;
            self.execute(&req).await?;
        }
        api::parse_data(&self.execute(&api::media_finalize(&media.id)?).await?.body)
    }

    /// The steps of a chunked upload one by one, for callers that stream: `INIT` with the total
    /// size, each segment as it arrives, then `FINALIZE`.
    pub async fn media_initialize(
        &self,
        total_bytes: u64,
        media_type: &str,
        category: MediaCategory,
    ) -> Result<Media, XError> {
        let init = api::media_initialize(total_bytes, media_type, category);
        api::parse_data(&self.execute(&init).await?.body)
    }

    pub async fn media_append(
        &self,
        media_id: &str,
        segment_index: u32,
        chunk: &[u8],
    ) -> Result<(), XError> {
        let req = api::media_append(media_id, segment_index, chunk)?;
        self.execute(&req).await.map(|_| ())
    }

    pub async fn media_finalize(&self, media_id: &str) -> Result<Media, XError> {
        api::parse_data(&self.execute(&api::media_finalize(media_id)?).await?.body)
    }

    pub async fn media_status(&self, media_id: &str) -> Result<Media, XError> {
        api::parse_data(&self.execute(&api::media_status(media_id)?).await?.body)
    }

    /// Polls STATUS, honouring `check_after_secs`, until processing succeeds (`Ok`), fails
    /// (`InvalidRequest` with X's error) or `max_wait` passes (`Timeout`).
    pub async fn wait_for_media(&self, media: Media, max_wait: Duration) -> Result<Media, XError> {
        let started = self.now();
        let mut media = media;
        loop {
            match media.processing_info.as_ref() {
                None => return Ok(media),
                Some(p) if p.state == "succeeded" => return Ok(media),
                Some(p) if p.state == "failed" => {
                    return Err(XError::InvalidRequest {
                        detail: "media processing failed".into(),
                        details: p.error.clone().unwrap_or_default(),
                    })
                }
                Some(p) => {
                    let wait = Duration::from_secs(p.check_after_secs.unwrap_or(1).clamp(1, 30));
                    let elapsed = (self.now() - started).to_std().unwrap_or_default();
                    if elapsed + wait > max_wait {
                        return Err(XError::Timeout);
                    }
                    transport::sleep(wait).await;
                    media = self.media_status(&media.id).await?;
                }
            }
        }
    }

    // ---- The machinery ----

    /// Sends any request with the full treatment; public so that callers can reach an endpoint
    /// this client does not wrap yet.
    pub async fn execute(&self, req: &XRequest) -> Result<XResponse, XError> {
        let started = self.now();
        let idempotent = req.endpoint.is_idempotent();
        let mut attempts = 0;
        let mut last_error: Option<XError> = None;
        loop {
            if let Err(refused) = self.admit(req.endpoint, self.now()) {
                // A retry refused by our own guards reports the failure that caused it.
                return Err(last_error.unwrap_or(refused));
            }
            attempts += 1;
            let result = self.attempt(req).await;
            let now = self.now();
            self.record_outcome(&result, now);
            match result {
                Err(e) if should_retry(&e, idempotent) => {
                    match self.retry.next_delay(attempts, started, now, random_unit()) {
                        Some(delay) => {
                            last_error = Some(e);
                            transport::sleep(delay).await;
                        }
                        None => return Err(e),
                    }
                }
                other => return other,
            }
        }
    }

    fn admit(&self, endpoint: Endpoint, now: DateTime<Utc>) -> Result<(), XError> {
        if let Some(breakers) = &self.breakers {
            breakers.admit(&Circuit::Account(self.account.clone()), now)?;
            breakers.admit(&Circuit::Global, now)?;
        }
        if let Some(budgets) = &self.budgets {
            budgets.may_call(&self.account, endpoint, now)?;
        }
        Ok(())
    }

    fn record_outcome(&self, result: &Result<XResponse, XError>, now: DateTime<Utc>) {
        let Some(breakers) = &self.breakers else {
            return;
        };
        // Refusals made here (open circuit, spent budget) never reached X: nothing to learn.
        if let Err(XError::CircuitOpen { .. } | XError::Deferred { .. }) = result {
            return;
        }
        let outage = result.as_ref().err().is_some_and(XError::is_outage);
        breakers.record(&Circuit::Account(self.account.clone()), outage, now);
        breakers.record(&Circuit::Global, outage, now);
    }

    async fn attempt(&self, req: &XRequest) -> Result<XResponse, XError> {
        let now = self.now();
        let url = req.url(&self.base_url);
        let nonce = oauth1::nonce().map_err(|e| XError::Network {
            detail: format!("no randomness for the OAuth 1.0a nonce: {e}"),
        })?;
        let authorization = req.authorization(&self.base_url, &self.auth, &nonce, now.timestamp());
        let (content_type, body) = req.body_bytes();
        let mut headers = vec![
            ("authorization", authorization),
            ("accept", "application/json".to_string()),
        ];
        if let Some(ct) = content_type {
            headers.push(("content-type", ct.to_string()));
        }
        let raw = transport::send(req.method, &url, &headers, body, self.timeout)
            .await
            .map_err(|f| failure_to_error(f, req.endpoint))?;
        let now = self.now();
        let rate = RateHeaders::parse(raw.header_pairs());
        if let Some(budgets) = &self.budgets {
            budgets.record(&self.account, req.endpoint, &rate, raw.status != 429, now);
        }
        if (200..300).contains(&raw.status) {
            Ok(XResponse {
                status: raw.status,
                rate,
                body: raw.body,
            })
        } else {
            Err(XError::from_response(raw.status, &rate, &raw.body, now))
        }
    }
}

/// A transport failure as the caller must understand it: for a create that may have been
/// sent, the outcome is unknown; otherwise a timeout or a network error.
pub(crate) fn failure_to_error(failure: Failure, endpoint: Endpoint) -> XError {
    match failure {
        Failure::Timeout { maybe_sent: true }
        | Failure::Network {
            maybe_sent: true, ..
        } if endpoint == Endpoint::CreatePost => XError::UnknownOutcome {
            detail: match failure {
                Failure::Timeout { .. } => "timeout".to_string(),
                Failure::Network { detail, .. } => detail,
            },
        },
        Failure::Timeout { .. } => XError::Timeout,
        Failure::Network { detail, .. } => XError::Network { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_that_may_have_left_has_an_unknown_outcome() {
        let lost = Failure::Network {
            maybe_sent: true,
            detail: "ConnectionTerminated".into(),
        };
        assert!(matches!(
            failure_to_error(lost.clone(), Endpoint::CreatePost),
            XError::UnknownOutcome { .. }
        ));
        assert!(matches!(
            failure_to_error(Failure::Timeout { maybe_sent: true }, Endpoint::CreatePost),
            XError::UnknownOutcome { .. }
        ));
        assert!(matches!(
            failure_to_error(lost, Endpoint::DeletePost),
            XError::Network { .. }
        ));
        assert_eq!(
            failure_to_error(Failure::Timeout { maybe_sent: false }, Endpoint::CreatePost),
            XError::Timeout
        );
        let refused = Failure::Network {
            maybe_sent: false,
            detail: "ConnectionRefused".into(),
        };
        assert!(matches!(
            failure_to_error(refused, Endpoint::CreatePost),
            XError::Network { .. }
        ));
    }

    #[test]
    fn transport_codes_separate_not_sent_from_maybe_sent() {
        use spin_sdk::http::ErrorCode;
        let not_sent = [
            ErrorCode::ConnectionRefused,
            ErrorCode::HttpRequestDenied,
            ErrorCode::DestinationNotFound,
        ];
        for code in not_sent {
            assert!(
                matches!(
                    transport::classify_code(&code),
                    Failure::Network {
                        maybe_sent: false,
                        ..
                    }
                ),
                "{code:?}"
            );
        }
        let maybe = [
            ErrorCode::ConnectionTerminated,
            ErrorCode::HttpResponseIncomplete,
            ErrorCode::HttpProtocolError,
        ];
        for code in maybe {
            assert!(
                matches!(
                    transport::classify_code(&code),
                    Failure::Network {
                        maybe_sent: true,
                        ..
                    }
                ),
                "{code:?}"
            );
        }
        assert_eq!(
            transport::classify_code(&ErrorCode::ConnectionReadTimeout),
            Failure::Timeout { maybe_sent: true }
        );
        assert_eq!(
            transport::classify_code(&ErrorCode::ConnectionTimeout),
            Failure::Timeout { maybe_sent: false }
        );
    }
}
