//! Access tokens: HS256 JWTs (RFC 7519), 15 minutes, signed with HMAC-SHA256 here.
//!
//! Only HS256 is implemented, so only HS256 can be accepted: a header naming another algorithm,
//! or `none`, is refused before anything else is looked at, and the signature is compared in
//! constant time (`Mac::verify_slice`). (A general JWT library links RSA, ECDSA and EdDSA into
//! every component that verifies a token, although only HS256 ever runs.) Time claims are
//! checked against `now`, not a library clock, so tests drive time. The current secret signs;
//! the previous one, when set, still verifies.

use super::config::{AuthConfig, ACCESS_TTL_SECS};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::error::{AppError, Code};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
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
    /// This token's id.
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

/// The one header this API signs and accepts.
#[derive(Serialize, Deserialize)]
struct JwtHeader {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, AppError> {
    Hmac::<Sha256>::new_from_slice(secret).map_err(AppError::internal)
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
    let header = JwtHeader {
        alg: "HS256".into(),
        typ: Some("JWT".into()),
    };
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(AppError::internal)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(AppError::internal)?)
    );
    let mut m = mac(cfg.jwt_secret.expose())?;
    m.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    Ok(format!("{signed}.{signature}"))
}

/// Verifies the header (HS256 only), the signature (current, then previous secret), `iss`,
/// `aud`, `nbf` and `exp` at `now`. Every failure is the same 401: the client learns nothing
/// about which check failed.
pub fn verify(cfg: &AuthConfig, token: &str, now_secs: i64) -> Result<AccessToken, AppError> {
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| invalid("not three segments"))?;
    let (header, payload) = signed
        .split_once('.')
        .filter(|(_, payload)| !payload.contains('.'))
        .ok_or_else(|| invalid("not three segments"))?;
    let decode = |segment: &str| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| invalid("a segment is not base64url"))
    };
    let head: JwtHeader =
        serde_json::from_slice(&decode(header)?).map_err(|_| invalid("header is not JSON"))?;
    if head.alg != "HS256" {
        return Err(invalid(format!("algorithm {} refused", head.alg)));
    }
    let signature = decode(signature)?;
    let secrets = std::iter::once(&cfg.jwt_secret).chain(cfg.jwt_secret_previous.as_ref());
    let mut verified = false;
    for secret in secrets {
        let mut m = mac(secret.expose())?;
        m.update(signed.as_bytes());
        if m.verify_slice(&signature).is_ok() {
            verified = true;
            break;
        }
    }
    if !verified {
        return Err(invalid("signature"));
    }
    let claims: Claims =
        serde_json::from_slice(&decode(payload)?).map_err(|_| invalid("claims are missing"))?;
    if claims.iss != cfg.issuer || claims.aud != cfg.audience {
        return Err(invalid("issuer or audience"));
    }
    check_claims(claims, now_secs)
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
    AppError::new(Code::InvalidToken, "The access token is invalid or expired")
        .with_cause(cause.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::config::Secret;

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
            assert_eq!(err.code, Code::InvalidToken, "{why}");
        }
    }

    #[test]
    fn the_previous_secret_still_verifies_and_others_do_not() {
        let old = cfg(B, None);
        let t = issue(&old, Uuid::new_v4(), Uuid::new_v4(), 1_000).unwrap();
        assert!(verify(&cfg(A, Some(B)), &t, 1_001).is_ok(), "rotated");
        assert!(verify(&cfg(A, None), &t, 1_001).is_err(), "unknown secret");
    }

    /// A token with the given header and claims, signed with `secret` (or with `signature`).
    fn forged(header: &str, claims: &Claims, secret: &str) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
        );
        let mut m = mac(secret.as_bytes()).unwrap();
        m.update(signed.as_bytes());
        format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
        )
    }

    fn claims_of(c: &AuthConfig, token: &str) -> Claims {
        let payload = token.split('.').nth(1).unwrap();
        let claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims.iss, c.issuer);
        claims
    }

    #[test]
    fn only_hs256_with_a_valid_signature_is_accepted() {
        let c = cfg(A, None);
        let t = issue(&c, Uuid::new_v4(), Uuid::new_v4(), 1_000).unwrap();
        let claims = claims_of(&c, &t);
        // The same claims, re-signed by us with the right secret, verify: the forger is sound.
        assert!(verify(&c, &forged(r#"{"alg":"HS256"}"#, &claims, A), 1_001).is_ok());
        let (head, sig) = t.rsplit_once('.').unwrap();
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            t.split('.').nth(1).unwrap()
        );
        let mut flipped = sig.to_string();
        flipped.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
        let refused = [
            (unsigned, "alg none, no signature"),
            (forged(r#"{"alg":"none"}"#, &claims, A), "alg none, signed"),
            (
                forged(r#"{"alg":"HS512"}"#, &claims, A),
                "another algorithm",
            ),
            (forged(r#"{"alg":"HS256"}"#, &claims, B), "another secret"),
            (format!("{head}.{flipped}"), "a changed signature"),
            (format!("{t}.x"), "four segments"),
            (head.to_string(), "two segments"),
            (String::new(), "empty"),
            (format!("{head}.!!!"), "a signature that is not base64url"),
        ];
        for (token, why) in refused {
            let err = verify(&c, &token, 1_001).unwrap_err();
            assert_eq!(err.code, Code::InvalidToken, "{why}");
        }
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
