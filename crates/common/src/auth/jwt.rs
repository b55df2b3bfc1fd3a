//! Access tokens: HS256 JWTs through `jsonwebtoken` (rust_crypto backend), 15 minutes.
//!
//! The algorithm is pinned to HS256 (a header naming another, or `none`, is refused). Time
//! claims are checked here against `now`, not by the library's clock, so tests drive time.
//! The current secret signs; the previous one, when set, still verifies.

use super::config::{AuthConfig, ACCESS_TTL_SECS};
use crate::error::AppError;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// This token's id, for the logout denylist.
    pub jti: String,
    /// The session: the refresh-token family this access token belongs to.
    pub sid: String,
}

/// A verified access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub jti: String,
    pub exp: i64,
}

/// Signs a 15-minute access token for `user_id` in session `session_id`.
pub fn issue(
    cfg: &AuthConfig,
    user_id: Uuid,
    session_id: Uuid,
    now_secs: i64,
) -> Result<String, AppError> {
    let claims = Claims {
        iss: cfg.issuer.clone(),
        aud: cfg.audience.clone(),
        sub: user_id.to_string(),
        iat: now_secs,
        nbf: now_secs,
        exp: now_secs + ACCESS_TTL_SECS,
        jti: Uuid::new_v4().simple().to_string(),
        sid: session_id.to_string(),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(cfg.jwt_secret.expose()),
    )
    .map_err(|e| AppError::internal(format!("jwt encode: {e}")))
}

/// Verifies signature (current, then previous secret), `iss`, `aud`, `nbf` and `exp` at `now`.
/// Every failure is the same 401: the client learns nothing about which check failed.
pub fn verify(cfg: &AuthConfig, token: &str, now_secs: i64) -> Result<AccessToken, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[&cfg.issuer]);
    validation.set_audience(&[&cfg.audience]);
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "nbf"]);
    // Time is checked below against `now`.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let secrets = std::iter::once(&cfg.jwt_secret).chain(cfg.jwt_secret_previous.as_ref());
    let mut last = None;
    for secret in secrets {
        match decode::<Claims>(
            token,
            &DecodingKey::from_secret(secret.expose()),
            &validation,
        ) {
            Ok(data) => return check_claims(data.claims, now_secs),
            Err(e) => last = Some(e),
        }
    }
    Err(invalid(last.map(|e| e.to_string()).unwrap_or_default()))
}

fn check_claims(claims: Claims, now_secs: i64) -> Result<AccessToken, AppError> {
    if claims.exp <= now_secs {
        return Err(invalid("expired"));
    }
    if claims.nbf > now_secs {
        return Err(invalid("not yet valid"));
    }
    let user_id = Uuid::parse_str(&claims.sub).map_err(|_| invalid("sub is not a uuid"))?;
    let session_id = Uuid::parse_str(&claims.sid).map_err(|_| invalid("sid is not a uuid"))?;
    if claims.jti.is_empty() {
        return Err(invalid("no jti"));
    }
    Ok(AccessToken {
        user_id,
        session_id,
        jti: claims.jti,
        exp: claims.exp,
    })
}

fn invalid(cause: impl Into<String>) -> AppError {
    AppError::unauthenticated("AUTH_002", "The access token is invalid or expired")
        .with_cause(cause.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn cfg(secret: &str, previous: Option<&str>) -> AuthConfig {
        let mut c =
            AuthConfig::from_source(|n| (n == "jwt_secret").then(|| secret.to_string())).unwrap();
        c.jwt_secret_previous = previous.map(|p| Secret::new(p.as_bytes().to_vec()));
        c
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn a_token_verifies_within_its_lifetime_only() {
        let c = cfg(A, None);
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let t = issue(&c, user, sid, 1_000).unwrap();
        let ok = verify(&c, &t, 1_000 + 60).unwrap();
        assert_eq!((ok.user_id, ok.session_id), (user, sid));
        let cases = [(999, "before nbf"), (1_000 + ACCESS_TTL_SECS, "at exp")];
        for (now, why) in cases {
            let err = verify(&c, &t, now).unwrap_err();
            assert_eq!(err.code, "AUTH_002", "{why}");
        }
    }

    #[test]
    fn the_previous_secret_still_verifies_and_others_do_not() {
        let old = cfg(B, None);
        let t = issue(&old, Uuid::new_v4(), Uuid::new_v4(), 1_000).unwrap();
        assert!(verify(&cfg(A, Some(B)), &t, 1_001).is_ok(), "rotated");
        assert!(verify(&cfg(A, None), &t, 1_001).is_err(), "unknown secret");
    }

    #[test]
    fn wrong_issuer_or_audience_is_refused() {
        let c = cfg(A, None);
        let mut other = c.clone();
        other.issuer = "someone-else".into();
        let t = issue(&other, Uuid::new_v4(), Uuid::new_v4(), 1_000).unwrap();
        assert!(verify(&c, &t, 1_001).is_err());
        let mut other = c.clone();
        other.audience = "another-api".into();
        let t = issue(&other, Uuid::new_v4(), Uuid::new_v4(), 1_000).unwrap();
        assert!(verify(&c, &t, 1_001).is_err());
    }
}
