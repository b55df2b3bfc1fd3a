//! One account as the database holds it (never with its credentials), its states, and its
//! JSON form.

use common::clock::rfc3339;
use common::db::{self, Column, Param, Row};
use common::error::AppError;
use serde::Serialize;
use serde_json::Value;
use spin_sdk::pg4::DbValue;
use std::fmt;
use uuid::Uuid;

/// An account's status, stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// X refused the grant: only reconnecting the account brings it back.
    NeedsReauth,
    Paused,
    Suspended,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 4] = [
        AccountStatus::Active,
        AccountStatus::NeedsReauth,
        AccountStatus::Paused,
        AccountStatus::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::NeedsReauth => "needs_reauth",
            AccountStatus::Paused => "paused",
            AccountStatus::Suspended => "suspended",
        }
    }

    /// The status a stored or requested name stands for; `None` for any other text.
    pub fn parse(s: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// How an account authenticates to X, stored as `oauth2` or `oauth1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AuthKind {
    /// OAuth 2.0 user tokens: they expire and are refreshed.
    #[serde(rename = "oauth2")]
    OAuth2,
    /// OAuth 1.0a user credentials: they never expire and have no refresh.
    #[serde(rename = "oauth1")]
    OAuth1,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::OAuth2 => "oauth2",
            AuthKind::OAuth1 => "oauth1",
        }
    }

    pub fn parse(s: &str) -> Option<AuthKind> {
        [AuthKind::OAuth2, AuthKind::OAuth1]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AuthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Both states are text columns: a value outside the type is a bug in our SQL or migrations,
/// so it fails like any other column that does not decode.
impl Column for AccountStatus {
    const EXPECTED: &'static str = "an account status";
    fn from_value(value: &DbValue) -> Option<Self> {
        AccountStatus::parse(db::text(value)?)
    }
}

impl Column for AuthKind {
    const EXPECTED: &'static str = "an auth kind";
    fn from_value(value: &DbValue) -> Option<Self> {
        AuthKind::parse(db::text(value)?)
    }
}

impl From<AccountStatus> for Param {
    fn from(s: AccountStatus) -> Param {
        Param::Str(s.as_str().into())
    }
}

impl From<AuthKind> for Param {
    fn from(k: AuthKind) -> Param {
        Param::Str(k.as_str().into())
    }
}

/// One account as the API shows it (never with credentials), as `xmp_account` (migration 0012)
/// reads it: instants truncated to the millisecond, as `xmp_iso()` writes them in the stored
/// list items.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub x_user_id: String,
    pub username: String,
    pub display_name: String,
    pub label: Option<String>,
    pub auth_kind: AuthKind,
    pub scopes: String,
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub timezone: String,
    pub posting_slots: Value,
    pub daily_post_cap: Option<i64>,
    pub connected_by: Option<Uuid>,
    pub token_expires_ms: Option<i64>,
    pub last_refreshed_ms: Option<i64>,
    pub last_error_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Account {
    pub(super) fn from_row(r: &Row<'_>) -> Result<Account, AppError> {
        Ok(Account {
            id: r.get("id")?,
            workspace_id: r.get("workspace_id")?,
            x_user_id: r.get("x_user_id")?,
            username: r.get("username")?,
            display_name: r.get("display_name")?,
            label: r.get("label")?,
            auth_kind: r.get("auth_kind")?,
            scopes: r.get("scopes")?,
            status: r.get("status")?,
            last_error: r.get("last_error")?,
            timezone: r.get("timezone")?,
            posting_slots: serde_json::from_str(&r.get::<String>("posting_slots")?)
                .map_err(AppError::internal)?,
            daily_post_cap: r.get("daily_post_cap")?,
            connected_by: r.get("connected_by")?,
            token_expires_ms: r.get("token_expires_ms")?,
            last_refreshed_ms: r.get("last_refreshed_ms")?,
            last_error_ms: r.get("last_error_ms")?,
            created_ms: r.get("created_ms")?,
            updated_ms: r.get("updated_ms")?,
        })
    }

    /// The account as the API answers it: the same object PostgreSQL stores as its list item
    /// (`xmp_account_item()`, migration 0006).
    pub fn view(&self) -> AccountView<'_> {
        AccountView {
            id: self.id,
            x_user_id: &self.x_user_id,
            username: &self.username,
            display_name: &self.display_name,
            label: self.label.as_deref(),
            auth_kind: self.auth_kind,
            scopes: self.scopes.split_whitespace().collect(),
            status: self.status,
            paused: self.status == AccountStatus::Paused,
            last_error: self.last_error.as_deref(),
            last_error_at: self.last_error_ms.map(rfc3339),
            timezone: &self.timezone,
            posting_slots: &self.posting_slots,
            daily_post_cap: self.daily_post_cap,
            connected_by: self.connected_by,
            token_expires_at: self.token_expires_ms.map(rfc3339),
            last_refreshed_at: self.last_refreshed_ms.map(rfc3339),
            created_at: rfc3339(self.created_ms),
            updated_at: rfc3339(self.updated_ms),
        }
    }
}

/// [`Account::view`]: absent values are `null`, never missing keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView<'a> {
    pub id: Uuid,
    pub x_user_id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub label: Option<&'a str>,
    pub auth_kind: AuthKind,
    pub scopes: Vec<&'a str>,
    pub status: AccountStatus,
    pub paused: bool,
    pub last_error: Option<&'a str>,
    pub last_error_at: Option<String>,
    pub timezone: &'a str,
    pub posting_slots: &'a Value,
    pub daily_post_cap: Option<i64>,
    pub connected_by: Option<Uuid>,
    pub token_expires_at: Option<String>,
    pub last_refreshed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn states_keep_their_stored_names_in_rust_and_on_the_wire() {
        for status in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(status.as_str()), Some(status));
            assert_eq!(json!(status), json!(status.as_str()), "{status}");
        }
        assert_eq!(AccountStatus::NeedsReauth.as_str(), "needs_reauth");
        assert_eq!(AccountStatus::parse("gone"), None);
        for kind in [AuthKind::OAuth2, AuthKind::OAuth1] {
            assert_eq!(AuthKind::parse(kind.as_str()), Some(kind));
            assert_eq!(json!(kind), json!(kind.as_str()), "{kind}");
        }
        assert_eq!(AuthKind::parse("OAuth2"), None);
    }

    #[test]
    fn a_stored_state_outside_the_type_does_not_decode() {
        let stored = |s: &str| DbValue::Str(s.into());
        assert_eq!(
            AccountStatus::from_value(&stored("paused")),
            Some(AccountStatus::Paused)
        );
        assert!(AccountStatus::from_value(&stored("deleted")).is_none());
        assert!(AuthKind::from_value(&DbValue::DbNull).is_none());
    }

    #[test]
    fn the_view_has_every_key_of_the_stored_list_item_with_nulls_for_absent_values() {
        let account = Account {
            id: Uuid::nil(),
            workspace_id: Uuid::nil(),
            x_user_id: "42".into(),
            username: "ann".into(),
            display_name: "Ann".into(),
            label: None,
            auth_kind: AuthKind::OAuth2,
            scopes: "tweet.read tweet.write".into(),
            status: AccountStatus::Paused,
            last_error: None,
            timezone: "UTC".into(),
            posting_slots: json!([]),
            daily_post_cap: None,
            connected_by: None,
            token_expires_ms: Some(0),
            last_refreshed_ms: None,
            last_error_ms: None,
            created_ms: 0,
            updated_ms: 0,
        };
        let view = serde_json::to_value(account.view()).unwrap();
        assert_eq!(
            view,
            json!({
                "id": "00000000-0000-0000-0000-000000000000", "xUserId": "42",
                "username": "ann", "displayName": "Ann", "label": null, "authKind": "oauth2",
                "scopes": ["tweet.read", "tweet.write"], "status": "paused", "paused": true,
                "lastError": null, "lastErrorAt": null, "timezone": "UTC", "postingSlots": [],
                "dailyPostCap": null, "connectedBy": null,
                "tokenExpiresAt": "1970-01-01T00:00:00.000Z", "lastRefreshedAt": null,
                "createdAt": "1970-01-01T00:00:00.000Z", "updatedAt": "1970-01-01T00:00:00.000Z",
            })
        );
    }
}
