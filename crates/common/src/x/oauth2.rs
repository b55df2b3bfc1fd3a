//! OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256) as a confidential client:
//! the authorize URL, code exchange, refresh (tokens rotate: X's refresh tokens are single-use)
//! and revocation, with HTTP Basic client authentication.
//!
//! The caller persists a refreshed pair before using the new access token (X rotates the refresh
//! token: the old one stops working); a transient failure (`Timeout`, `Network`, `Server`) must
//! never disconnect an account — only `Unauthorized` means the user has to reconnect.

use super::api::Method;
use super::client::DEFAULT_TIMEOUT;
use super::error::XError;
use super::oauth1::encode;
use super::transport;
use crate::config::{Secret, XConfig};
use crate::error::AppError;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The scopes the platform asks for; `offline.access` is what yields a refresh token.
pub const SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "like.write",
    "media.write",
    "offline.access",
];

/// A PKCE pair. The verifier stays on our side (key-value, with the `state`, for minutes).
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret<String>,
    pub challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, base64url (43 characters, RFC 7636 §4.1).
    pub fn generate() -> Result<Pkce, AppError> {
        Ok(Self::from_verifier(random_urlsafe(32)?))
    }

    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = challenge_s256(&verifier);
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))` without padding.
pub fn challenge_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An unguessable `state` for the authorize round trip.
pub fn random_state() -> Result<String, AppError> {
    random_urlsafe(24)
}

fn random_urlsafe(n: usize) -> Result<String, AppError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Tokens as stored: the access token, its expiry, and the (rotating) refresh token.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret<String>,
    pub refresh_token: Option<Secret<String>>,
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Reads a token endpoint answer received at `now`.
pub fn parse_token_response(
    status: u16,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<TokenSet, XError> {
    if !(200..300).contains(&status) {
        return Err(XError::from_oauth_response(status, body, now));
    }
    let t: TokenBody = serde_json::from_slice(body).map_err(|e| XError::Decode {
        detail: e.to_string(),
    })?;
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: t.refresh_token.map(Secret::new),
        // X documents two hours; assume that when the field is missing.
        expires_at: now + Duration::seconds(t.expires_in.unwrap_or(7_200)),
        scopes: t
            .scope
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    })
}

/// A token-endpoint request before sending: form pairs plus the Basic header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub url: String,
    pub authorization: String,
    pub form: Vec<(String, String)>,
}

impl TokenRequest {
    pub fn body(&self) -> String {
        self.form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The app's OAuth 2.0 identity.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub api_base_url: String,
    pub authorize_url: String,
    pub client_id: String,
    pub client_secret: Secret<String>,
    pub timeout: std::time::Duration,
}

impl OAuthApp {
    pub fn new(
        api_base_url: &str,
        authorize_url: &str,
        client_id: &str,
        client_secret: Secret<String>,
    ) -> Self {
        OAuthApp {
            api_base_url: api_base_url.trim_end_matches('/').to_string(),
            authorize_url: authorize_url.to_string(),
            client_id: client_id.to_string(),
            client_secret,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// From the X configuration; a missing client id or secret is a configuration error.
    pub fn from_config(config: &XConfig) -> Result<Self, crate::AppError> {
        let (Some(id), Some(secret)) = (&config.client_id, &config.client_secret) else {
            return Err(crate::AppError::config(
                "variables x_client_id and x_client_secret are not set",
            ));
        };
        let mut app = Self::new(
            &config.api_base_url,
            &config.authorize_url,
            id,
            secret.clone(),
        );
        app.timeout = config.request_timeout;
        Ok(app)
    }

    /// Where to send the user's browser.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
        scopes: &[&str],
    ) -> String {
        let params = [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", &scopes.join(" ")),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let sep = if self.authorize_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{}", self.authorize_url, query.join("&"))
    }

    fn request(&self, path: &str, form: &[(&str, &str)]) -> TokenRequest {
        // RFC 6749 §2.3.1: both parts form-encoded before Basic.
        let creds = format!(
            "{}:{}",
            encode(&self.client_id),
            encode(self.client_secret.expose())
        );
        TokenRequest {
            url: format!("{}{path}", self.api_base_url),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(creds)
            ),
            form: form
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn code_request(&self, code: &str, verifier: &str, redirect_uri: &str) -> TokenRequest {
        self.request(
            "/2/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
                ("client_id", &self.client_id),
            ],
        )
    }

    pub fn refresh_request(&self, refresh_token: &str) -> TokenRequest {
        self.request(
            "/2/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", &self.client_id),
            ],
        )
    }

    pub fn revoke_request(&self, token: &str, hint: &str) -> TokenRequest {
        self.request(
            "/2/oauth2/revoke",
            &[
                ("token", token),
                ("token_type_hint", hint),
                ("client_id", &self.client_id),
            ],
        )
    }

    /// Exchanges an authorization code (valid 30 s, single use). Never retried: a second try
    /// with a spent code can only fail.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, XError> {
        let (status, body) = self
            .send(&self.code_request(code, verifier, redirect_uri))
            .await?;
        parse_token_response(status, &body, now)
    }

    /// Refreshes; the answer carries a new refresh token and the old one is dead. Not retried
    /// automatically: if the answer was lost, the old token may already be spent.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, XError> {
        let (status, body) = self.send(&self.refresh_request(refresh_token)).await?;
        parse_token_response(status, &body, now)
    }

    /// Revokes an access or refresh token (`hint`: `access_token` | `refresh_token`).
    pub async fn revoke(&self, token: &str, hint: &str, now: DateTime<Utc>) -> Result<(), XError> {
        let (status, body) = self.send(&self.revoke_request(token, hint)).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(XError::from_oauth_response(status, &body, now))
        }
    }

    async fn send(&self, req: &TokenRequest) -> Result<(u16, Vec<u8>), XError> {
        let headers = [
            ("authorization", req.authorization.clone()),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("accept", "application/json".to_string()),
        ];
        let raw = transport::send(
            Method::Post,
            &req.url,
            &headers,
            req.body().into_bytes(),
            self.timeout,
        )
        .await
        .map_err(|f| match f {
            transport::Failure::Timeout { .. } => XError::Timeout,
            transport::Failure::Network { detail, .. } => XError::Network { detail },
        })?;
        Ok((raw.status, raw.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn app() -> OAuthApp {
        OAuthApp::new(
            "http://127.0.0.1:4010/",
            "http://127.0.0.1:4010/i/oauth2/authorize",
            "xsim-client",
            Secret::new("xsim-secret".into()),
        )
    }

    /// RFC 7636 Appendix B. (The verifier is base64url of the appendix's 32 octets, and the
    /// challenge's SHA-256 octets match the ones printed there.)
    #[test]
    fn rfc7636_appendix_b_challenge() {
        let octets = [
            116u8, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let pkce = Pkce::from_verifier(verifier);
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_43_url_safe_characters_and_fresh() {
        let (a, b) = (Pkce::generate().unwrap(), Pkce::generate().unwrap());
        assert_eq!(a.verifier.expose().len(), 43);
        assert!(a
            .verifier
            .expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a.verifier.expose(), b.verifier.expose());
        assert_eq!(a.challenge, challenge_s256(a.verifier.expose()));
        assert_ne!(random_state().unwrap(), random_state().unwrap());
    }

    #[test]
    fn the_authorize_url_carries_every_parameter_encoded() {
        let url = app().authorize_url("http://localhost:3000/cb?x=1", "st&te", "chal", SCOPES);
        assert_eq!(
            url,
            "http://127.0.0.1:4010/i/oauth2/authorize?response_type=code&client_id=xsim-client\
             &redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb%3Fx%3D1\
             &scope=tweet.read%20tweet.write%20users.read%20like.write%20media.write%20offline.access\
             &state=st%26te&code_challenge=chal&code_challenge_method=S256"
        );
    }

    #[test]
    fn token_requests_use_basic_auth_and_form_bodies() {
        let req = app().code_request("c0de", "verif", "http://cb");
        assert_eq!(req.url, "http://127.0.0.1:4010/2/oauth2/token");
        // base64("xsim-client:xsim-secret")
        assert_eq!(req.authorization, "Basic eHNpbS1jbGllbnQ6eHNpbS1zZWNyZXQ=");
        assert_eq!(
            req.body(),
            "grant_type=authorization_code&code=c0de&redirect_uri=http%3A%2F%2Fcb&code_verifier=verif&client_id=xsim-client"
        );
        let refresh = app().refresh_request("r1");
        assert_eq!(
            refresh.body(),
            "grant_type=refresh_token&refresh_token=r1&client_id=xsim-client"
        );
        assert_eq!(
            app().revoke_request("t", "access_token").url,
            "http://127.0.0.1:4010/2/oauth2/revoke"
        );
    }

    #[test]
    fn token_answers_become_token_sets_or_typed_errors() {
        let now = Utc.timestamp_opt(1_000, 0).unwrap();
        let ok = br#"{"token_type":"bearer","expires_in":7200,"access_token":"a1","scope":"tweet.read offline.access","refresh_token":"r2"}"#;
        let t = parse_token_response(200, ok, now).unwrap();
        assert_eq!(t.access_token.expose(), "a1");
        assert_eq!(t.refresh_token.unwrap().expose(), "r2");
        assert_eq!(t.expires_at, Utc.timestamp_opt(8_200, 0).unwrap());
        assert_eq!(t.scopes, ["tweet.read", "offline.access"]);
        let no_refresh =
            parse_token_response(200, br#"{"access_token":"a","expires_in":60}"#, now).unwrap();
        assert!(no_refresh.refresh_token.is_none());
        let reused = br#"{"error":"invalid_request","error_description":"Value passed for the token was invalid."}"#;
        assert!(matches!(
            parse_token_response(400, reused, now),
            Err(XError::Unauthorized { .. })
        ));
        assert_eq!(
            parse_token_response(503, b"", now).unwrap_err(),
            XError::Server { status: 503 }
        );
        assert!(matches!(
            parse_token_response(200, b"{}", now),
            Err(XError::Decode { .. })
        ));
    }
}
