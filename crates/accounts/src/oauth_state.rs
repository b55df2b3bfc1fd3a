//! The OAuth 2.0 `state` of a connect flow: kept in PostgreSQL (`oauth_states`, migration
//! 0007) for 10 minutes with its PKCE verifier, bound to the user and workspace that started it,
//! and single-use — taking it is one `DELETE ... RETURNING`, so of any number of callbacks
//! racing with the same state exactly one gets it. Key-value compare-and-swap cannot do this on
//! Spin's Redis store (it reports a swap that wrote as a conflict, and a conflict as success).

use common::config::Secret;
use common::db::{Db, Param};
use common::error::AppError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a started connect flow stays valid.
pub const TTL_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub verifier: String,
    pub redirect_uri: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// Why a state was refused; all of them answer the same to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, never issued, or already used (a used state is gone).
    Unknown,
    Expired,
    WrongUser,
}

/// Pure check of a stored state against the caller and the clock.
pub fn check(p: &Pending, user_id: Uuid, workspace_id: Uuid, now_ms: i64) -> Result<(), Refusal> {
    if now_ms >= p.expires_at {
        return Err(Refusal::Expired);
    }
    if p.user_id != user_id || p.workspace_id != workspace_id {
        return Err(Refusal::WrongUser);
    }
    Ok(())
}

/// A state is 32 random bytes, URL-safe.
pub fn new_state() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The stored key of a state: its SHA-256, so the table alone cannot finish a flow.
pub fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Stores a started flow, purging expired ones in the same statement (abandoned flows never
/// reach a callback, so nothing else would remove them).
pub fn save(db: &Db, state: &str, pending: &Pending, now_ms: i64) -> Result<(), AppError> {
    db.execute(
        "WITH purged AS (DELETE FROM oauth_states WHERE expires_at_ms <= $6)
         INSERT INTO oauth_states
           (state_hash, user_id, workspace_id, verifier, redirect_uri, expires_at_ms)
         VALUES ($1, $2::uuid, $3::uuid, $4, $5, $7)",
        &[
            Param::Str(state_hash(state)),
            pending.user_id.into(),
            pending.workspace_id.into(),
            Param::Str(pending.verifier.clone()),
            Param::Str(pending.redirect_uri.clone()),
            Param::Int64(now_ms),
            Param::Int64(pending.expires_at),
        ],
    )?;
    Ok(())
}

/// Takes a state exactly once: the row is deleted as it is read, so a replay or a concurrent
/// second callback finds nothing. An expired state is refused (and is gone as well). The
/// caller checks who the state is bound to ([`check`]): the callback arrives from the user's
/// browser, usually without our token. The outer error is the database's (a 503, not a 400).
pub fn take(db: &Db, state: &str, now_ms: i64) -> Result<Result<Pending, Refusal>, AppError> {
    let well_formed = state.len() == 64 && state.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Ok(Err(Refusal::Unknown));
    }
    let taken = db.query_opt(
        "DELETE FROM oauth_states WHERE state_hash = $1
         RETURNING user_id, workspace_id, verifier, redirect_uri, expires_at_ms",
        &[Param::Str(state_hash(state))],
        |row| {
            Ok(Pending {
                user_id: row.get("user_id")?,
                workspace_id: row.get("workspace_id")?,
                verifier: row.get("verifier")?,
                redirect_uri: row.get("redirect_uri")?,
                expires_at: row.get("expires_at_ms")?,
            })
        },
    )?;
    let Some(pending) = taken else {
        return Ok(Err(Refusal::Unknown));
    };
    if now_ms >= pending.expires_at {
        return Ok(Err(Refusal::Expired));
    }
    Ok(Ok(pending))
}

impl Pending {
    pub fn verifier(&self) -> Secret<String> {
        Secret::new(self.verifier.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: Uuid = Uuid::from_u128(1);
    const U2: Uuid = Uuid::from_u128(2);
    const W1: Uuid = Uuid::from_u128(11);
    const W2: Uuid = Uuid::from_u128(12);

    fn pending() -> Pending {
        Pending {
            user_id: U1,
            workspace_id: W1,
            verifier: "v".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            expires_at: 1_000 + TTL_MS,
        }
    }

    #[test]
    fn a_state_is_valid_only_for_its_user_and_workspace_until_it_expires() {
        let p = pending();
        assert_eq!(check(&p, U1, W1, 1_000), Ok(()));
        assert_eq!(check(&p, U2, W1, 1_000), Err(Refusal::WrongUser));
        assert_eq!(check(&p, U1, W2, 1_000), Err(Refusal::WrongUser));
        assert_eq!(check(&p, U1, W1, 1_000 + TTL_MS), Err(Refusal::Expired));
    }

    #[test]
    fn a_state_is_stored_as_its_sha256_in_hex() {
        let hash = state_hash("abc");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn states_are_long_and_unique() {
        let a = new_state().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_state().unwrap());
    }
}
