//! The OAuth 2.0 `state` of a connect flow: kept in key-value for 10 minutes with its PKCE
//! verifier, bound to the user and workspace that started it, and single-use — two callbacks
//! racing with the same state cannot both win, because taking it is a compare-and-swap.

use crate::config::Secret;
use crate::error::AppError;
use crate::kv::{Kv, Swap};
use serde::{Deserialize, Serialize};

/// How long a started connect flow stays valid.
pub const TTL_MS: i64 = 10 * 60 * 1000;
const NAMESPACE: &str = "oauth-state";
const TAKEN: &[u8] = b"taken";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    pub user_id: String,
    pub workspace_id: String,
    pub verifier: String,
    pub redirect_uri: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// Why a state was refused; all of them answer the same to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Replayed,
    WrongUser,
}

/// Pure check of a stored state against the caller and the clock.
pub fn check(p: &Pending, user_id: &str, workspace_id: &str, now_ms: i64) -> Result<(), Refusal> {
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

pub fn save(kv: &Kv, state: &str, pending: &Pending) -> Result<(), AppError> {
    let bytes = serde_json::to_vec(pending).map_err(AppError::internal)?;
    kv.set_raw(&format!("{NAMESPACE}:{state}"), &bytes)
}

/// Takes a state exactly once. Expired, replayed or unknown states are refused. The winner is
/// the caller whose compare-and-swap replaced the pending value itself; the key is then
/// deleted, so a replay finds nothing. The caller checks who the state is bound to
/// ([`check`]): the callback arrives from the user's browser, usually without our token.
pub fn take(kv: &Kv, state: &str, now_ms: i64) -> Result<Pending, Refusal> {
    let well_formed = state.len() == 64 && state.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(Refusal::Unknown);
    }
    let key = format!("{NAMESPACE}:{state}");
    if kv.get_raw(&key).map_err(|_| Refusal::Unknown)?.is_none() {
        return Err(Refusal::Unknown);
    }
    let mut found: Option<Pending> = None;
    let swapped = kv
        .compare_and_swap(&key, |current| {
            found = current
                .as_deref()
                .filter(|b| *b != TAKEN)
                .and_then(|b| serde_json::from_slice(b).ok());
            TAKEN.to_vec()
        })
        .map_err(|_| Refusal::Unknown)?;
    let (Some(pending), Swap::Done) = (found, swapped) else {
        return Err(Refusal::Replayed);
    };
    // Best effort: a leftover marker is refused as a replay anyway.
    let _ = kv.delete(&key);
    if now_ms >= pending.expires_at {
        return Err(Refusal::Expired);
    }
    Ok(pending)
}

impl Pending {
    pub fn verifier(&self) -> Secret<String> {
        Secret::new(self.verifier.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Pending {
        Pending {
            user_id: "u1".into(),
            workspace_id: "w1".into(),
            verifier: "v".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            expires_at: 1_000 + TTL_MS,
        }
    }

    #[test]
    fn a_state_is_valid_only_for_its_user_and_workspace_until_it_expires() {
        let p = pending();
        assert_eq!(check(&p, "u1", "w1", 1_000), Ok(()));
        assert_eq!(check(&p, "u2", "w1", 1_000), Err(Refusal::WrongUser));
        assert_eq!(check(&p, "u1", "w2", 1_000), Err(Refusal::WrongUser));
        assert_eq!(check(&p, "u1", "w1", 1_000 + TTL_MS), Err(Refusal::Expired));
    }

    #[test]
    fn states_are_long_and_unique() {
        let a = new_state().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_state().unwrap());
    }
}
