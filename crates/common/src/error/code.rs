//! The registry of error codes: every `error.code` the API can answer, with its family (and so
//! its status). Architecture invariant: the wire strings appear here and nowhere else in the
//! code; everything else names a [`Code`], and control flow never compares codes as strings.

use super::ErrorKind;

/// Declares [`Code`] from one table: each code's meaning (the variant), its wire string and its
/// family. The family decides the status.
macro_rules! registry {
    ($($(#[$doc:meta])* $name:ident = $wire:literal, $kind:ident;)*) => {
        /// A stable, machine-readable error code (the envelope's `error.code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, for the registry's own checks.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $wire,)*
                }
            }

            /// The family, and so the status: each code has exactly one.
            pub fn kind(self) -> ErrorKind {
                match self {
                    $(Code::$name => ErrorKind::$kind,)*
                }
            }
        }
    };
}

registry! {
    // 400 and 422: the request.
    /// A field breaks a rule (length, range, format).
    Invalid = "VAL_001", Validation;
    /// The body is not JSON.
    MalformedJson = "VAL_002", BadRequest;
    /// JSON of the wrong shape (a missing field, a wrong type, an unknown field).
    WrongShape = "VAL_003", Validation;
    /// The body could not be read.
    UnreadableBody = "VAL_004", BadRequest;
    /// A body is required.
    MissingBody = "VAL_005", BadRequest;
    /// The body is not UTF-8 text.
    NotUtf8 = "VAL_006", BadRequest;
    /// A malformed multipart body.
    MalformedMultipart = "VAL_007", BadRequest;
    /// The body is longer or shorter than its `Content-Length`.
    LengthMismatch = "VAL_008", BadRequest;
    /// `Content-Length` is required (uploads).
    LengthRequired = "VAL_009", BadRequest;
    /// Text holds U+0000, which PostgreSQL text cannot store.
    NulInText = "VAL_010", Validation;
    // 401 and 403: who calls.
    /// No bearer token.
    NoToken = "AUTH_001", Authentication;
    /// An invalid or expired access token, or a session that ended.
    InvalidToken = "AUTH_002", Authentication;
    /// Wrong credentials.
    WrongCredentials = "AUTH_003", Authentication;
    /// An invalid, expired or reused refresh token.
    InvalidRefreshToken = "AUTH_004", Authentication;
    /// A missing or wrong scheduler secret.
    WrongSchedulerSecret = "AUTH_005", Authentication;
    /// A missing or wrong metrics token.
    WrongMetricsToken = "AUTH_006", Authentication;
    /// Authenticated, but the role does not allow this.
    Forbidden = "AUTHZ_001", Authorization;
    // 404 and 405.
    /// The resource does not exist (or is not the caller's workspace's).
    NotFound = "NF_001", NotFound;
    /// No route for the path.
    NoRoute = "NF_002", NotFound;
    /// The route exists, the method does not.
    MethodNotAllowed = "HTTP_405", MethodNotAllowed;
    // 409: the current state.
    /// The resource already exists, or another request holds it.
    Exists = "CONFLICT_001", Conflict;
    /// An account with this email already exists.
    EmailTaken = "CONFLICT_002", Conflict;
    /// The user is already a member.
    AlreadyMember = "CONFLICT_003", Conflict;
    /// The workspace's last owner cannot go.
    LastOwner = "CONFLICT_004", Conflict;
    /// The account's status does not allow this change.
    AccountStatus = "ACCT_STATUS", Conflict;
    /// The account still has scheduled posts.
    AccountHasPosts = "ACCT_HAS_POSTS", Conflict;
    /// The account has no refresh token (OAuth 1.0a).
    AccountNoRefresh = "ACCT_NO_REFRESH", Conflict;
    /// The post's account cannot publish.
    PostAccountInactive = "POST_ACCOUNT_INACTIVE", Conflict;
    /// The acting account cannot engage.
    EngagementAccountInactive = "ENGAGEMENT_ACCOUNT_INACTIVE", Conflict;
    /// The post is not on X (yet).
    PostNotPublished = "POST_NOT_PUBLISHED", Conflict;
    /// The account's queue has no posting slots.
    NoSlots = "POST_NO_SLOTS", Conflict;
    /// Every slot of the queue's horizon is taken.
    QueueFull = "POST_QUEUE_FULL", Conflict;
    /// The same text is already scheduled or published recently.
    DuplicatePost = "POST_DUPLICATE", Conflict;
    /// The post is published, publishing or cancelled.
    NotEditable = "POST_NOT_EDITABLE", Conflict;
    /// The post's state does not allow this action.
    PostState = "POST_STATE", Conflict;
    /// No account to publish with.
    NoAccount = "POST_NO_ACCOUNT", Conflict;
    /// An Idempotency-Key reused with another body.
    IdempotencyMismatch = "IDEMPOTENCY_MISMATCH", Conflict;
    /// The first request with this key is still running.
    IdempotencyInFlight = "IDEMPOTENCY_IN_FLIGHT", Conflict;
    // 400 of the account connection flow.
    /// An unknown, expired or used OAuth state.
    OAuthState = "ACCT_STATE", BadRequest;
    /// The user refused at X.
    OAuthDenied = "ACCT_DENIED", BadRequest;
    /// A missing or rejected authorization code.
    OAuthCode = "ACCT_CODE", BadRequest;
    /// X rejected the OAuth 1.0a credentials given.
    BadCredentials = "ACCT_CREDENTIALS", Validation;
    // 413, 415, 429.
    /// The body is over the request limit.
    BodyTooLarge = "PAYLOAD_001", PayloadTooLarge;
    /// Media over X's size limit for its kind.
    MediaTooLarge = "PAYLOAD_002", PayloadTooLarge;
    /// The wrong `Content-Type`.
    WrongContentType = "MEDIA_001", UnsupportedMediaType;
    /// Bytes that are not a supported format (or not the declared one).
    MediaRejected = "MEDIA_002", UnsupportedMediaType;
    /// The API rate limit.
    RateLimited = "RATE_001", RateLimited;
    /// Login throttling.
    LoginThrottled = "RATE_002", RateLimited;
    // 5xx: the server and its dependencies.
    /// PostgreSQL cannot be reached.
    DbUnavailable = "DB_001", ServiceUnavailable;
    /// A serialization failure or deadlock; retrying helps.
    DbContention = "DB_002", ServiceUnavailable;
    /// The key-value store cannot be reached.
    KvUnavailable = "KV_001", ServiceUnavailable;
    /// The key-value store did not return a write.
    KvInconsistent = "KV_002", ServiceUnavailable;
    /// A bug.
    Internal = "INT_001", Internal;
    /// The operator's configuration is missing or wrong.
    Config = "CFG_001", Internal;
    /// X refused our client credentials.
    XClientConfig = "CFG_X", Internal;
    // The X API, by meaning.
    /// The account must be reconnected.
    XReauth = "X_REAUTH", Conflict;
    /// `X_FORBIDDEN` (422).
    XForbidden = "X_FORBIDDEN", Validation;
    /// X refused a duplicate post.
    XDuplicate = "X_DUPLICATE", Conflict;
    /// `X_NOT_FOUND` (404).
    XNotFound = "X_NOT_FOUND", NotFound;
    /// X's own limit.
    XRateLimited = "X_RATE_LIMITED", RateLimited;
    /// Our budget of X's limit for the account is spent.
    XBudget = "X_BUDGET", RateLimited;
    /// The monthly usage cap.
    XUsageCapped = "X_USAGE_CAPPED", ServiceUnavailable;
    /// `X_CIRCUIT_OPEN` (503).
    XCircuitOpen = "X_CIRCUIT_OPEN", ServiceUnavailable;
    /// X rejected the request's content.
    XInvalid = "X_INVALID", Validation;
    /// X answered 5xx.
    XUpstream = "X_UPSTREAM", ExternalApi;
    /// `X_TIMEOUT` (502).
    XTimeout = "X_TIMEOUT", ExternalApi;
    /// `X_NETWORK` (502).
    XNetwork = "X_NETWORK", ExternalApi;
    /// The answer was lost after the request was sent.
    XUnknownOutcome = "X_UNKNOWN_OUTCOME", ExternalApi;
    /// X's answer did not decode.
    XBadResponse = "X_BAD_RESPONSE", ExternalApi;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_wire_string() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(
                seen.insert(code.as_str()),
                "{code:?} repeats {}",
                code.as_str()
            );
        }
    }
}
