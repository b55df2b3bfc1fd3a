//! The accounts component's configuration, from Spin variables.

use common::config::{Secret, XConfig};
use common::crypto::Keyring;
use common::error::AppError;

/// The path of the OAuth 2.0 callback, as routed in `spin.toml`.
pub const CALLBACK_PATH: &str = "/api/accounts/oauth/callback";

pub struct AccountsConfig {
    /// `encryption_key` (and `encryption_key_previous` during a rotation).
    pub keys: Keyring,
    pub x: XConfig,
    /// `x_redirect_uri`: the callback URL registered with the X app. Empty: this request's
    /// origin followed by [`CALLBACK_PATH`].
    pub redirect_uri: Option<String>,
    /// `accounts_connected_url`: where the browser goes after the callback (with
    /// `?status=connected&accountId=…` or `?status=error&code=…`). Empty: the callback answers
    /// JSON.
    pub connected_url: Option<String>,
}

impl AccountsConfig {
    pub fn load() -> Result<AccountsConfig, AppError> {
        Self::from_source(|name| spin_sdk::variables::get(name).ok())
    }

    pub fn from_source(get: impl Fn(&str) -> Option<String>) -> Result<AccountsConfig, AppError> {
        let optional = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let key = optional("encryption_key")
            .ok_or_else(|| AppError::config("variable encryption_key is not set"))?;
        let previous = optional("encryption_key_previous").map(Secret::new);
        Ok(AccountsConfig {
            keys: Keyring::from_base64(&Secret::new(key), previous.as_ref())?,
            x: XConfig::from_source(&get)?,
            redirect_uri: optional("x_redirect_uri"),
            connected_url: optional("accounts_connected_url"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn source(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_missing_or_short_key_is_a_configuration_error_that_does_not_echo_it() {
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        for vars in [
            vec![("x_api_base_url", "http://x".to_string())],
            vec![
                ("x_api_base_url", "http://x".to_string()),
                ("encryption_key", short.clone()),
            ],
        ] {
            let err = AccountsConfig::from_source(source(vars)).err().unwrap();
            assert_eq!(err.status(), 500);
            assert!(!format!("{err:?}").contains(&short));
        }
    }

    #[test]
    fn both_keys_and_the_optional_urls_are_read() {
        let b64 = |b: u8| base64::engine::general_purpose::STANDARD.encode([b; 32]);
        let cfg = AccountsConfig::from_source(source(vec![
            ("x_api_base_url", "http://x".to_string()),
            ("encryption_key", b64(1)),
            ("encryption_key_previous", b64(2)),
            (
                "accounts_connected_url",
                "https://app.example/accounts".into(),
            ),
            ("x_redirect_uri", " ".into()),
        ]))
        .unwrap();
        assert_eq!(
            cfg.connected_url.as_deref(),
            Some("https://app.example/accounts")
        );
        assert_eq!(cfg.redirect_uri, None);
        let sealed = cfg.keys.seal(b"x", "aad").unwrap();
        assert!(sealed.contains(cfg.keys.current_key_id()));
    }
}
