//! The auth component's typed configuration, from Spin variables. Separate from
//! [`common::config::Config`] because only the components that verify tokens declare these.

use common::config::Secret;
use common::error::AppError;
use common::ratelimit::Quota;

/// The shortest HS256 secret accepted (RFC 7518 §3.2: a key of at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `jwt_secret`: signs and verifies.
    pub jwt_secret: Secret<Vec<u8>>,
    /// `jwt_secret_previous`: verifies only, so a rotation does not log everyone out.
    pub jwt_secret_previous: Option<Secret<Vec<u8>>>,
    pub issuer: String,
    pub audience: String,
    /// Per user, on every authenticated route (`api_rate_limit` per `api_rate_window_seconds`).
    pub api_quota: Quota,
    /// Login attempts per email (`login_limit_per_email` per `login_window_seconds`).
    pub login_email_quota: Quota,
    /// Login and registration attempts per client address (`login_limit_per_client`).
    pub login_client_quota: Quota,
}

impl AuthConfig {
    pub fn load() -> Result<AuthConfig, AppError> {
        Self::from_source(|name| spin_sdk::variables::get(name).ok())
    }

    pub fn from_source(get: impl Fn(&str) -> Option<String>) -> Result<AuthConfig, AppError> {
        let opt = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let secret =
            opt("jwt_secret").ok_or_else(|| AppError::config("variable jwt_secret is not set"))?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AppError::config(format!(
                "variable jwt_secret must be at least {MIN_SECRET_BYTES} bytes (it has {})",
                secret.len()
            )));
        }
        let previous = match opt("jwt_secret_previous") {
            Some(p) if p.len() < MIN_SECRET_BYTES => {
                return Err(AppError::config(format!(
                "variable jwt_secret_previous must be empty or at least {MIN_SECRET_BYTES} bytes"
            )))
            }
            p => p.map(|p| Secret::new(p.into_bytes())),
        };
        let number = |name: &str, default: u32| -> Result<u32, AppError> {
            match opt(name) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        AppError::config(format!(
                            "variable {name} is not a positive number: {raw:?}"
                        ))
                    }),
            }
        };
        let api_window = number("api_rate_window_seconds", 60)?;
        let login_window = number("login_window_seconds", 900)?;
        Ok(AuthConfig {
            jwt_secret: Secret::new(secret.into_bytes()),
            jwt_secret_previous: previous,
            issuer: opt("jwt_issuer").unwrap_or_else(|| "xmp".into()),
            audience: opt("jwt_audience").unwrap_or_else(|| "xmp-api".into()),
            api_quota: Quota::new(number("api_rate_limit", 600)?, api_window),
            login_email_quota: Quota::new(number("login_limit_per_email", 10)?, login_window),
            login_client_quota: Quota::new(number("login_limit_per_client", 100)?, login_window),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::error::Code;

    fn source<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_short_or_missing_secret_is_a_clear_configuration_error() {
        let long = "s".repeat(32);
        let with_previous = [
            ("jwt_secret", long.as_str()),
            ("jwt_secret_previous", "tiny"),
        ];
        let cases: [(&[(&str, &str)], &str); 3] = [
            (&[], "jwt_secret is not set"),
            (&[("jwt_secret", "short")], "at least 32 bytes"),
            (&with_previous, "jwt_secret_previous"),
        ];
        for (vars, expected) in cases {
            let err = AuthConfig::from_source(source(vars)).unwrap_err();
            assert_eq!(err.code, Code::Config);
            assert!(
                err.cause.as_deref().unwrap().contains(expected),
                "{expected}"
            );
        }
    }

    #[test]
    fn defaults_apply_and_secrets_never_print() {
        let secret = "x".repeat(40);
        let cfg = AuthConfig::from_source(source(&[
            ("jwt_secret", &secret),
            ("jwt_secret_previous", ""),
        ]))
        .unwrap();
        assert!(cfg.jwt_secret_previous.is_none());
        assert_eq!(cfg.issuer, "xmp");
        assert_eq!(cfg.api_quota.limit, 600);
        assert!(!format!("{cfg:?}").contains(&secret));
    }
}
