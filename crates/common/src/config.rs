//! Typed configuration, loaded once per request from Spin variables.
//!
//! Every variable is declared once in `spin.toml [variables]` and mapped into the components
//! that read it. Secrets are wrapped in [`Secret`] so that they never print.

use crate::error::AppError;
use std::fmt;

/// A value that must never reach a log line or a response.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The only way to read the value: greppable, deliberate.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Default request body limit: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// What every component needs to know about its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret<String>,
    pub max_body_bytes: usize,
    pub environment: String,
}

impl Config {
    /// Loads from Spin variables.
    pub fn load() -> Result<Config, AppError> {
        Self::from_source(|name| spin_sdk::variables::get(name).ok())
    }

    /// Loads from any source of variables; `None` means "not set".
    pub fn from_source(get: impl Fn(&str) -> Option<String>) -> Result<Config, AppError> {
        let database_url = required(&get, "database_url")?;
        let max_body_bytes = match get("max_body_bytes").filter(|s| !s.is_empty()) {
            None => DEFAULT_MAX_BODY_BYTES,
            Some(raw) => raw.trim().parse::<usize>().map_err(|_| {
                AppError::config(format!("variable max_body_bytes is not a number: {raw:?}"))
            })?,
        };
        let environment = get("environment")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "development".to_string());
        Ok(Config {
            database_url: Secret::new(database_url),
            max_body_bytes,
            environment,
        })
    }
}

/// Default timeout of one call to X.
pub const DEFAULT_X_TIMEOUT_MS: u64 = 10_000;

/// Where X is and who we are to it. Separate from [`Config`] because only the components that
/// talk to X declare these variables.
#[derive(Debug, Clone)]
pub struct XConfig {
    /// `x_api_base_url`: `https://api.x.com` in production, the simulator in tests.
    pub api_base_url: String,
    /// `x_authorize_url`: where users consent. X serves it on `x.com`, not on the API host.
    pub authorize_url: String,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret<String>>,
    pub consumer_key: Option<String>,
    pub consumer_secret: Option<Secret<String>>,
    pub app_bearer_token: Option<Secret<String>>,
    /// `x_request_timeout_ms`.
    pub request_timeout: std::time::Duration,
}

impl XConfig {
    /// Loads from Spin variables.
    pub fn load() -> Result<XConfig, AppError> {
        Self::from_source(|name| spin_sdk::variables::get(name).ok())
    }

    pub fn from_source(get: impl Fn(&str) -> Option<String>) -> Result<XConfig, AppError> {
        let base = required(&get, "x_api_base_url")?
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(AppError::config(format!(
                "variable x_api_base_url must be an http(s) URL: {base:?}"
            )));
        }
        let optional = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let authorize_url =
            optional("x_authorize_url").unwrap_or_else(|| default_authorize_url(&base));
        let request_timeout_ms = match optional("x_request_timeout_ms") {
            None => DEFAULT_X_TIMEOUT_MS,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    AppError::config(format!(
                        "variable x_request_timeout_ms is not a positive number: {raw:?}"
                    ))
                })?,
        };
        Ok(XConfig {
            api_base_url: base,
            authorize_url,
            client_id: optional("x_client_id"),
            client_secret: optional("x_client_secret").map(Secret::new),
            consumer_key: optional("x_consumer_key"),
            consumer_secret: optional("x_consumer_secret").map(Secret::new),
            app_bearer_token: optional("x_app_bearer_token").map(Secret::new),
            request_timeout: std::time::Duration::from_millis(request_timeout_ms),
        })
    }
}

/// X's consent page lives on `x.com`; a simulator serves it beside its API.
fn default_authorize_url(api_base: &str) -> String {
    let host = api_base.split("://").nth(1).unwrap_or("");
    if host == "api.x.com" || host == "api.twitter.com" {
        "https://x.com/i/oauth2/authorize".to_string()
    } else {
        format!("{api_base}/i/oauth2/authorize")
    }
}

fn required(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<String, AppError> {
    get(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| AppError::config(format!("variable {name} is not set")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn secrets_never_print() {
        let cfg = Config::from_source(|n| match n {
            "database_url" => Some("postgres://u:topsecret@h/db".into()),
            _ => None,
        })
        .unwrap();
        let printed = format!("{cfg:?} {}", cfg.database_url);
        assert!(!printed.contains("topsecret"), "{printed}");
        assert_eq!(cfg.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn a_bad_number_is_a_configuration_error() {
        let err = Config::from_source(|n| match n {
            "database_url" => Some("postgres://h/db".into()),
            "max_body_bytes" => Some("lots".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(err.code, Code::Config);
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn x_config_defaults_and_secrets() {
        let cfg = XConfig::from_source(|n| match n {
            "x_api_base_url" => Some("http://127.0.0.1:4010/".into()),
            "x_client_secret" => Some("hush-hush".into()),
            "x_client_id" => Some("".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(cfg.api_base_url, "http://127.0.0.1:4010");
        assert_eq!(
            cfg.authorize_url,
            "http://127.0.0.1:4010/i/oauth2/authorize"
        );
        assert_eq!(cfg.client_id, None, "empty means unset");
        assert_eq!(
            cfg.request_timeout.as_millis(),
            DEFAULT_X_TIMEOUT_MS as u128
        );
        assert!(!format!("{cfg:?}").contains("hush-hush"));
        let prod =
            XConfig::from_source(|n| (n == "x_api_base_url").then(|| "https://api.x.com".into()))
                .unwrap();
        assert_eq!(prod.authorize_url, "https://x.com/i/oauth2/authorize");
    }

    #[test]
    fn x_config_refuses_a_missing_or_odd_base_url() {
        assert!(XConfig::from_source(|_| None).is_err());
        let err = XConfig::from_source(|n| (n == "x_api_base_url").then(|| "api.x.com".into()))
            .unwrap_err();
        assert_eq!(err.code, Code::Config);
        let err = XConfig::from_source(|n| match n {
            "x_api_base_url" => Some("https://api.x.com".into()),
            "x_request_timeout_ms" => Some("0".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(err
            .cause
            .as_deref()
            .unwrap()
            .contains("x_request_timeout_ms"));
    }

    #[test]
    fn a_missing_database_url_is_a_configuration_error() {
        let err = Config::from_source(|_| None).unwrap_err();
        assert!(err.cause.as_deref().unwrap().contains("database_url"));
    }
}
