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

fn required(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<String, AppError> {
    get(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| AppError::config(format!("variable {name} is not set")))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(err.code, "CFG_001");
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn a_missing_database_url_is_a_configuration_error() {
        let err = Config::from_source(|_| None).unwrap_err();
        assert!(err.cause.unwrap().contains("database_url"));
    }
}
