//! The registry of error codes: every `error.code` the API can answer, with its family (and so
//! its status). Architecture invariant: the wire strings appear here and nowhere else in the
//! code; everything else names a [`Code`], and control flow never compares codes as strings.

use super::ErrorKind;

/// A stable, machine-readable error code (the envelope's `error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    // 400 and 422: the request.
    /// `VAL_001`: a field breaks a rule (length, range, format).
    Invalid,
    /// `VAL_002`: the body is not JSON.
    MalformedJson,
    /// `VAL_003`: JSON of the wrong shape (a missing field, a wrong type, an unknown field).
    WrongShape,
    /// `VAL_004`: the body could not be read.
    UnreadableBody,
    /// `VAL_005`: a body is required.
    MissingBody,
    /// `VAL_006`: the body is not UTF-8 text.
    NotUtf8,
    /// `VAL_007`: a malformed multipart body.
    MalformedMultipart,
    /// `VAL_008`: the body is longer or shorter than its `Content-Length`.
    LengthMismatch,
    /// `VAL_009`: `Content-Length` is required (uploads).
    LengthRequired,
    /// `VAL_010`: text holds U+0000, which PostgreSQL text cannot store.
    NulInText,
    // 401 and 403: who calls.
    /// `AUTH_001`: no bearer token.
    NoToken,
    /// `AUTH_002`: an invalid or expired access token, or a session that ended.
    InvalidToken,
    /// `AUTH_003`: wrong credentials.
    WrongCredentials,
    /// `AUTH_004`: an invalid, expired or reused refresh token.
    InvalidRefreshToken,
    /// `AUTH_005`: a missing or wrong scheduler secret.
    WrongSchedulerSecret,
    /// `AUTH_006`: a missing or wrong metrics token.
    WrongMetricsToken,
    /// `AUTHZ_001`: authenticated, but the role does not allow this.
    Forbidden,
    // 404 and 405.
    /// `NF_001`: the resource does not exist (or is not the caller's workspace's).
    NotFound,
    /// `NF_002`: no route for the path.
    NoRoute,
    /// `HTTP_405`: the route exists, the method does not.
    MethodNotAllowed,
    // 409: the current state.
    /// `CONFLICT_001`: the resource already exists, or another request holds it.
    Exists,
    /// `CONFLICT_002`: an account with this email already exists.
    EmailTaken,
    /// `CONFLICT_003`: the user is already a member.
    AlreadyMember,
    /// `CONFLICT_004`: the workspace's last owner cannot go.
    LastOwner,
    /// `ACCT_STATUS`: the account's status does not allow this change.
    AccountStatus,
    /// `ACCT_HAS_POSTS`: the account still has scheduled posts.
    AccountHasPosts,
    /// `ACCT_NO_REFRESH`: the account has no refresh token (OAuth 1.0a).
    AccountNoRefresh,
    /// `POST_ACCOUNT_INACTIVE`: the post's account cannot publish.
    PostAccountInactive,
    /// `ENGAGEMENT_ACCOUNT_INACTIVE`: the acting account cannot engage.
    EngagementAccountInactive,
    /// `POST_NOT_PUBLISHED`: the post is not on X (yet).
    PostNotPublished,
    /// `POST_NO_SLOTS`: the account's queue has no posting slots.
    NoSlots,
    /// `POST_QUEUE_FULL`: every slot of the queue's horizon is taken.
    QueueFull,
    /// `POST_DUPLICATE`: the same text is already scheduled or published recently.
    DuplicatePost,
    /// `POST_NOT_EDITABLE`: the post is published, publishing or cancelled.
    NotEditable,
    /// `POST_STATE`: the post's state does not allow this action.
    PostState,
    /// `POST_NO_ACCOUNT`: no account to publish with.
    NoAccount,
    /// `IDEMPOTENCY_MISMATCH`: an Idempotency-Key reused with another body.
    IdempotencyMismatch,
    /// `IDEMPOTENCY_IN_FLIGHT`: the first request with this key is still running.
    IdempotencyInFlight,
    // 400 of the account connection flow.
    /// `ACCT_STATE`: an unknown, expired or used OAuth state.
    OAuthState,
    /// `ACCT_DENIED`: the user refused at X.
    OAuthDenied,
    /// `ACCT_CODE`: a missing or rejected authorization code.
    OAuthCode,
    /// `ACCT_CREDENTIALS` (422): X rejected the OAuth 1.0a credentials given.
    BadCredentials,
    // 413, 415, 429.
    /// `PAYLOAD_001`: the body is over the request limit.
    BodyTooLarge,
    /// `PAYLOAD_002`: media over X's size limit for its kind.
    MediaTooLarge,
    /// `MEDIA_001`: the wrong `Content-Type`.
    WrongContentType,
    /// `MEDIA_002`: bytes that are not a supported format (or not the declared one).
    MediaRejected,
    /// `RATE_001`: the API rate limit.
    RateLimited,
    /// `RATE_002`: login throttling.
    LoginThrottled,
    // 5xx: the server and its dependencies.
    /// `DB_001`: PostgreSQL cannot be reached.
    DbUnavailable,
    /// `DB_002`: a serialization failure or deadlock; retrying helps.
    DbContention,
    /// `KV_001`: the key-value store cannot be reached.
    KvUnavailable,
    /// `KV_002`: the key-value store did not return a write.
    KvInconsistent,
    /// `INT_001`: a bug.
    Internal,
    /// `CFG_001`: the operator's configuration is missing or wrong.
    Config,
    /// `CFG_X`: X refused our client credentials.
    XClientConfig,
    // The X API, by meaning.
    /// `X_REAUTH` (409): the account must be reconnected.
    XReauth,
    /// `X_FORBIDDEN` (422).
    XForbidden,
    /// `X_DUPLICATE` (409): X refused a duplicate post.
    XDuplicate,
    /// `X_NOT_FOUND` (404).
    XNotFound,
    /// `X_RATE_LIMITED` (429): X's own limit.
    XRateLimited,
    /// `X_BUDGET` (429): our budget of X's limit for the account is spent.
    XBudget,
    /// `X_USAGE_CAPPED` (503): the monthly usage cap.
    XUsageCapped,
    /// `X_CIRCUIT_OPEN` (503).
    XCircuitOpen,
    /// `X_INVALID` (422): X rejected the request's content.
    XInvalid,
    /// `X_UPSTREAM` (502): X answered 5xx.
    XUpstream,
    /// `X_TIMEOUT` (502).
    XTimeout,
    /// `X_NETWORK` (502).
    XNetwork,
    /// `X_UNKNOWN_OUTCOME` (502): the answer was lost after the request was sent.
    XUnknownOutcome,
    /// `X_BAD_RESPONSE` (502): X's answer did not decode.
    XBadResponse,
}

impl Code {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            Invalid => "VAL_001",
            MalformedJson => "VAL_002",
            WrongShape => "VAL_003",
            UnreadableBody => "VAL_004",
            MissingBody => "VAL_005",
            NotUtf8 => "VAL_006",
            MalformedMultipart => "VAL_007",
            LengthMismatch => "VAL_008",
            LengthRequired => "VAL_009",
            NulInText => "VAL_010",
            NoToken => "AUTH_001",
            InvalidToken => "AUTH_002",
            WrongCredentials => "AUTH_003",
            InvalidRefreshToken => "AUTH_004",
            WrongSchedulerSecret => "AUTH_005",
            WrongMetricsToken => "AUTH_006",
            Forbidden => "AUTHZ_001",
            NotFound => "NF_001",
            NoRoute => "NF_002",
            MethodNotAllowed => "HTTP_405",
            Exists => "CONFLICT_001",
            EmailTaken => "CONFLICT_002",
            AlreadyMember => "CONFLICT_003",
            LastOwner => "CONFLICT_004",
            AccountStatus => "ACCT_STATUS",
            AccountHasPosts => "ACCT_HAS_POSTS",
            AccountNoRefresh => "ACCT_NO_REFRESH",
            PostAccountInactive => "POST_ACCOUNT_INACTIVE",
            EngagementAccountInactive => "ENGAGEMENT_ACCOUNT_INACTIVE",
            PostNotPublished => "POST_NOT_PUBLISHED",
            NoSlots => "POST_NO_SLOTS",
            QueueFull => "POST_QUEUE_FULL",
            DuplicatePost => "POST_DUPLICATE",
            NotEditable => "POST_NOT_EDITABLE",
            PostState => "POST_STATE",
            NoAccount => "POST_NO_ACCOUNT",
            IdempotencyMismatch => "IDEMPOTENCY_MISMATCH",
            IdempotencyInFlight => "IDEMPOTENCY_IN_FLIGHT",
            OAuthState => "ACCT_STATE",
            OAuthDenied => "ACCT_DENIED",
            OAuthCode => "ACCT_CODE",
            BadCredentials => "ACCT_CREDENTIALS",
            BodyTooLarge => "PAYLOAD_001",
            MediaTooLarge => "PAYLOAD_002",
            WrongContentType => "MEDIA_001",
            MediaRejected => "MEDIA_002",
            RateLimited => "RATE_001",
            LoginThrottled => "RATE_002",
            DbUnavailable => "DB_001",
            DbContention => "DB_002",
            KvUnavailable => "KV_001",
            KvInconsistent => "KV_002",
            Internal => "INT_001",
            Config => "CFG_001",
            XClientConfig => "CFG_X",
            XReauth => "X_REAUTH",
            XForbidden => "X_FORBIDDEN",
            XDuplicate => "X_DUPLICATE",
            XNotFound => "X_NOT_FOUND",
            XRateLimited => "X_RATE_LIMITED",
            XBudget => "X_BUDGET",
            XUsageCapped => "X_USAGE_CAPPED",
            XCircuitOpen => "X_CIRCUIT_OPEN",
            XInvalid => "X_INVALID",
            XUpstream => "X_UPSTREAM",
            XTimeout => "X_TIMEOUT",
            XNetwork => "X_NETWORK",
            XUnknownOutcome => "X_UNKNOWN_OUTCOME",
            XBadResponse => "X_BAD_RESPONSE",
        }
    }

    /// The family, and so the status: each code has exactly one.
    pub fn kind(self) -> ErrorKind {
        use Code::*;
        match self {
            MalformedJson | UnreadableBody | MissingBody | NotUtf8 | MalformedMultipart
            | LengthMismatch | LengthRequired | OAuthState | OAuthDenied | OAuthCode => {
                ErrorKind::BadRequest
            }
            Invalid | WrongShape | NulInText | BadCredentials | XForbidden | XInvalid => {
                ErrorKind::Validation
            }
            NoToken | InvalidToken | WrongCredentials | InvalidRefreshToken
            | WrongSchedulerSecret | WrongMetricsToken => ErrorKind::Authentication,
            Forbidden => ErrorKind::Authorization,
            NotFound | NoRoute | XNotFound => ErrorKind::NotFound,
            MethodNotAllowed => ErrorKind::MethodNotAllowed,
            Exists
            | EmailTaken
            | AlreadyMember
            | LastOwner
            | AccountStatus
            | AccountHasPosts
            | AccountNoRefresh
            | PostAccountInactive
            | EngagementAccountInactive
            | PostNotPublished
            | NoSlots
            | QueueFull
            | DuplicatePost
            | NotEditable
            | PostState
            | NoAccount
            | IdempotencyMismatch
            | IdempotencyInFlight
            | XReauth
            | XDuplicate => ErrorKind::Conflict,
            BodyTooLarge | MediaTooLarge => ErrorKind::PayloadTooLarge,
            WrongContentType | MediaRejected => ErrorKind::UnsupportedMediaType,
            RateLimited | LoginThrottled | XRateLimited | XBudget => ErrorKind::RateLimited,
            DbUnavailable | DbContention | KvUnavailable | KvInconsistent | XUsageCapped
            | XCircuitOpen => ErrorKind::ServiceUnavailable,
            Internal | Config | XClientConfig => ErrorKind::Internal,
            XUpstream | XTimeout | XNetwork | XUnknownOutcome | XBadResponse => {
                ErrorKind::ExternalApi
            }
        }
    }

    /// Every code, for the registry's own checks.
    pub const ALL: &'static [Code] = &[
        Code::Invalid,
        Code::MalformedJson,
        Code::WrongShape,
        Code::UnreadableBody,
        Code::MissingBody,
        Code::NotUtf8,
        Code::MalformedMultipart,
        Code::LengthMismatch,
        Code::LengthRequired,
        Code::NulInText,
        Code::NoToken,
        Code::InvalidToken,
        Code::WrongCredentials,
        Code::InvalidRefreshToken,
        Code::WrongSchedulerSecret,
        Code::WrongMetricsToken,
        Code::Forbidden,
        Code::NotFound,
        Code::NoRoute,
        Code::MethodNotAllowed,
        Code::Exists,
        Code::EmailTaken,
        Code::AlreadyMember,
        Code::LastOwner,
        Code::AccountStatus,
        Code::AccountHasPosts,
        Code::AccountNoRefresh,
        Code::PostAccountInactive,
        Code::EngagementAccountInactive,
        Code::PostNotPublished,
        Code::NoSlots,
        Code::QueueFull,
        Code::DuplicatePost,
        Code::NotEditable,
        Code::PostState,
        Code::NoAccount,
        Code::IdempotencyMismatch,
        Code::IdempotencyInFlight,
        Code::OAuthState,
        Code::OAuthDenied,
        Code::OAuthCode,
        Code::BadCredentials,
        Code::BodyTooLarge,
        Code::MediaTooLarge,
        Code::WrongContentType,
        Code::MediaRejected,
        Code::RateLimited,
        Code::LoginThrottled,
        Code::DbUnavailable,
        Code::DbContention,
        Code::KvUnavailable,
        Code::KvInconsistent,
        Code::Internal,
        Code::Config,
        Code::XClientConfig,
        Code::XReauth,
        Code::XForbidden,
        Code::XDuplicate,
        Code::XNotFound,
        Code::XRateLimited,
        Code::XBudget,
        Code::XUsageCapped,
        Code::XCircuitOpen,
        Code::XInvalid,
        Code::XUpstream,
        Code::XTimeout,
        Code::XNetwork,
        Code::XUnknownOutcome,
        Code::XBadResponse,
    ];
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
