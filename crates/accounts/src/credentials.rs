//! An account's X credentials, sealed as one JSON document bound to the account and its
//! workspace. Nothing else in the row is secret; nothing secret is outside this document.

use common::config::Secret;
use common::crypto::Keyring;
use common::error::AppError;
use common::x::{Auth, OAuth1Credentials};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    OAuth2 {
        access_token: String,
        refresh_token: Option<String>,
    },
    OAuth1 {
        consumer_key: String,
        consumer_secret: String,
        access_token: String,
        access_token_secret: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::OAuth2 { .. } => f.write_str("Credentials::OAuth2([redacted])"),
            Credentials::OAuth1 { .. } => f.write_str("Credentials::OAuth1([redacted])"),
        }
    }
}

/// The associated data that binds a sealed document to one account of one workspace.
pub fn aad(workspace_id: &str, account_id: &str) -> String {
    format!("x_account:{workspace_id}:{account_id}:credentials")
}

impl Credentials {
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::OAuth2 { .. } => "oauth2",
            Credentials::OAuth1 { .. } => "oauth1",
        }
    }

    pub fn seal(
        &self,
        keys: &Keyring,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<String, AppError> {
        let json = serde_json::to_vec(self).map_err(AppError::internal)?;
        keys.seal(&json, &aad(workspace_id, account_id))
    }

    /// Opens a sealed document; `true` in the answer means it was sealed with the previous key
    /// and should be re-sealed on the next write.
    pub fn open(
        keys: &Keyring,
        sealed: &str,
        workspace_id: &str,
        account_id: &str,
    ) -> Result<(Credentials, bool), AppError> {
        let opened = keys.open(sealed, &aad(workspace_id, account_id))?;
        let creds = serde_json::from_slice(opened.plaintext.expose())
            .map_err(|_| AppError::internal("sealed credentials are not a credentials document"))?;
        Ok((creds, opened.stale_key))
    }

    /// How the X client authenticates as this account.
    pub fn auth(&self) -> Auth {
        match self {
            Credentials::OAuth2 { access_token, .. } => {
                Auth::User(Secret::new(access_token.clone()))
            }
            Credentials::OAuth1 {
                consumer_key,
                consumer_secret,
                access_token,
                access_token_secret,
            } => Auth::OAuth1(OAuth1Credentials {
                consumer_key: consumer_key.clone(),
                consumer_secret: Secret::new(consumer_secret.clone()),
                token: access_token.clone(),
                token_secret: Secret::new(access_token_secret.clone()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> Keyring {
        let k = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        Keyring::from_base64(&Secret::new(k), None).unwrap()
    }

    #[test]
    fn credentials_round_trip_only_for_their_own_account_and_workspace() {
        let creds = Credentials::OAuth2 {
            access_token: "at-123".into(),
            refresh_token: Some("rt-456".into()),
        };
        let sealed = creds.seal(&keys(), "w1", "a1").unwrap();

        assert!(!sealed.contains("at-123") && !sealed.contains("rt-456"));
        let (opened, stale) = Credentials::open(&keys(), &sealed, "w1", "a1").unwrap();
        assert_eq!(opened, creds);
        assert!(!stale);
        assert!(
            Credentials::open(&keys(), &sealed, "w2", "a1").is_err(),
            "another workspace"
        );
        assert!(
            Credentials::open(&keys(), &sealed, "w1", "a2").is_err(),
            "another account"
        );
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let creds = Credentials::OAuth1 {
            consumer_key: "ck".into(),
            consumer_secret: "cs-secret".into(),
            access_token: "at".into(),
            access_token_secret: "ats-secret".into(),
        };
        let printed = format!("{creds:?}");
        assert!(!printed.contains("secret") || printed.contains("redacted"));
        assert!(!printed.contains("cs-secret") && !printed.contains("ats-secret"));
    }
}
